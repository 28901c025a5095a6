import Foundation
import KeyturnTestSupport
import Testing

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

    @Test(
        """
        a node restarted mid-unseal is reported behind (exit 2), its lost progress named, so its operators know \
        to submit again; unsealing a lone restarted node is not
        """
    )
    func nodeRestartedMidUnseal() async throws {
        let dir = try TemporaryDirectory()
        let (cluster, files, all) = try await restartedSealedCluster(dir)
        defer { cluster.stop() }
        var r = try await Keyturn.launch(["unseal", "--format", "json"] + all + [files[0]])
        #expect(r.status == 0, "\(r.stderr)")
        try await cluster.nodes[2].restart()
        // Before: "accepted 1/2", exit 0, and the node stayed sealed.
        r = try await Keyturn.launch(["unseal"] + all + [files[1]])
        #expect(r.status == 2, "\(r.stdoutText) \(r.stderr)")
        let row = r.stdoutText.split(separator: "\n").first { $0.hasPrefix(cluster.addresses[2]) } ?? ""
        #expect(row.contains("behind") && row.contains("1/2"), "\(r.stdoutText)")
        #expect(
            r.stderr.contains(
                "keyturn: warning: \(cluster.addresses[2]): its unseal progress was 0 while other nodes had 1"),
            "\(r.stdoutText) \(r.stderr)")
        #expect(r.stderr.contains("submit theirs again"))
        #expect(!r.stderr.contains("keyturn: warning: \(cluster.addresses[0])"))
        // Its holders come back for it alone: the others are unsealed, it takes the shares as usual.
        r = try await Keyturn.launch(["unseal"] + all + [files[0]])
        #expect(r.status == 0 && !r.stdoutText.contains("behind"), "\(r.stdoutText) \(r.stderr)")
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
