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
        let process = Process()
        let keyturn = [Keyturn.path, "init", "-a", stub.address, "--timeout", "90"] + args
        if blockedByParent {
            process.executableURL = URL(fileURLWithPath: try #require(Processes.which("python3")))
            process.arguments =
                [
                    "-c",
                    "import os, signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT, "
                        + "signal.SIGTERM, signal.SIGHUP]); os.execv(sys.argv[1], sys.argv[1:])",
                ] + keyturn
        } else {
            process.executableURL = URL(fileURLWithPath: keyturn[0])
            process.arguments = Array(keyturn.dropFirst())
        }
        process.environment = cleanEnvironment(environment)
        _ = FileManager.default.createFile(atPath: dir.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: dir.file("err"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: dir.file("out"))
        process.standardError = FileHandle(forWritingAtPath: dir.file("err"))
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: body) && Date() < deadline {
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        #expect(FileManager.default.fileExists(atPath: body), "the init request never arrived")
        kill(process.processIdentifier, signal)
        kill(process.processIdentifier, signal)
        try await Task.sleep(nanoseconds: 200_000_000)
        _ = FileManager.default.createFile(atPath: release, contents: nil)
        while process.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Keyturn.path)
        process.arguments = ["unseal", "--wait", "300", "-a", ready.address, "-a", never.address, share]
        process.environment = cleanEnvironment([:])
        _ = FileManager.default.createFile(atPath: dir.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: dir.file("err"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: dir.file("out"))
        process.standardError = FileHandle(forWritingAtPath: dir.file("err"))
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        try await ready.waitUntil(timeout: 120) { try await $0.sealStatus()["progress"] as? Int == 1 }
        kill(process.processIdentifier, SIGINT)
        while process.isRunning { try await Task.sleep(nanoseconds: 50_000_000) }
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

@Suite("the ceremony transcript (--transcript)")
struct TranscriptTests {
    @Test(
        """
        every command of a ceremony appends JSON lines with the documented fields to one 0600 file; no form of any \
        share, \
        OTP or token is in it
        """
    )
    func ceremonyTranscript() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start(.init(listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints))
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let log = dir.file("ceremony.log")
        let env = gpg.environment
        let keys = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")
        let t = ["--transcript", log]
        func run(_ args: [String], stdin: [UInt8]? = nil) async throws -> ProcessResult {
            try await Keyturn.launch(args + t, stdin: stdin, environment: env)
        }
        var r = try await run([
            "init", "-a", server.address, "--timeout", "60", "--pgp-keys", keys, "--key-threshold", "2",
            "--client-side-encryption", "--out-dir", dir.file("gen1"),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: log)[.posixPermissions] as? Int == 0o600)
        r = try await run(["verify", dir.file("gen1/bob.asc.key")])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await run(["status", "-a", server.address])
        for who in ["bob", "carol"] {
            r = try await run(["unseal", "-a", server.address, dir.file("gen1/\(who).asc.key")])
            #expect(r.status == 0, "\(r.stderr)")
        }
        // A failure is recorded too.
        r = try await run(["unseal", "-a", server.address, dir.file("no-such.key")])
        #expect(r.status == 1)
        r = try await run([
            "generate-root", "start", "-a", server.address, "--out-dir", dir.file("gr"), "--format", "json",
        ])
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        for who in ["bob", "carol"] {
            r = try await run([
                "generate-root", "submit", "-a", server.address, "--nonce", nonce, dir.file("gen1/\(who).asc.key"),
                "--yes", "--out-dir", dir.file("gr"),
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        r = try await run([
            "generate-root", "decode", "--otp-file", dir.file("gr/generate-root.otp"),
            dir.file("gr/generate-root.encoded"),
        ])
        let token = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("s."))
        r = try await run(
            ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("split"), "-"],
            stdin: Array(token.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        r = try await run(["combine", dir.file("split/share-1.share"), dir.file("split/share-3.share")])
        #expect(r.stdoutText == token)

        let text = String(decoding: readBytes(log) ?? [], as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count >= 12, "\(text)")
        var commands = Set<String>()
        for line in lines {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            for field in ["time", "version", "command", "result"] {
                #expect(obj[field] is String, "\(field) missing in \(line)")
            }
            commands.insert(obj["command"] as? String ?? "")
        }
        #expect(
            commands.isSuperset(of: [
                "init", "verify", "status", "unseal", "generate-root start", "generate-root submit",
                "generate-root decode", "split", "combine",
            ]), "\(commands)")
        let unseal = lines.first { $0.contains("\"command\":\"unseal\"") && $0.contains("accepted") } ?? ""
        #expect(
            unseal.contains(server.address) && unseal.contains("\"progress\":\"1/2\"")
                && unseal.contains("\"share_file_sha256\""), "\(unseal)")
        #expect(
            unseal.contains("\"key_fingerprint\":\"\(bob.fingerprint)\"") || unseal.contains(carol.fingerprint),
            "\(unseal)")
        #expect(lines.contains { $0.contains("\"result\":\"failed\"") && $0.contains("no-such.key does not exist") })

        // No form of any secret: the shares (decrypted from their files), the OTP, both tokens.
        var secrets = [
            token,
            String(decoding: readBytes(dir.file("gr/generate-root.otp")) ?? [], as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines),
        ]
        for who in ["bob", "carol"] {
            let hex = try gpg.gpg(["--decrypt", dir.file("gen1/\(who).asc.key")]).stdoutText.trimmingCharacters(
                in: .whitespacesAndNewlines)
            secrets += [hex, hex.uppercased(), Data(try #require(hexBytes(hex))).base64EncodedString()]
        }
        for split in ["share-1.share", "share-2.share", "share-3.share"] {
            secrets.append(
                String(decoding: readBytes(dir.file("split/\(split)")) ?? [], as: UTF8.self).trimmingCharacters(
                    in: .whitespacesAndNewlines))
        }
        for s in secrets where s.count >= 16 { #expect(!text.contains(s), "a secret is in the transcript") }

        // A transcript others can read is refused before anything happens.
        let loose = try dir.write("loose.log", text: "", mode: 0o644)
        r = try await Keyturn.launch(["status", "-a", server.address, "--transcript", loose])
        expectOneLineError(r, mentioning: "readable by group or others")
    }
}

@Suite("seal migration on a three-node raft cluster (OpenBao's static seal standing in for a KMS)")
struct SealMigrationTests {
    @Test(
        """
        Shamir -> static with unseal --migrate on every node (status shows migration); a restart then unseals by \
        itself; static -> Shamir; the shares unseal it again
        """
    )
    func migrateBothWays() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let all = cluster.addresses.flatMap { ["-a", $0] }
        let sealKey = OpenBaoServer.Options.newStaticSealKey()

        func migrate(to seal: String?) async throws {
            // Followers first, the leader last.
            for node in cluster.nodes.reversed() { try await node.restart(seal: seal) }
            var r = try await Keyturn.launch(["status"] + all + ["--format", "json"])
            #expect(r.status == 2)
            for node in try statusNodes(r) { #expect(node["migration"] as? Bool == true, "\(node)") }
            r = try await Keyturn.launch(["status"] + all)
            #expect(r.stdoutText.contains("true, migration"), "\(r.stdoutText)")
            async let a = Keyturn.launch(["unseal", "--migrate", "--wait", "300"] + all + [files.hex[0]])
            async let b = Keyturn.launch(["unseal", "--migrate", "--wait", "300"] + all + [files.hex[1]])
            let (ra, rb) = try await (a, b)
            #expect(ra.status == 0, "\(ra.stdoutText) \(ra.stderr)")
            #expect(rb.status == 0, "\(rb.stdoutText) \(rb.stderr)")
            r = try await Keyturn.launch(["status", "--wait", "240"] + all)
            #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        }

        try await migrate(to: OpenBaoServer.Options.staticSeal(key: sealKey))
        var r = try await Keyturn.launch(["status"] + all + ["--format", "json"])
        for node in try statusNodes(r) {
            #expect(node["type"] as? String == "static" && node["migration"] as? Bool == false, "\(node)")
        }
        // Auto-unseal now: a restart needs no operator.
        for node in cluster.nodes { try await node.restart() }
        r = try await Keyturn.launch(["status", "--wait", "240"] + all)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")

        // Back to Shamir: the seal stanza marked disabled, the shares (recovery keys meanwhile) migrate it.
        try await migrate(to: OpenBaoServer.Options.staticSeal(key: sealKey, disabled: true))
        for node in cluster.nodes.reversed() { try await node.restart(seal: nil) }
        r = try await Keyturn.launch(["status"] + all + ["--format", "json"])
        for node in try statusNodes(r) {
            #expect(node["type"] as? String == "shamir" && node["sealed"] as? Bool == true, "\(node)")
        }
        async let a = Keyturn.launch(["unseal", "--wait", "300"] + all + [files.hex[0]])
        async let b = Keyturn.launch(["unseal", "--wait", "300"] + all + [files.hex[2]])
        let (ra, rb) = try await (a, b)
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr) \(rb.stderr)")
        r = try await Keyturn.launch(["status", "--wait", "240"] + all)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
    }
}
