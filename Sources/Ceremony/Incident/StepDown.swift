import Foundation
import VaultClient

/// The active node resigns (`sys/step-down`), and the cluster elects another.
package enum StepDown {
    /// Which node was active before, and which is after (nil when none was elected in time).
    package struct Outcome: Sendable {
        package let before: String
        package let after: String?
    }

    /// Finds the active node, asks it to step down (the clients carry a token), then waits up to
    /// `wait` seconds for an active node again. With raft storage the active node is the raft
    /// leader, which `sys/step-down` does not move: on OpenBao 2.7.2 the same node was seen to
    /// stop being active for about ten seconds and then take over again (no standby can while
    /// it leads raft); `after` is then the same node, once it was seen not active.
    package static func run(_ clients: [VaultClient], wait: TimeInterval) async throws -> Outcome {
        guard clients.allSatisfy({ $0.token != nil }) else {
            throw CeremonyError(
                "stepping down needs a token with sudo on sys/step-down; none was given, and nothing was sent",
                code: .noToken, facts: ["operation": "step-down"])
        }
        let active = try await QuorumCeremony.activeNode(clients)
        try await active.stepDown()
        let deadline = Date().addingTimeInterval(wait)
        var after: String?
        var resigned = false
        repeat {
            try await Task.sleep(nanoseconds: 250_000_000)
            let statuses = await NodeStatus.fetchAll(clients)
            // "disabled": storage without HA (a dev server), where the node stays active.
            let now = statuses.first { $0.haMode == "active" || $0.haMode == "disabled" }?.address
            if now != active.address { resigned = true }
            if let now, now != active.address || resigned || clients.count == 1 { after = now }
        } while after == nil && Date() < deadline
        return Outcome(before: active.address, after: after)
    }
}
