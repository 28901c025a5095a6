import Foundation
import VaultClient

/// Sealing every node of a cluster: the first step when a share or the root token may have
/// leaked. Everything that can be checked is checked before the first `sys/seal` (a token, each
/// node's state, the token accepted by the cluster); then the standbys are sealed, and the
/// active node last, so that leadership does not move from node to node meanwhile.
package struct SealRun: Sendable {
    /// One node's part in the run.
    package struct Node: Sendable {
        package let client: VaultClient
        /// Its state before: "active", "standby", "sealed", "uninitialised", "unreachable".
        package let before: String
        /// Why it could not be asked, when it could not.
        package let error: VaultError?

        /// Whether the run sends it `sys/seal`.
        package var willSeal: Bool { before == "active" || before == "standby" || before == "perf-standby" }
    }

    /// Every node, in the order given.
    package let nodes: [Node]
    /// The nodes to seal, standbys first and the active node last.
    package var order: [Node] {
        nodes.filter { $0.willSeal && $0.before != "active" } + nodes.filter { $0.willSeal && $0.before == "active" }
    }

    /// The requests the run sends (method, path, node), in order; never a secret.
    package var requests: [(method: String, path: String, node: String)] {
        order.map { ("PUT", "/v1/sys/seal", $0.client.address) }
    }

    /// Checks before anything changes: `clients` carry a token, every node is asked for its
    /// state, and an unsealed node confirms the token (`auth/token/lookup-self`).
    package static func plan(_ clients: [VaultClient]) async throws -> SealRun {
        guard clients.allSatisfy({ $0.token != nil }) else {
            throw CeremonyError(
                "sealing needs a token with permission to seal; none was given, and nothing was sent",
                code: .noToken, facts: ["operation": "seal"])
        }
        let statuses = await NodeStatus.fetchAll(clients)
        let nodes = zip(clients, statuses).map { client, status in
            Node(client: client, before: Self.state(status), error: status.reachable ? nil : status.error)
        }
        if let node = nodes.first(where: \.willSeal) {
            do { _ = try await node.client.lookupSelf() } catch {
                throw CeremonyError(
                    "\(node.client.address) does not accept the token "
                        + "(\(oneLine(error.serverErrors.joined(separator: "; ")))); nothing was sent",
                    code: .tokenRefused, facts: ["operation": "seal", "node": node.client.address])
            }
        }
        return SealRun(nodes: nodes)
    }

    /// One node's result.
    package struct Result: Sendable {
        package let address: String
        package let before: String
        /// "sealed", "already sealed", "not initialised", "unreachable" or "failed".
        package let after: String
        package let error: VaultError?

        /// Whether the node is sealed now (or was already).
        package var isSealed: Bool { after == "sealed" || after == "already sealed" }
    }

    /// Seals the nodes one by one, then reads every node's state again: a node counts as
    /// sealed only when it says so.
    package func execute() async -> [Result] {
        var errors: [String: VaultError] = [:]
        for node in order {
            do { try await node.client.seal() } catch { errors[node.client.address] = error }
        }
        let statuses = await NodeStatus.fetchAll(nodes.map(\.client))
        return zip(nodes, statuses).map { node, status in
            let error = errors[node.client.address] ?? (status.reachable ? nil : status.error)
            let after: String
            switch (node.before, status.seal) {
            case ("sealed", let s?) where s.sealed: after = "already sealed"
            case (_, let s?) where !s.initialized: after = "not initialised"
            case (_, let s?) where s.sealed: after = "sealed"
            case (_, nil): after = "unreachable"
            default: after = "failed"
            }
            return Result(address: node.client.address, before: node.before, after: after, error: error)
        }
    }

    private static func state(_ status: NodeStatus) -> String {
        guard let seal = status.seal else { return "unreachable" }
        if !seal.initialized { return "uninitialised" }
        if seal.sealed { return "sealed" }
        return status.haMode == "active" || status.haMode == "disabled" || status.haMode == nil ? "active" : "standby"
    }
}
