import Foundation
import KeyturnTestSupport
import Testing

@Suite("fuzz regressions")
struct FuzzRegressionTests {
    @Test(
        "every saved fuzz input replays through its target without a crash",
        arguments: ["share-text", "share-file", "shamir-combine", "vault-json", "pem", "pgp-armor"])
    func replay(_ target: String) async throws {
        // A test tool of the test build, not part of what ships: beside the test bundle.
        let fuzz = Keyturn.testBuildDirectory + "/KeyturnFuzz"
        let dir = try #require(
            Bundle.module.url(forResource: "fuzz-regressions", withExtension: nil, subdirectory: "Fixtures")
        ).appendingPathComponent(target).path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).map { "\(dir)/\($0)" }
        #expect(!files.isEmpty)
        let r = try await Processes.launch(fuzz, [target] + files)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.contains("\(files.count) input(s) replayed"))
    }
}

@Suite("the bad-input matrix")
struct BadInputMatrixTests {
    struct Case {
        let name: String
        let args: [String]
        var stdin: [UInt8] = []
        var env: [String: String] = [:]
        let status: Int32
        let fragment: String
    }

    @Test("every bad input the specification names ends in its exit code, one clear line, and no file left behind")
    func matrix() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice", passphrase: "right")
        let bob = try gpg.makeKey("bob")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 3, threshold: 2)
        let stub = try StubServer("garbage")
        let dir = try TemporaryDirectory()
        let work = dir.file("work")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        func file(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
            try dir.write(name, text: text, mode: mode)
        }
        let good = try file("good.key", keys[0] + "\n")
        let forAlice = try dir.write("alice.key", try gpg.encrypt(keys[1], to: alice))
        let forBob = try dir.write("bob.key", try gpg.encrypt(keys[1], to: bob))
        let wrongPass = try file("wrong.pass", "wrong\n")
        let pki = try TestPKI()
        let tls = try await OpenBaoServer.start(.init(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey))
        defer { tls.stop() }
        let otherCA = try TestPKI()
        let strangerHome = try TestGPG()  // a keyring without Bob's key
        _ = try strangerHome.makeKey("mallory")
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let a = server.address
        let split = ["split", "--no-pgp", "--out-dir", "\(work)/shares"]

        let cases: [Case] = [
            Case(
                name: "corrupt share file",
                args: ["unseal", "-a", a, try file("corrupt.key", String(keys[1].dropLast(4)) + "zz!!\n")], status: 1,
                fragment: "does not hold a share"),
            Case(
                name: "empty share file", args: ["unseal", "-a", a, try file("empty.key", "")], status: 1,
                fragment: "holds no share"),
            Case(
                name: "huge share file",
                args: ["unseal", "-a", a, try file("huge.key", String(repeating: "ab", count: 40_000))], status: 1,
                fragment: "too large"),
            Case(
                name: "truncated share",
                args: ["unseal", "-a", a, try file("short.key", String(keys[1].prefix(40)) + "\n")], status: 1,
                fragment: "is 20 bytes, but"),
            Case(
                name: "share of the wrong length", args: ["unseal", "-a", a, try file("long.key", keys[1] + "abab\n")],
                status: 1, fragment: "35 bytes long"),
            Case(
                name: "share on the command line", args: ["unseal", "-a", a, keys[1]], status: 1,
                fragment: "command line"),
            Case(
                name: "share readable by others",
                args: ["unseal", "-a", a, try file("open.key", keys[1] + "\n", mode: 0o644)], status: 1,
                fragment: "readable by group or others"),
            Case(
                name: "wrong PGP key (another operator's share)", args: ["unseal", "-a", a, forBob],
                env: strangerHome.environment, status: 1, fragment: "not for you"),
            Case(
                name: "wrong passphrase", args: ["unseal", "-a", a, forAlice, "--passphrase-file", wrongPass],
                env: gpg.environment, status: 1, fragment: "wrong passphrase"),
            Case(
                name: "garbage instead of a PGP message",
                args: [
                    "unseal", "-a", a,
                    try file("garbage.asc", "-----BEGIN PGP MESSAGE-----\n\nnope\n-----END PGP MESSAGE-----\n"),
                ], env: gpg.environment, status: 1, fragment: "cannot decrypt"),
            Case(name: "duplicate shares", args: ["combine", good, good], status: 1, fragment: "same share"),
            Case(
                name: "shares of different lengths", args: ["combine", good, try file("other.key", keys[1] + "00\n")],
                status: 1, fragment: "lengths differ"),
            Case(name: "one share to combine", args: ["combine", good], status: 1, fragment: "at least two"),
            Case(
                name: "threshold > shares (split)", args: split + ["--threshold", "4", "--shares", "3", "-"],
                stdin: [1], status: 1, fragment: "cannot be larger"),
            Case(
                name: "256 shares", args: split + ["--threshold", "2", "--shares", "256", "-"], stdin: [1], status: 1,
                fragment: "between 1 and 255"),
            Case(
                name: "threshold 1 of several shares", args: split + ["--threshold", "1", "--shares", "3", "-"],
                stdin: [1], status: 1, fragment: "at least 2"),
            Case(
                name: "empty secret", args: split + ["--threshold", "2", "--shares", "3", "-"], stdin: [], status: 1,
                fragment: "is empty"),
            Case(
                name: "threshold > shares (init)",
                args: [
                    "init", "-a", a, "--pgp-keys", alice.armouredFile, "--key-threshold", "2", "--out-dir",
                    "\(work)/init",
                ], env: gpg.environment, status: 1, fragment: "does not fit"),
            Case(
                name: "the same PGP key twice",
                args: [
                    "init", "-a", a, "--pgp-keys", "\(alice.armouredFile),\(alice.armouredFile)", "--out-dir",
                    "\(work)/init",
                ], env: gpg.environment, status: 1, fragment: "same key"),
            Case(
                name: "a secret-key file as a public key",
                args: [
                    "init", "-a", a, "--pgp-keys",
                    try dir.write(
                        "secret.asc",
                        try gpg.gpg([
                            "--armor", "--export-secret-keys", "--pinentry-mode", "loopback", "--passphrase", "",
                            bob.fingerprint,
                        ]).stdout), "--out-dir", "\(work)/init",
                ], env: gpg.environment, status: 1, fragment: "private key"),
            Case(
                name: "already initialised",
                args: ["init", "-a", a, "--pgp-keys", alice.armouredFile, "--out-dir", "\(work)/init"],
                env: gpg.environment, status: 2, fragment: "already initialised"),
            Case(name: "unreachable node (status)", args: ["status", "-a", dead], status: 1, fragment: "unreachable"),
            Case(
                name: "unreachable node (unseal)", args: ["unseal", "-a", dead, good], status: 2,
                fragment: "unreachable"),
            Case(
                name: "server answering garbage", args: ["status", "-a", stub.address], status: 1,
                fragment: "not JSON"),
            Case(
                name: "wrong CA", args: ["status", "-a", tls.address, "--ca-cert", otherCA.caCert], status: 1,
                fragment: "not signed by a trusted CA"),
            Case(
                name: "wrong CA (secure check)",
                args: ["secure", "check", "-a", tls.address, "--ca-cert", otherCA.caCert], status: 2,
                fragment: "not signed by a trusted CA"),
            Case(
                name: "missing CA file", args: ["status", "-a", tls.address, "--ca-cert", dir.file("nope.pem")],
                status: 1, fragment: "does not exist"),
            Case(
                name: "output file exists (combine)",
                args: ["combine", "--output", good, good, try file("k2.key", keys[2] + "\n")], status: 1,
                fragment: "already exists"),
            Case(name: "unknown option", args: ["status", "--bogus"], status: 1, fragment: "bogus"),
            Case(name: "unknown command", args: ["frobnicate"], status: 1, fragment: "frobnicate"),
        ]
        var handled = 0
        for c in cases {
            let before = dir.listing()
            let r = try await Keyturn.launch(c.args, stdin: c.stdin, environment: c.env)
            let lines = r.stderrLines.filter { !$0.hasPrefix("keyturn: warning:") }
            let errorLine = lines.first { $0.hasPrefix("keyturn: error: ") } ?? ""
            let ok =
                r.status == c.status && errorLine.contains(c.fragment) && !r.stderr.contains("Fatal error")
                && dir.listing().filter { !$0.contains("gnupg") } == before.filter { !$0.contains("gnupg") }
            #expect(ok, "\(c.name): exit \(r.status) (want \(c.status)), stderr: \(r.stderr)")
            if ok { handled += 1 }
        }
        print("bad-input matrix: \(cases.count) bad inputs, \(handled) handled")
        #expect(handled == cases.count)
        #expect(try await server.sealStatus()["progress"] as? Int == 0, "no bad input may count as a share")
        withExtendedLifetime(stub) {}
    }
}

@Suite("faults mid-ceremony (real OpenBao)")
struct FaultTests {
    @Test(
        """
        a node killed between two operators' unseals: the others finish; restarted, it is reported sealed with \
        progress 0
        """
    )
    func nodeKilledBetweenUnseals() async throws {
        let dir = try TemporaryDirectory()
        let (cluster, files, all) = try await restartedSealedCluster(dir)
        defer { cluster.stop() }
        var r = try await Keyturn.launch(["unseal", "--format", "json", "--timeout", "3"] + all + [files[0]])
        #expect(r.status == 0, "\(r.stderr)")
        cluster.nodes[2].stop()
        r = try await Keyturn.launch(["unseal", "--format", "json", "--timeout", "3"] + all + [files[1]])
        #expect(r.status == 2)
        let nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "unsealed", "\(r.stdoutText)")
        #expect((nodes[2]["error"] as? String)?.contains("unreachable") == true)
        try await cluster.nodes[2].restart()
        let s = try await Keyturn.launch(["status", "--format", "json"] + all)
        #expect(s.status == 2)
        let status = try statusNodes(s)
        #expect(status[2]["sealed"] as? Bool == true && status[2]["progress"] as? Int == 0, "\(s.stdoutText)")
    }

    @Test("a node restarted mid-unseal: its lost progress is named, so its operators know to submit again")
    func nodeRestartedMidUnseal() async throws {
        let dir = try TemporaryDirectory()
        let (cluster, files, all) = try await restartedSealedCluster(dir)
        defer { cluster.stop() }
        var r = try await Keyturn.launch(["unseal", "--format", "json"] + all + [files[0]])
        #expect(r.status == 0, "\(r.stderr)")
        try await cluster.nodes[2].restart()
        r = try await Keyturn.launch(["unseal"] + all + [files[1]])
        #expect(
            r.stderr.contains(
                "keyturn: warning: \(cluster.addresses[2]): its unseal progress was 0 while other nodes had 1"),
            "\(r.stdoutText) \(r.stderr)")
        #expect(r.stderr.contains("submit theirs again"))
        #expect(!r.stderr.contains("keyturn: warning: \(cluster.addresses[0])"))
    }

    @Test("a slow node beyond --timeout costs one timeout; the real node still takes the share")
    func slowNode() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let asked = dir.file("stub-requests")
        let stub = try StubServer("silent", [asked])
        let files = try writeShareFiles(dir, hex: keys)
        let r = try await Keyturn.launch([
            "unseal", "--format", "json", "--timeout", "5", "-a", server.address, "-a", stub.address, files.hex[0],
        ])
        // One timeout, not two in a row: the silent node was asked once (its state), and
        // keyturn did not go on to wait for it again with the share. (Counted, not timed.)
        let requests = String(decoding: readBytes(asked) ?? [], as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: " ", maxSplits: 1).last ?? ""
        }
        #expect(requests == ["GET /v1/sys/seal-status HTTP/1.1"], "\(requests)")
        #expect(r.status == 2)
        let nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "accepted")
        #expect((nodes[1]["error"] as? String)?.contains("did not answer within 5 s") == true)
        withExtendedLifetime(stub) {}
    }

    @Test(
        """
        the connection cut after sys/init was sent: keyturn says the node may be initialised and how to check, \
        and does not retry
        """
    )
    func networkCutDuringInit() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let dir = try TemporaryDirectory()
        let stub = try StubServer("cut-init", [dir.file("body.json")])
        let r = try await Keyturn.launch(
            [
                "init", "-a", stub.address, "--pgp-keys", alice.armouredFile, "--key-threshold", "1", "--out-dir",
                dir.file("out"),
            ], environment: gpg.environment)
        #expect(r.status == 2)
        #expect(
            r.stderrLines.first?.contains("the request was sent, so the node may now be initialised") == true,
            "\(r.stderr)")
        #expect(r.stderr.contains("keyturn status"))
        #expect(FileManager.default.fileExists(atPath: dir.file("body.json")), "the request reached the server")
        #expect(!FileManager.default.fileExists(atPath: dir.file("out")))
        withExtendedLifetime(stub) {}
    }

    @Test(
        """
        a real node whose sys/init answer comes 15 s late (past the 10 s --timeout): init waits for it with \
        default options and writes every file
        """
    )
    func slowInitAnswerIsNotLost() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice"), bob = try gpg.makeKey("bob")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let proxy = try StubServer("delay-proxy", [String(server.address.dropFirst("http://".count)), "15"])
        let dir = try TemporaryDirectory()
        let out = dir.file("out")
        let started = Date()
        let r = try await Keyturn.launch(
            ["init", "-a", proxy.address, "--pgp-keys", "\(alice.armouredFile),\(bob.armouredFile)", "--out-dir", out],
            environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) >= 15, "the proxy did not hold the answer")
        for name in ["alice.asc.key", "bob.asc.key", "ceremony.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(name)"), "\(name) missing: \(r.stderr)")
        }
        // The files hold the node's real shares: the node is initialised and they unseal it.
        #expect(try await server.sealStatus()["initialized"] as? Bool == true)
        let share = try gpg.gpg(["--decrypt", "\(out)/alice.asc.key"]).stdoutText.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(share.count == 66)
        // No terminal: no waiting line either (it is for an operator watching a terminal).
        #expect(!r.stderr.contains("waiting for"), "\(r.stderr)")
        withExtendedLifetime(proxy) {}
    }

    @Test("two operators unsealing at the same moment: both shares count")
    func simultaneousOperators() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        async let a = Keyturn.launch(["unseal", "-a", server.address, files.hex[0]])
        async let b = Keyturn.launch(["unseal", "-a", server.address, files.hex[2]])
        let (ra, rb) = try await (a, b)
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr) \(rb.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
    }
}
