import Foundation
import KeyturnTestSupport
import Testing

/// What a probe by hand broke with SIGSTOP and SIGKILL (OpenBao 2.7.2): the bounds keyturn keeps
/// when a node stops answering, and the state it reports after.
@Suite("bounds under paused and killed nodes (real OpenBao)")
struct ProbeBoundsTests {
    @Test("init fails closed: a node that does not answer the not-initialised check gets no sys/init")
    func initFailsClosed() async throws {
        let dir = try TemporaryDirectory()
        let asked = dir.file("requests")
        let stub = try StubServer("silent", [asked])
        // Before: the one-shot request went out after the check timed out, then waited 600 s.
        let r = try await Keyturn.launch(
            ["init", "--no-pgp", "--key-shares", "1", "--timeout", "2", "-a", stub.address], killAfter: 90)
        expectOneLineError(r, status: 2, mentioning: "did not say whether it is initialised")
        #expect(r.stderr.contains("nothing was sent"))
        let requests = String(decoding: readBytes(asked) ?? [], as: UTF8.self).split(separator: "\n").map {
            $0.split(separator: " ", maxSplits: 1).last ?? ""
        }
        // The one request is the check: no sys/init, so no one-shot wait (killAfter bounds the rest).
        #expect(requests == ["GET /v1/sys/init HTTP/1.1"], "\(requests)")
        withExtendedLifetime(stub) {}
    }

    @Test("status --wait N with a paused node ends within N + one --timeout, exit 2, naming what it waited for")
    func statusWaitBound() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        server.send(SIGSTOP)
        defer { server.send(SIGCONT) }
        let started = Date()
        // Before: 15 s took 31 s and exited 1.
        let r = try await Keyturn.launch(
            ["status", "--wait", "3", "--timeout", "2", "-a", server.address], killAfter: 120)
        let took = Date().timeIntervalSince(started)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(
            r.stderr.contains("is not unsealed (did not answer within") && r.stderr.contains("after waiting 3 s for "),
            "\(r.stderr)")
        // N + one timeout is the bound; a loaded CI machine (two cores, clusters starting beside
        // this test) once added 9 s of start-up, so the test only catches a wait that is not
        // bounded at all. The bound itself is checked on every status --wait of Scripts/soak.
        #expect(took < 3 + 2 + 40, "took \(took) s")
    }

    @Test(
        """
        with a token, status shows raft voters; with the leader killed, a quorum command waits for the election \
        instead of failing on the dead leader the standbys still name
        """
    )
    func electionWait() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        _ = try await cluster.initializeAndUnseal()
        let token = try #require(cluster.rootToken)
        let all = cluster.addresses.flatMap { ["-a", $0] }
        // A follower that joined a moment ago is a non-voter; autopilot promotes it in ~10 s.
        var nodes: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(120)
        repeat {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            let s = try await Keyturn.launch(["status", "--format", "json"] + all, environment: ["VAULT_TOKEN": token])
            nodes = try statusNodes(s)
        } while nodes.contains(where: { $0["raft_voter"] as? Bool != true }) && Date() < deadline
        #expect(nodes.allSatisfy { $0["raft_voter"] as? Bool == true }, "\(nodes)")
        let table = try await Keyturn.launch(["status"] + all, environment: ["VAULT_TOKEN": token])
        #expect(table.stdoutText.contains("VOTER"), "\(table.stdoutText)")
        let plain = try await Keyturn.launch(["status", "--format", "json"] + all)
        #expect(try statusNodes(plain).allSatisfy { $0["raft_voter"] is NSNull }, "no token: unknown")

        let active = try #require(nodes.firstIndex { $0["ha_mode"] as? String == "active" })
        cluster.nodes[active].kill()
        // Before: "connection refused" at once, from the leader the standbys named.
        let r = try await Keyturn.launch(
            ["generate-root", "status", "--format", "json"] + all, environment: ["VAULT_TOKEN": token], killAfter: 180)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try jsonObject(r)["started"] as? Bool == false, "\(r.stdoutText)")
    }

    @Test(
        "a seal that leaves a node unsealed ends with one error line naming it, exit 2 (the soak found warnings only)")
    func sealNamesWhatItLeft() async throws {
        let (server, _, token, _, _) = try await unsealedNode(legacyCeremonyEndpoints: false)
        defer { server.stop() }
        let r = try await Keyturn.launch(
            ["seal", "--yes", "--timeout", "2", "-a", server.address, "-a", "http://127.0.0.1:1"],
            environment: cleanEnvironment(["VAULT_TOKEN": token]))
        #expect(r.status == 2, "\(r.stderr)")
        let errors = r.stderrLines.filter { $0.hasPrefix("keyturn: error: ") }
        #expect(errors == ["keyturn: error: 1 of 2 nodes not sealed: http://127.0.0.1:1 (unreachable)"], "\(r.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }

    /// A node whose init was cut off by a crash once raft was bootstrapped (its log says "initial
    /// configuration"; the barrier follows after the election, about 7 s on 2.7.2, ten times that
    /// with `performance_multiplier = 10`): left with raft state and no barrier (found by the soak).
    /// Read from the log, not a clock: a loaded machine once took longer than 100 ms to send the
    /// request at all. Restarted for the test to look at.
    static func initCutOff() async throws -> OpenBaoServer {
        var options = OpenBaoServer.Options()
        options.raftExtra = ["performance_multiplier = 10"]
        let server = try await OpenBaoServer.start(options)
        let sending = Task {
            _ = try? await server.call("PUT", "sys/init", ["secret_shares": 1, "secret_threshold": 1])
        }
        let deadline = Date().addingTimeInterval(30)
        while !server.log.contains("storage.raft: initial configuration") && Date() < deadline {
            try await Task.sleep(nanoseconds: 5_000_000)
        }
        server.kill()
        _ = await sending.value
        try await server.restart()
        return server
    }

    @Test(
        """
        an init cut off by a crash, after OpenBao made its raft storage: keyturn says the node cannot be \
        initialised and how to recover, and the hint works
        """
    )
    func initCutOffByCrash() async throws {
        var server = try await Self.initCutOff()
        for _ in 0..<2 where try await server.sealStatus()["initialized"] as? Bool != false {
            server.stop()  // a loaded machine let the init finish first: a new node, a new try
            server = try await Self.initCutOff()
        }
        defer { server.stop() }
        try #require(try await server.sealStatus()["initialized"] as? Bool == false, "the init finished first")
        let args = ["init", "--no-pgp", "--key-shares", "1", "-a", server.address]
        let r = try await Keyturn.launch(args)
        expectOneLineError(r, status: 2, mentioning: "an earlier init made its raft storage and never finished")
        #expect(r.stderr.contains("empty its raft storage directory"), "\(r.stderr)")
        server.stop()
        try FileManager.default.removeItem(atPath: server.raftDirectory)
        try FileManager.default.createDirectory(atPath: server.raftDirectory, withIntermediateDirectories: false)
        try await server.restart()
        let again = try await Keyturn.launch(args)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try await server.sealStatus()["initialized"] as? Bool == true)
    }
}
