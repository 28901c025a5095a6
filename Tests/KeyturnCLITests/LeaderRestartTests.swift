import Foundation
import KeyturnTestSupport
import Testing

/// `unseal --wait` on a brand-new raft cluster whose leader restarts while the holders wait.
@Suite("unseal --wait when the leader restarts (real three-node OpenBao cluster)")
struct LeaderRestartTests {
    @Test(
        """
        the leader restarted after taking the first holder's share gets it again from her waiting unseal, so the \
        second holder's share unseals it and the followers join: both exit 0
        """
    )
    func leaderRestartedWhileWaiting() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let leader = cluster.nodes[0]
        let keys = try await leader.initialize(shares: 3, threshold: 2).keys
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys).hex
        let all = cluster.addresses.flatMap { ["-a", $0] }
        // Alice waits: the leader takes her share; the followers are not initialised yet.
        async let alice = Keyturn.launch(["unseal", "--wait", "120"] + all + [files[0]], killAfter: 240)
        try await leader.waitUntil(timeout: 60) { try await $0.sealStatus()["progress"] as? Int == 1 }
        try await leader.restart()  // her share is gone with it
        // Before: the leader stayed at Bob's 1 of 2, and both waited out the deadline, exit 2.
        let bob = try await Keyturn.launch(["unseal", "--wait", "120"] + all + [files[1]], killAfter: 240)
        let a = try await alice
        #expect(a.status == 0, "alice: \(a.stdoutText) \(a.stderr)")
        #expect(bob.status == 0, "bob: \(bob.stdoutText) \(bob.stderr)")
        let s = try await Keyturn.launch(["status", "--wait", "60"] + all)
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
    }
}
