import Foundation
import KeyturnTestSupport
import Testing

@Suite("the whole ceremony on a three-node raft cluster")
struct ClusterCeremonyTests {
    @Test(
        """
        init on the leader; two operators (one with a passphrase) unseal the leader, then, once the followers \
        know they are initialised, the followers; status --wait exits 0
        """
    )
    func ceremony() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let dir = try TemporaryDirectory()
        let out = dir.file("secrets")
        let i = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", cluster.addresses[0], "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","), "--out-dir", out,
            ], environment: gpg.environment)
        #expect(i.status == 0, "\(i.stderr)")
        for f in ["alice.asc.key", "bob.asc.key", "carol.asc.key"] { #expect(fileMode("\(out)/\(f)") == 0o600) }
        #expect(FileManager.default.fileExists(atPath: "\(out)/ceremony.json"))
        let pass = try dir.write("alice.pass", text: "alice secret\n")
        let all = cluster.addresses.flatMap { ["-a", $0] }
        func turn(_ file: String, _ extra: [String] = []) async throws -> ProcessResult {
            try await Keyturn.launch(
                ["unseal", "--format", "json", "--timeout", "30"] + all + ["\(out)/\(file)"] + extra,
                environment: gpg.environment)
        }

        // First pass: the leader takes both shares; new followers do not know yet that the
        // cluster is initialised, and say so.
        var r = try await turn("alice.asc.key", ["--passphrase-file", pass])
        var nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "accepted", "\(r.stdoutText)")
        // Each follower either took the share or is not initialised yet (it has not found its
        // leader), and the exit code says whether every node took it.
        for follower in nodes.dropFirst() {
            let took = follower["result"] as? String == "accepted"
            #expect(took || (follower["error"] as? String)?.contains("is not initialised") == true, "\(follower)")
        }
        let everyNodeTook = nodes.allSatisfy { $0["result"] as? String == "accepted" }
        #expect(r.status == (everyNodeTook ? 0 : 2), "\(r.stdoutText)")
        r = try await turn("carol.asc.key")
        nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "unsealed", "\(r.stdoutText)")

        // Once the followers have found their leader, the same two operators turn their keys again.
        for follower in cluster.nodes.dropFirst() {
            try await follower.waitUntilJoined(leader: cluster.nodes[0].address, timeout: 90)
        }
        r = try await turn("alice.asc.key", ["--passphrase-file", pass])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        r = try await turn("carol.asc.key")
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "already unsealed")
        #expect(
            nodes.dropFirst().allSatisfy {
                ["unsealed", "joining", "already unsealed"].contains($0["result"] as? String ?? "")
            }, "\(r.stdoutText)")

        let s = try await Keyturn.launch(["status", "--wait", "90"] + all)
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
        #expect(s.stdoutText.contains("active") && s.stdoutText.contains("standby"))
    }
}
