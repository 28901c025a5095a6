import Foundation
import KeyturnTestSupport
import Shamir
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Scripts/test runs these tests with KEYTURN_BIN set to the binary Scripts/install builds
/// (`swift build -c release --static-swift-stdlib`); a bare `swift test` runs the debug build.
let testingShippedBinary = !(ProcessInfo.processInfo.environment["KEYTURN_BIN"] ?? "").isEmpty

@Suite("the binary under test is the one users install")
struct ShippedBinaryTests {
    @Test(
        """
        KEYTURN_BIN is a release build with the Swift runtime linked in: no test hooks, no Swift library from the \
        toolchain
        """,
        .enabled(if: testingShippedBinary, "KEYTURN_BIN is not set: this run tests the debug build"))
    func releaseBuildUnderTest() async throws {
        let binary = try #require(readBytes(Keyturn.path), "cannot read \(Keyturn.path)")
        // The debug build's memory-scan hook (#if DEBUG) names this variable; a release build has none.
        #expect(!binary.contains(Array("KEYTURN_DEBUG_SCAN_STAGE".utf8)), "\(Keyturn.path) is a debug build")
        let ldd = try await Processes.launch(try #require(Processes.which("ldd")), [Keyturn.path])
        #expect(ldd.status == 0, "\(ldd.stderr)")
        #expect(!ldd.stdoutText.contains("libswift") && !ldd.stdoutText.contains("libFoundation"), "\(ldd.stdoutText)")
        let version = try await Keyturn.launch(["--version"])
        #expect(version.status == 0)
    }

    @Test("keyturn --version prints the version written in Keyturn.swift and the commit it was built from")
    func versionNamesCommit() async throws {
        let root = repositoryRoot.path
        let source = String(
            decoding: try #require(readBytes(root + "/Sources/KeyturnCLI/Keyturn.swift")), as: UTF8.self)
        let version = try #require(
            source.split(separator: "\n").first { $0.contains("static let version = ") }?.split(separator: "\"")
                .dropFirst().first.map(String.init))
        let git = try await Processes.launch(
            try #require(Processes.which("git")),
            ["-C", root, "describe", "--always", "--dirty=-modified", "--abbrev=12", "--exclude=*"])
        let commit = git.status == 0 ? git.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) : "unknown commit"
        let r = try await Keyturn.launch(["--version"])
        #expect(r.status == 0 && r.stdoutText == "\(version) (\(commit))\n", "\(r.stdoutText)")
    }

    @Test(
        """
        rekey and generate-root commands given every node's address on a three-node cluster exit with keyturn's \
        own codes
        """
    )
    func quorumCommandsWithEveryAddress() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
        let token = try #require(cluster.rootToken)
        let dir = try TemporaryDirectory()
        let share = try writeShareFiles(dir, hex: keys).hex[0]
        // A follower first: keyturn must find the active node among them.
        let all = [cluster.addresses[1], cluster.addresses[2], cluster.addresses[0]].flatMap { ["-a", $0] }
        func run(_ arguments: [String], token: String? = nil) async throws -> ProcessResult {
            let r = try await Keyturn.launch(arguments, environment: token.map { ["BAO_TOKEN": $0] } ?? [:])
            // 132 (SIGILL), 134, 139: a trap or crash, never one of keyturn's codes.
            #expect(r.status < 128, "keyturn \(arguments.joined(separator: " ")) crashed (\(r.status)): \(r.stderr)")
            return r
        }
        // Without a token OpenBao 2.7.2 offers neither API: keyturn says so, naming the active node.
        var r = try await run(["rekey", "status"] + all)
        expectOneLineError(
            r, status: 2, mentioning: "\(cluster.addresses[0]) offers no rekey that keyturn can use without a token")
        r = try await run(["generate-root", "status"] + all)
        expectOneLineError(r, status: 2, mentioning: "offers no generate-root that keyturn can use without a token")
        r = try await run(["rekey", "submit", "--nonce", "n", "--yes", share] + all)
        expectOneLineError(r, status: 2, mentioning: "without a token")
        // With a token: the authenticated API on the active node.
        r = try await run(["rekey", "status", "--format", "json"] + all, token: token)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try jsonObject(r)["address"] as? String == cluster.addresses[0], "\(r.stdoutText)")
        r = try await run(["rekey", "submit", "--nonce", "not-running", "--yes", share] + all, token: token)
        expectOneLineError(r, status: 2, mentioning: "no rekey is running on \(cluster.addresses[0]); nothing was sent")
        r = try await run(["generate-root", "status"] + all, token: token)
        #expect(r.status == 0 || r.status == 2, "\(r.stderr)")
    }
}

/// The release binary's memory, read from outside: `gcore` of a running `keyturn unseal`
/// (root may ptrace a non-dumpable process), searched for every form of the share.
@Suite("the release binary leaves no copy of a share in memory after unseal (gcore of the running process)")
struct ReleaseMemoryTests {
    /// Runs of 12 or more bytes of `share` (raw, hex, base64) in the core file, per form.
    static func runs(of share: [UInt8], inCore core: String) async throws -> [String: Int] {
        let script = """
            import base64, sys
            share = bytes.fromhex(sys.stdin.read().strip())
            core = open(sys.argv[1], "rb").read()
            forms = {"raw": share, "hex": share.hex().encode(), "base64": base64.b64encode(share)}
            for name, needle in forms.items():
                found = sum(1 for i in range(len(needle) - 11) if core.find(needle[i:i + 12]) >= 0)
                print(name, found)
            """
        let r = try await Processes.launch(
            try #require(Processes.which("python3")), ["-c", script, core], stdin: Array(ShareHex.encode(share).utf8))
        #expect(r.status == 0, "\(r.stderr)")
        var found: [String: Int] = [:]
        for line in r.stdoutText.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2, let n = Int(words[1]) { found[String(words[0])] = n }
        }
        return found
    }

    /// Takes a core of `pid` into `dir`; returns its path.
    static func gcore(_ pid: Int32, into dir: TemporaryDirectory) async throws -> String {
        // Every private and shared anonymous mapping, and file-backed ones written to.
        try? "0x3f".write(toFile: "/proc/\(pid)/coredump_filter", atomically: false, encoding: .utf8)
        let gcore = try #require(Processes.which("gcore"), "gcore (gdb) is missing; Scripts/test installs it")
        let r = try await Processes.launch(gcore, ["-o", dir.file("core"), String(pid)])
        let path = dir.file("core.\(pid)")
        #expect(FileManager.default.fileExists(atPath: path), "gcore failed: \(r.stdoutText) \(r.stderr)")
        return path
    }

    /// Whether some thread of `pid` sleeps in write(2) to its standard output (syscall 1 on
    /// descriptor 1, as /proc/PID/task/TID/syscall shows it).
    static func blockedWritingPipe(_ pid: Int32) -> Bool {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        return tasks.contains {
            String(decoding: readBytes("/proc/\(pid)/task/\($0)/syscall") ?? [], as: UTF8.self).hasPrefix("1 0x1 ")
        }
    }

    @Test(
        """
        gcore finds the share while unseal waits on a node, and no run of 12 of its bytes once unseal is printing \
        its report
        """,
        .enabled(if: getuid() == 0, "gcore of a non-dumpable process needs root"))
    func noShareAfterUse() async throws {
        let dir = try TemporaryDirectory()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (status, json) = try await server.call("PUT", "sys/init", ["secret_shares": 3, "secret_threshold": 3])
        #expect(status == 200)
        let hex = try #require((json["keys"] as? [String])?.first)
        let share = try #require(ShareHex.decode(hex))
        let file = try dir.write("k.key", text: hex + "\n")

        // Control: while the share is held (a silent node has it in flight), the scan finds it.
        let stub = try StubServer("silent")
        async let held = Keyturn.launch(["unseal", "-a", stub.address, "--timeout", "30", file])
        var pid: Int32? = nil
        for _ in 0..<100 where pid == nil {
            pid = processCommandLines().first { $0.text.contains("unseal -a \(stub.address)") }.flatMap {
                Int32($0.pid)
            }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        // Past reading the share: the request is on its way to the node.
        try await Task.sleep(nanoseconds: 1_500_000_000)
        let heldCore = try await Self.gcore(try #require(pid, "keyturn unseal did not start"), into: dir)
        let whileHeld = try await Self.runs(of: share, inCore: heldCore)
        #expect(
            (whileHeld["raw"] ?? 0) + (whileHeld["hex"] ?? 0) > 0,
            "the scan did not find the share while it was held: \(whileHeld)")
        try FileManager.default.removeItem(atPath: heldCore)
        kill(pid!, SIGKILL)
        _ = try await held

        // The real node: keyturn's report goes to a pipe that is already full, so keyturn
        // stops at its first write, after the share was sent and released.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let flags = fcntl(fds[1], F_GETFL)
        _ = fcntl(fds[1], F_SETFL, flags | O_NONBLOCK)
        let filler = [UInt8](repeating: 0x2e, count: 4096)
        while filler.withUnsafeBytes({ write(fds[1], $0.baseAddress, $0.count) }) > 0 {}
        _ = fcntl(fds[1], F_SETFL, flags)
        let process = try ChildProcess(
            Keyturn.path, ["unseal", "-a", server.address, file],
            environment: ProcessInfo.processInfo.environment.filter {
                !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_")
            }, stdout: .descriptor(fds[1]))
        close(fds[1])
        let deadline = Date().addingTimeInterval(60)
        while !Self.blockedWritingPipe(process.processIdentifier) && process.isRunning && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(Self.blockedWritingPipe(process.processIdentifier), "keyturn never blocked on its report")
        #expect(try await server.sealStatus()["progress"] as? Int == 1, "the node did not take the share")
        let afterCore = try await Self.gcore(process.processIdentifier, into: dir)
        let after = try await Self.runs(of: share, inCore: afterCore)
        for form in ["raw", "hex", "base64"] {
            #expect(after[form] == 0, "\(form) of the share is still in the release binary's memory: \(after)")
        }
        // Let keyturn finish: drain its report.
        var buffer = [UInt8](repeating: 0, count: 65536)
        while buffer.withUnsafeMutableBytes({ read(fds[0], $0.baseAddress, $0.count) }) > 0 {}
        close(fds[0])
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        withExtendedLifetime(stub) {}
    }
}
