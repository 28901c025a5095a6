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
        return [
            "KEYTURN_DEBUG_SCAN_STAGE": "held,after", "KEYTURN_DEBUG_SCAN_MASK": "a5",
            "KEYTURN_DEBUG_SCAN_NEEDLES": needles.joined(separator: ","),
        ]
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

/// The scan hook is compiled into debug builds only (`#if DEBUG`), so these run the test
/// build's debug `keyturn` whatever KEYTURN_BIN says; ReleaseMemoryTests shows the same of the
/// release binary from outside, with gcore.
@Suite("no copy of a share is left in keyturn's memory after unseal (test build's memory scan)")
struct MemoryScanTests {
    enum Input: String, CaseIterable, Sendable {
        case hexFile = "hex file, plain HTTP"
        case base64Stdin = "base64 on standard input"
        case pgpFile = "PGP-encrypted file decrypted by GPGME"
        case tls = "hex file over TLS"
        case terminal = "typed at the prompt on a terminal"
    }

    @Test(
        """
        the scan finds the share while it is held, and no run of 12 or more of its bytes (raw, hex or base64) \
        once unseal is done
        """,
        arguments: Input.allCases)
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
            arguments += [
                try dir.write("alice.key", keys.encrypt(hex, to: alice)), "--passphrase-file",
                try dir.write("pass", text: "alice secret\n"),
            ]
            environment.merge(keys.environment) { $1 }
            gpg = keys
        }
        if let pki { arguments += ["--ca-cert", pki.caCert] }
        let status: Int32, stderr: String
        if input == .terminal {
            // The terminal shows stdout and stderr together.
            let r = try await unsealOnTerminal(
                server.address, typing: hex, environment: environment, binary: Keyturn.debugPath)
            (status, stderr) = (r.status, r.stdoutText)
        } else {
            let r = try await Keyturn.launch(
                arguments, stdin: stdin, environment: environment, binary: Keyturn.debugPath)
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
            #expect(
                report.count("after", i) == 0,
                "\(form) of the share left in memory: \(report.places.joined(separator: "; "))")
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

    /// Starts argv[3:] as a child of this probe (so Yama's ptrace_scope 1, which allows
    /// tracing one's own descendants only, does not decide the answer), waits until the file
    /// argv[1] is not empty (or at once for "-"), then tries what another process of the same
    /// user would: PTRACE_ATTACH (what gcore and gdb do first) and reading /proc/PID/environ.
    /// It then checks that the child is still running, so a refusal is the child's doing and
    /// not "no such process", prints `attach=0|1 environ=0|1 alive=0|1 exit=N` and, with
    /// argv[2] = "wait", waits for the child to end (else kills it).
    static let probeScript = """
        import ctypes, os, signal, sys, time
        signal.alarm(120)
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        ready, then, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
        stdin = os.open(os.environ.get("PROBE_STDIN", "/dev/null"), os.O_RDONLY)
        pid = os.fork()
        if pid == 0:
            os.dup2(stdin, 0)
            os.execv(argv[0], argv)
        while ready != "-" and not (os.path.exists(ready) and os.path.getsize(ready) > 0):
            time.sleep(0.05)
        time.sleep(0.3)
        attach = libc.ptrace(16, pid, None, None) == 0
        if attach:
            os.waitpid(pid, os.WUNTRACED | 0x40000000)
            libc.ptrace(17, pid, None, None)
        try:
            open("/proc/%d/environ" % pid, "rb").read()
            environ = True
        except OSError:
            environ = False
        alive = os.waitpid(pid, os.WNOHANG) == (0, 0)
        if then != "wait":
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        print("attach=%d environ=%d alive=%d exit=%d" % (attach, environ, alive, os.waitstatus_to_exitcode(status)))
        """

    /// What the probe found.
    struct Probe {
        var attach = false, environ = false, alive = false
        var exit: Int? = nil
        init(_ output: String) {
            for word in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
                let parts = word.split(separator: "=")
                guard parts.count == 2, let n = Int(parts[1]) else { continue }
                switch parts[0] {
                case "attach": attach = n == 1
                case "environ": environ = n == 1
                case "alive": alive = n == 1
                case "exit": exit = n
                default: break
                }
            }
        }
    }

    /// Runs the probe as the unprivileged user over `command`.
    static func probe(
        _ command: [String], readyFile: String = "-", then: String, stdinFile: String? = nil
    ) async throws -> (Probe, ProcessResult) {
        // Debian's own Python: the unprivileged user cannot reach one under /root (pyenv).
        let python = "/usr/bin/python3"
        let argv = drop + [python, "-c", probeScript, readyFile, then] + command
        var env = ["PATH": "/usr/bin:/bin", "HOME": "/tmp"]
        if let stdinFile { env["PROBE_STDIN"] = stdinFile }
        let r = try await Processes.launch(argv[0], Array(argv.dropFirst()), environment: env)
        return (Probe(r.stdoutText), r)
    }

    @Test(
        """
        ptrace (gcore's first step) and /proc/PID/environ are refused for a running keyturn unseal holding a \
        share, and allowed for an ordinary process of the same user
        """
    )
    func notDumpable() async throws {
        let dir = try TemporaryDirectory()
        let asked = dir.file("stub-requests")
        let stub = try StubServer("silent", [asked])
        // The unprivileged user must reach the binary and the files here.
        chmod(dir.path, 0o777)
        let share = try dir.write("share", text: String(repeating: "6b", count: 33) + "\n")
        chmod(share, 0o644)
        // And the binary: a clone inside a 0700 directory (`mktemp -d`) hides the build from
        // nobody, so the binary under test runs from a copy here.
        let keyturn = dir.file("keyturn")
        try FileManager.default.copyItem(atPath: Keyturn.path, toPath: keyturn)
        chmod(keyturn, 0o755)

        // Control: an ordinary process of the same user can be traced and read, so the probe
        // can tell; it is still running when probed.
        let (control, controlRun) = try await Self.probe(["/bin/sleep", "20"], then: "kill")
        #expect(
            control.alive && control.attach && control.environ,
            "the probe could not trace or read an ordinary process: \(controlRun.stdoutText) \(controlRun.stderr)")

        // keyturn unseal with a share read from stdin, waiting on a silent node: probed once
        // the node has been asked for its state (past reading the share, and so past making
        // itself undumpable, which comes first), and still running afterwards.
        let (probed, run) = try await Self.probe(
            [keyturn, "unseal", "-a", stub.address, "--timeout", "20", "-"],
            readyFile: asked, then: "wait", stdinFile: share)
        #expect(
            probed.alive,
            "keyturn had ended before the probe finished, so a refusal proves nothing: \(run.stdoutText) \(run.stderr)")
        #expect(!probed.attach, "another process of keyturn's user could ptrace it (and so dump it with gcore)")
        #expect(!probed.environ, "another process of keyturn's user read its /proc/PID/environ")
        #expect(probed.exit == 2, "\(run.stdoutText) \(run.stderr)")
        withExtendedLifetime(stub) {}
    }
}
