import Foundation
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

    /// With --wait, other holders submit while this run waits, and their shares reach the nodes
    /// in another order: when this share unsealed one node while others that took it are still
    /// sealed, those are watched (at most 15 s, never past the deadline) until the other holders'
    /// shares unseal them too; then each node is reported as it is (a node that accepted this
    /// share and is unsealed now is `unsealed`). What is still sealed after that is compared as
    /// before (`namingBehind`).
    func completedSince(_ outcomes: [UnsealOutcome], deadline: Date) async -> [UnsealOutcome] {
        let graceEnd = min(deadline, Date().addingTimeInterval(15))
        var current = outcomes
        while true {
            let now = current
            let states: [SealStatus?] = await concurrentMap(clients) { i, client in
                guard case .accepted = now[i].result else { return nil }
                return try? await client.sealStatus().0
            }
            current = current.indices.map { i in
                guard let s = states[i], s.initialized, !s.sealed else { return current[i] }
                return UnsealOutcome(address: current[i].address, result: .unsealed, status: s)
            }
            let unsealedHere = current.contains {
                switch $0.result {
                case .unsealed, .joining: return true
                default: return false
                }
            }
            let stillSealed = current.contains { if case .accepted = $0.result { return true } else { return false } }
            guard unsealedHere && stillSealed && Date() < graceEnd else { return current }
            try? await Task.sleep(nanoseconds: 1_000_000_000)
        }
    }
}
