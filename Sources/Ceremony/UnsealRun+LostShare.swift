import VaultClient

extension UnsealRun {
    /// While `--wait` waits for nodes that are not ready, the nodes that took the share are
    /// asked again: one that is sealed, while no node of the cluster is unsealed, and no longer in
    /// the unseal attempt (nonce) that took the share, restarted and lost it (it cannot be a raft
    /// follower joining: a join needs an unsealed leader), so it gets the share again. Without this, a leader killed after taking
    /// the holders' shares stayed sealed, its followers never became ready, and every holder
    /// waited out the deadline (found by the soak). Vault ignores a share it already holds.
    func lostTheShare(_ settled: [UnsealOutcome?]) async -> [Int] {
        guard share != nil else { return [] }
        let took = settled.indices.filter { i in
            switch settled[i]?.result {
            case .accepted?, .unsealed?, .joining?, .behind?: return true
            default: return false
            }
        }
        guard !took.isEmpty else { return [] }
        let states: [SealStatus?] = await concurrentMap(clients) { _, client in
            try? await client.sealStatus().0
        }
        guard !states.contains(where: { $0?.initialized == true && $0?.sealed == false }) else { return [] }
        return took.filter { i in
            guard let s = states[i], s.initialized, s.sealed else { return false }
            // Taken in an unseal attempt (its nonce) that is no longer the node's: the share is gone.
            guard case .accepted = settled[i]?.result, let taken = settled[i]?.status?.nonce, !taken.isEmpty else {
                return true
            }
            return s.progress == 0 || s.nonce != taken
        }
    }

    /// With --wait, other holders submit while this run waits: a node that took this share and
    /// was unsealed by a later one is reported as it is at the end (unsealed, or joining while a
    /// leader is unsealed), not as it was when it took the share.
    func completedSince(_ outcomes: [UnsealOutcome]) async -> [UnsealOutcome] {
        let states: [SealStatus?] = await concurrentMap(clients) { i, client in
            guard case .accepted = outcomes[i].result else { return nil }
            return try? await client.sealStatus().0
        }
        let leaderUnsealed = states.contains { $0?.sealed == false }
        return outcomes.indices.map { i in
            let o = outcomes[i]
            guard let s = states[i], s.initialized else { return o }
            if !s.sealed { return UnsealOutcome(address: o.address, result: .unsealed, status: s) }
            if s.progress == 0 && leaderUnsealed {
                return UnsealOutcome(address: o.address, result: .joining, status: s)
            }
            return o
        }
    }
}
