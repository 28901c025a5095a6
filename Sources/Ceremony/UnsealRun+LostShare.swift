import VaultClient

extension UnsealRun {
    /// While `--wait` waits for nodes that are not ready, the nodes that accepted the share are
    /// asked again. One that is sealed, while every node answers and none is unsealed, and that
    /// another holder has started a new unseal attempt on (progress above 0, a nonce other than
    /// the one that took this share) restarted and lost the share: it gets it again, once. Without
    /// this, a leader killed after taking a holder's share stayed sealed, its followers never
    /// became ready, and every holder waited out the deadline (found by the soak). Not on progress
    /// 0 alone: that is also a deliberate `unseal --reset`, or a threshold refused because a share
    /// (perhaps this one) was wrong; a node once unsealed may have been sealed on purpose.
    func lostTheShare(_ settled: [UnsealOutcome?], resent: Set<Int>) async -> [Int] {
        guard share != nil else { return [] }
        let took: [(Int, String)] = settled.indices.compactMap { i in
            guard !resent.contains(i), case .accepted? = settled[i]?.result,
                let nonce = settled[i]?.status?.nonce, !nonce.isEmpty
            else { return nil }
            return (i, nonce)
        }
        guard !took.isEmpty else { return [] }
        let states: [SealStatus?] = await concurrentMap(clients) { _, client in
            try? await client.sealStatus().0
        }
        guard states.allSatisfy({ $0 != nil && ($0!.sealed || !$0!.initialized) }) else { return [] }
        return took.compactMap { i, taken in
            guard let s = states[i], s.initialized, s.sealed, s.progress > 0, s.nonce != taken else { return nil }
            return i
        }
    }

    /// With --wait, other holders submit while this run waits: a node that accepted this share
    /// and was unsealed by a later one is reported unsealed, as it is at the end.
    func completedSince(_ outcomes: [UnsealOutcome]) async -> [UnsealOutcome] {
        let states: [SealStatus?] = await concurrentMap(clients) { i, client in
            guard case .accepted = outcomes[i].result else { return nil }
            return try? await client.sealStatus().0
        }
        return outcomes.indices.map { i in
            guard let s = states[i], s.initialized, !s.sealed else { return outcomes[i] }
            return UnsealOutcome(address: outcomes[i].address, result: .unsealed, status: s)
        }
    }
}
