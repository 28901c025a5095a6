import Foundation
import KeyturnTestSupport
import Shamir
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the test build's memory scan (`KEYTURN_DEBUG_SCAN_*`, see SecretHygiene.debugScan)
/// reported: runs found per stage ("held", "after") and per form of the share.
struct MemoryScanReport {
    /// The forms searched, in the order they are passed.
    static let forms = ["raw bytes", "hex", "base64"]
    /// runs[stage][form]
    var runs: [String: [Int: Int]] = [:]
    /// Where the runs were, for messages.
    var places: [String] = []

    /// The environment that asks keyturn to scan for `share` (masked, so the variable does
    /// not hold it) at both stages.
    static func environment(for share: [UInt8]) -> [String: String] {
        let mask: UInt8 = 0xa5
        let hex = Array(share.map { String(format: "%02x", $0) }.joined().utf8)
        let base64 = Array(Data(share).base64EncodedString().utf8)
        let needles = [share, hex, base64].map { form in form.map { String(format: "%02x", $0 ^ mask) }.joined() }
        return ["KEYTURN_DEBUG_SCAN_STAGE": "held,after", "KEYTURN_DEBUG_SCAN_MASK": "a5",
                "KEYTURN_DEBUG_SCAN_NEEDLES": needles.joined(separator: ",")]
    }

    init(_ stderr: String) {
        for line in stderr.split(whereSeparator: \.isNewline) where line.hasPrefix("keyturn-debug:") {
            let words = line.split(separator: " ")
            // "keyturn-debug: scan STAGE needle I: N runs"
            if words.count >= 6, words[1] == "scan", let i = Int(words[4].dropLast()), let n = Int(words[5]) {
                runs[String(words[2]), default: [:]][i] = n
            } else {
                places.append(String(line))
            }
        }
    }

    func count(_ stage: String, _ form: Int) -> Int? { runs[stage]?[form] }
}

@Suite("no copy of a share is left in keyturn's memory after unseal (test build's memory scan)")
struct MemoryScanTests {
    enum Input: String, CaseIterable, Sendable {
        case hexFile = "hex file, plain HTTP"
        case base64Stdin = "base64 on standard input"
        case pgpFile = "PGP-encrypted file decrypted by GPGME"
        case tls = "hex file over TLS"
        case terminal = "typed at the prompt on a terminal"
    }

    @Test("the scan finds the share while it is held, and no run of 12 or more of its bytes (raw, hex or base64) once unseal is done", arguments: Input.allCases)
    func shareGoneAfterUse(_ input: Input) async throws {
        let pki = input == .tls ? try TestPKI() : nil
        let server = try await OpenBaoServer.start(.init(tlsCertFile: pki?.serverCert, tlsKeyFile: pki?.serverKey))
        defer { server.stop() }
        if let pki { server.curlTLSArguments = ["--cacert", pki.caCert] }
        let (initStatus, json) = try await server.call("PUT", "sys/init", ["secret_shares": 3, "secret_threshold": 3])
        #expect(initStatus == 200)
        let hex = try #require((json["keys"] as? [String])?.first)
        let share = try #require(ShareHex.decode(hex))
        let dir = try TemporaryDirectory()
        var arguments = ["unseal", "-a", server.address]
        var stdin: [UInt8]? = nil
        var environment = MemoryScanReport.environment(for: share)
        var gpg: TestGPG? = nil
        switch input {
        case .terminal:
            break
        case .hexFile, .tls:
            arguments.append(try dir.write("k.key", text: hex + "\n"))
        case .base64Stdin:
            arguments.append("-")
            stdin = Array((Data(share).base64EncodedString() + "\n").utf8)
        case .pgpFile:
            let keys = try TestGPG()
            let alice = try keys.makeKey("alice", passphrase: "alice secret")
            arguments += [try dir.write("alice.key", keys.encrypt(hex, to: alice)), "--passphrase-file", try dir.write("pass", text: "alice secret\n")]
            environment.merge(keys.environment) { $1 }
            gpg = keys
        }
        if let pki { arguments += ["--ca-cert", pki.caCert] }
        let status: Int32, stderr: String
        if input == .terminal {
            // The terminal shows stdout and stderr together.
            let r = try await unsealOnTerminal(server.address, typing: hex, environment: environment)
            (status, stderr) = (r.status, r.stdoutText)
        } else {
            let r = try await Keyturn.launch(arguments, stdin: stdin, environment: environment)
            (status, stderr) = (r.status, r.stderr)
        }
        #expect(status == 0, "\(stderr)")
        #expect(try await server.sealStatus()["progress"] as? Int == 1)
        // libcurl and OpenSSL both took the allocators that wipe on free.
        #expect(stderr.contains("keyturn-debug: wiping allocators: 3"), "\(stderr)")
        let report = MemoryScanReport(stderr)
        // The scan can fail: while keyturn holds the share, it finds it.
        #expect((report.count("held", 0) ?? 0) >= 1, "the scan did not find the share while it was held: \(stderr)")
        for (i, form) in MemoryScanReport.forms.enumerated() {
            #expect(report.count("after", i) == 0, "\(form) of the share left in memory: \(report.places.joined(separator: "; "))")
        }
        withExtendedLifetime(gpg) {}
    }
}

@Suite("a running unseal cannot be dumped or read by another process of its user")
struct DumpabilityTests {
    /// Runs as an unprivileged user: nobody when the tests run as root (root may ptrace
    /// anything), else the tests' own user.
    static var drop: [String] {
        getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
    }

    /// `command` run as the unprivileged user, through `env` so PATH lookups work.
    static func asUser(_ command: [String]) async throws -> ProcessResult {
        let argv = drop + command
        return try await Processes.launch(argv[0], Array(argv.dropFirst()), environment: ["PATH": "/usr/bin:/bin", "HOME": "/tmp"])
    }

    /// The pid of the process whose command line contains `marker`.
    static func pid(of marker: String) async throws -> String? {
        for _ in 0..<50 {
            if let found = processCommandLines().first(where: { $0.text.contains(marker) && !$0.text.contains("setpriv") }) {
                return found.pid
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return nil
    }

    /// What another process of the same user can do to `pid`: read its environment, and take
    /// a core with gcore (written under `dir`).
    static func probe(_ pid: String, _ dir: TemporaryDirectory) async throws -> (environ: Bool, core: Bool) {
        let environ = try await asUser(["/usr/bin/python3", "-c", "open('/proc/\(pid)/environ','rb').read()"]).status == 0
        let gcore = try #require(Processes.which("gcore"), "gcore (gdb) is missing; Scripts/test installs it")
        _ = try await asUser([gcore, "-o", dir.file("core"), pid])
        let core = FileManager.default.fileExists(atPath: dir.file("core.\(pid)"))
        return (environ, core)
    }

    @Test("gcore and /proc/PID/environ are refused for keyturn unseal holding a share, and allowed for an ordinary process of the same user")
    func notDumpable() async throws {
        let dir = try TemporaryDirectory()
        let asked = dir.file("stub-requests")
        let stub = try StubServer("silent", [asked])
        // The unprivileged user must reach the binary and write cores here.
        chmod(dir.path, 0o777)
        let binary = dir.file("keyturn")
        // Without debug information: gdb then has little to load (less load on the suite).
        let strip = try await Processes.launch(Processes.which("strip") ?? "/usr/bin/strip", ["--strip-debug", "-o", binary, Keyturn.path])
        #expect(strip.status == 0, "\(strip.stderr)")
        chmod(binary, 0o755)

        // An ordinary process of the same user: the probe can succeed.
        // (sleep adds up its arguments: the second one only makes its command line unique.)
        let marker = "sleep 20 0.\(Int.random(in: 100_000...999_999))"
        async let sleeper = Self.asUser(["/bin/" + marker].joined().split(separator: " ").map(String.init))
        let sleepPID = try #require(try await Self.pid(of: marker))
        let control = try await Self.probe(sleepPID, dir)
        kill(pid_t(sleepPID)!, SIGKILL)
        _ = try await sleeper
        // Yama's ptrace_scope >= 1 (Ubuntu's default) stops gcore on any non-child: then only
        // /proc/PID/environ tells anything here.
        let yama = readBytes("/proc/sys/kernel/yama/ptrace_scope").map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        let gcoreCanWork = yama == nil || yama == "0"
        #expect(control.environ, "the probe could not read an ordinary process's environ: the check would prove nothing")
        if gcoreCanWork { #expect(control.core, "gcore could not dump an ordinary process: the check would prove nothing") }

        // keyturn unseal with a share read from stdin, waiting on a silent node.
        let share = Array((String(repeating: "6b", count: 33) + "\n").utf8)
        let argv = Self.drop + [binary, "unseal", "-a", stub.address, "--timeout", "8", "-"]
        async let running = Processes.launch(argv[0], Array(argv.dropFirst()), stdin: share, environment: ["PATH": "/usr/bin:/bin"])
        let keyturnPID = try #require(try await Self.pid(of: "\(binary) unseal -a \(stub.address)"))
        // Past reading the share (and so past making itself undumpable, which comes first):
        // the node has been asked for its state.
        let deadline = Date().addingTimeInterval(30)
        while (readBytes(asked) ?? []).isEmpty && Date() < deadline { try await Task.sleep(nanoseconds: 50_000_000) }
        #expect(!(readBytes(asked) ?? []).isEmpty, "keyturn never reached the node")
        let probed = try await Self.probe(keyturnPID, dir)
        #expect(!probed.environ, "another process of keyturn's user read its /proc/PID/environ")
        #expect(!probed.core, "gcore took a core of keyturn unseal")
        #expect(try await running.status == 2)
        #expect(!dir.listing().contains { $0.hasPrefix("core.\(keyturnPID)") })
        withExtendedLifetime(stub) {}
    }
}
