import Foundation
import KeyturnTestSupport
import Testing

@Suite("one pass per operator: unseal --wait on a brand-new raft cluster")
struct UnsealWaitTests {
    @Test(
        """
        a brand-new three-node cluster: two operators run unseal --wait 120 at the same time, each once; all \
        three nodes end unsealed
        """
    )
    func twoOperatorsOnce() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let (keys, _) = try await cluster.nodes[0].initialize(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let all = cluster.addresses.flatMap { ["-a", $0] }
        async let alice = Keyturn.launch(["unseal", "--wait", "300"] + all + [files.hex[0]])
        async let bob = Keyturn.launch(["unseal", "--wait", "300"] + all + [files.hex[1]])
        let (a, b) = try await (alice, bob)
        #expect(a.status == 0, "\(a.stdoutText) \(a.stderr)")
        #expect(b.status == 0, "\(b.stdoutText) \(b.stderr)")
        let r = try await Keyturn.launch(["status", "--wait", "240"] + all)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
    }

    @Test("too short a wait exits 2 and names the nodes still waiting")
    func tooShort() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let (keys, _) = try await cluster.nodes[0].initialize(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let r = try await Keyturn.launch(
            ["unseal", "--wait", "3"] + cluster.addresses.flatMap { ["-a", $0] } + [files.hex[0]])
        #expect(r.status == 2, "\(r.stdoutText) \(r.stderr)")
        for follower in cluster.addresses.dropFirst() {
            #expect(
                r.stderr.contains("\(follower) is not initialised; still not ready after waiting 3 s"), "\(r.stderr)")
        }
        #expect(!r.stderr.contains("\(cluster.addresses[0]) is not initialised"))
        #expect(try await cluster.nodes[0].sealStatus()["progress"] as? Int == 1, "the leader took the share")
    }
}

@Suite("the operator's own Ctrl-C: the terminal is restored, an answer Vault gives once is never lost")
struct SignalTests {
    @Test("under an interactive sh on a pty, Ctrl-C at the hidden prompt leaves the terminal with echo on (stty -a)")
    func ctrlCAtPrompt() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        _ = try await server.initialize(shares: 3, threshold: 2)
        let script = """
            import os, pty, signal, sys, termios, time
            signal.alarm(60)  # never hang the suite
            pid, fd = pty.fork()
            if pid == 0:
                os.environ["PS1"] = "PROMPT$ "
                os.execv("/bin/sh", ["sh", "-i"])
            def until(marker):
                out = b""
                while marker not in out:
                    out += os.read(fd, 4096)
                return out
            until(b"PROMPT$ ")
            os.write(fd, ("'%s' unseal -a %s\\n" % (sys.argv[1], sys.argv[2])).encode())
            until(b"hidden")
            time.sleep(0.3)
            # The prompt really hides the input (so this test can tell a restored terminal).
            hidden = not (termios.tcgetattr(fd)[3] & termios.ECHO)
            os.write(fd, b"\\x03")
            out = until(b"PROMPT$ ")
            out += b"echo-off-at-prompt=%d\\n" % hidden
            os.write(fd, b"echo exit=$?; stty -a; exit\\n")
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            """
        let r = try await Processes.launch(
            try #require(Processes.which("python3")), ["-c", script, Keyturn.path, server.address])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.contains("echo-off-at-prompt=1"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("exit=130"), "\(r.stdoutText)")
        let stty = r.stdoutText.components(separatedBy: "stty -a").last ?? ""
        let flags = stty.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == ";" }).map(String.init)
        #expect(flags.contains("echo") && !flags.contains("-echo"), "\(stty)")
        #expect(try await server.sealStatus()["progress"] as? Int == 0, "nothing was sent")
    }

    /// Starts keyturn with `args`, sends `signal` (twice: a second Ctrl-C does not cut it short
    /// either) once the stub holds the init request, then lets the stub reply (it waits for
    /// the file `release`: the order holds whatever the machine's load); returns keyturn's exit
    /// status, stdout and stderr. With `blockedByParent`, keyturn starts with SIGINT, SIGTERM
    /// and SIGHUP blocked (a parent's signal mask survives exec).
    func interruptedInit(
        _ args: [String], signal: Int32, stub: StubServer, body: String, release: String,
        environment: [String: String], blockedByParent: Bool = false
    ) async throws -> (Int32, String, String) {
        let dir = try TemporaryDirectory()
        let keyturn = [Keyturn.path, "init", "-a", stub.address, "--timeout", "90"] + args
        let command =
            blockedByParent
            ? [
                try #require(Processes.which("python3")), "-c",
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, "
                    + "signal.SIGTERM, signal.SIGHUP]); os.execv(sys.argv[1], sys.argv[1:])",
            ] + keyturn : keyturn
        let process = try ChildProcess(
            command[0], Array(command.dropFirst()), environment: cleanEnvironment(environment),
            stdout: .file(dir.file("out")), stderr: .file(dir.file("err")))
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: body) && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(FileManager.default.fileExists(atPath: body), "the init request never arrived")
        process.terminate(signal)
        process.terminate(signal)
        try await Task.sleep(nanoseconds: 200_000_000)
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        _ = await process.exited()
        return (
            process.terminationStatus, String(decoding: readBytes(dir.file("out")) ?? [], as: UTF8.self),
            String(decoding: readBytes(dir.file("err")) ?? [], as: UTF8.self)
        )
    }

    @Test(
        """
        Ctrl-C during unseal --wait: the waiting ends, the report says which node took the share, exit 130, \
        nothing written
        """
    )
    func sigintDuringUnsealWait() async throws {
        let ready = try await OpenBaoServer.start()
        defer { ready.stop() }
        let (keys, _) = try await ready.initialize(shares: 3, threshold: 2)
        let never = try await OpenBaoServer.start()  // never initialised: not ready for the share
        defer { never.stop() }
        let dir = try TemporaryDirectory()
        let share = try dir.write("k.key", text: keys[0] + "\n")
        let process = try ChildProcess(
            Keyturn.path, ["unseal", "--wait", "300", "-a", ready.address, "-a", never.address, share],
            environment: cleanEnvironment([:]), stdout: .file(dir.file("out")), stderr: .file(dir.file("err")))
        try await ready.waitUntil(timeout: 120) { try await $0.sealStatus()["progress"] as? Int == 1 }
        process.terminate(SIGINT)
        _ = await process.exited()
        let out = String(decoding: readBytes(dir.file("out")) ?? [], as: UTF8.self),
            err = String(decoding: readBytes(dir.file("err")) ?? [], as: UTF8.self)
        #expect(process.terminationStatus == 130, "\(out) \(err)")
        let row = out.split(separator: "\n").first { $0.hasPrefix(ready.address + " ") } ?? ""
        #expect(row.contains("accepted"), "\(out)")
        #expect(err.contains("interrupted (SIGINT)") && err.contains("nothing was written"), "\(err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["err", "k.key", "out"])
    }

    @Test(
        """
        SIGINT while the node holds its init reply: the share files are still written, then keyturn exits 130 \
        saying it was interrupted
        """
    )
    func sigintDuringInit() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let dir = try TemporaryDirectory()
        let stub = try StubServer("slow-init", [dir.file("body.json"), dir.file("release")])
        let (status, out, err) = try await interruptedInit(
            ["--pgp-keys", alice.armouredFile, "--key-threshold", "1", "--out-dir", dir.file("keys")],
            signal: SIGINT, stub: stub, body: dir.file("body.json"), release: dir.file("release"),
            environment: gpg.environment)
        #expect(status == 130, "\(out) \(err)")
        #expect(err.contains("keyturn: interrupted (SIGINT) while the node's answer was being saved"), "\(err)")
        #expect(out.contains("alice.asc.key"))
        #expect(FileManager.default.fileExists(atPath: dir.file("keys/alice.asc.key")))
        #expect(FileManager.default.fileExists(atPath: dir.file("keys/ceremony.json")))
    }

    @Test(
        """
        SIGHUP (the SSH session drops) while the node holds its init reply, even when started with it blocked: \
        the answer is printed first, then keyturn exits 129
        """
    )
    func sighupDuringInit() async throws {
        let dir = try TemporaryDirectory()
        let stub = try StubServer("slow-init", [dir.file("body.json"), dir.file("release")])
        let (status, out, err) = try await interruptedInit(
            ["--no-pgp", "--key-shares", "1"], signal: SIGHUP, stub: stub, body: dir.file("body.json"),
            release: dir.file("release"),
            environment: [:], blockedByParent: true)
        #expect(status == 129, "\(out) \(err)")
        #expect(out.contains("Unseal Key 1: " + String(repeating: "00", count: 32)))
        #expect(out.contains("Initial Root Token: s.stub"))
        #expect(err.contains("interrupted (SIGHUP)"))
    }
}
