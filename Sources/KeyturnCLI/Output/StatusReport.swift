import Ceremony
import Foundation
import VaultClient

/// Formats node statuses as a table or JSON, and decides the exit code.
struct StatusReport {
    let nodes: [NodeStatus]

    /// 1 if any node failed to answer properly, else 2 if any is sealed or uninitialised, else 0.
    var exitStatus: ExitStatus {
        if nodes.contains(where: { $0.error != nil }) { return .localFailure }
        if nodes.contains(where: { !$0.isUnsealed }) { return .serverFailure }
        return .success
    }

    func print(_ format: OutputFormat) {
        switch format {
        case .json: Terminal.stdoutLine(json())
        case .text:
            Terminal.stdoutLine(table())
            for node in nodes {
                if let error = node.error { Terminal.report(error) }
                if node.seal?.lacksRecoveryKeys == true {
                    Terminal.warn(
                        "\(node.address) has no recovery keys (it initialised itself, or was initialised with none): "
                            + "with a token, keyturn rekey start --target recovery --pgp-keys FILES makes the first ones"
                    )
                }
                if node.raftVoter == false {
                    Terminal.warn(
                        "\(node.address) is not a raft voter yet: until it is promoted, losing another voter may "
                            + "leave the cluster without a quorum")
                }
            }
        }
    }

    /// `{"nodes": [...]}`: Vault's own fields, plus address, reachable, ha_mode, error, raft_voter and
    /// recovery_keys (false on a node with a recovery seal and no recovery keys).
    func json() -> String {
        let objects: [JSONValue] = nodes.map { node in
            var o = node.fields
            o["address"] = .string(node.address)
            o["reachable"] = .bool(node.reachable)
            o["ha_mode"] = node.haMode.map(JSONValue.string) ?? .null
            o["error"] = node.error.map { .string($0.reason) } ?? .null
            o["raft_voter"] = node.raftVoter.map(JSONValue.bool) ?? .null
            o["recovery_keys"] =
                node.seal.flatMap { $0.recoverySeal == true ? .bool(!$0.lacksRecoveryKeys) : nil } ?? .null
            return .object(o)
        }
        return Output.nodesDocument(objects)
    }

    /// One row per node.
    func table() -> String {
        let header = ["ADDRESS", "INITIALIZED", "SEALED", "PROGRESS", "THRESHOLD", "HA MODE", "VERSION", "ERROR"]
        let rows: [[String]] = nodes.map { node in
            guard let seal = node.seal else {
                return [
                    node.address, "-", "-", "-", "-", "-", "-",
                    node.error.map { shortReason($0, node.address) } ?? "no answer",
                ]
            }
            let threshold = seal.lacksRecoveryKeys ? "no keys" : seal.initialized ? "\(seal.t) of \(seal.n)" : "-"
            let progress = seal.initialized && seal.sealed ? "\(seal.progress)/\(seal.t)" : "-"
            // A seal migration (Shamir <-> auto-unseal) waits for `unseal --migrate`: say so.
            let sealed = seal.migration == true ? "\(seal.sealed), migration" : String(seal.sealed)
            return [
                node.address, String(seal.initialized), sealed, progress, threshold,
                node.haMode ?? "-", seal.version ?? "-", node.error.map { shortReason($0, node.address) } ?? "",
            ]
        }
        // With a token, whether raft counts each node's vote.
        guard nodes.contains(where: { $0.raftVoter != nil }) else { return Output.table(header, rows) }
        let voters = nodes.map { $0.raftVoter.map { $0 ? "yes" : "no" } ?? "-" }
        return Output.table(
            header.dropLast() + ["VOTER", "ERROR"], zip(rows, voters).map { row, v in row.dropLast() + [v, row.last!] })
    }

    private func shortReason(_ error: VaultError, _ address: String) -> String {
        Output.shortReason(error.reason, address: address)
    }
}
