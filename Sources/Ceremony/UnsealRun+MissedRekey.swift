import VaultClient

extension UnsealRun {
    /// A node that refuses a threshold of shares while other nodes of the cluster are unsealed
    /// may not hold a wrong share at all: a raft node that was down or behind when a rekey
    /// completed still has the previous keys, and a sealed node cannot catch up (OpenBao 2.7.2,
    /// found by the soak). Its refusal says both, so the holders do not doubt the new shares.
    static func namingMissedRekey(_ outcomes: [UnsealOutcome]) -> [UnsealOutcome] {
        let othersUnsealed = outcomes.contains {
            switch $0.result {
            case .unsealed, .joining, .alreadyUnsealed: return true
            default: return false
            }
        }
        guard othersUnsealed else { return outcomes }
        return outcomes.map { o in
            guard case .failed(let e) = o.result, e.facts["situation"] == "unsealSharesRefused" else { return o }
            let reason =
                "\(o.address) refused the shares while other nodes are unsealed: either one share was wrong, or "
                + "the node was down or behind when a rekey completed and still has the previous keys (a sealed "
                + "node cannot catch up); it reset its unseal progress to 0"
            var facts = e.facts
            facts["situation"] = "unsealSharesRefusedOthersUnsealed"
            return UnsealOutcome(
                address: o.address,
                result: .failed(
                    VaultError(e.code, reason, facts: facts, httpStatus: e.httpStatus, serverErrors: e.serverErrors)),
                status: o.status)
        }
    }
}
