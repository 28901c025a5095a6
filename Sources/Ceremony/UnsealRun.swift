import Foundation
import Shamir
import VaultClient

/// Submits one share (or a reset) to every node concurrently.
package struct UnsealRun: @unchecked Sendable {
    package let clients: [VaultClient]
    package let share: ShareInput.Share?
    package let migrate: Bool

    /// A run that submits `share` (nil: a reset) to every one of `clients`.
    package init(clients: [VaultClient], share: ShareInput.Share?, migrate: Bool) {
        self.clients = clients
        self.share = share
        self.migrate = migrate
    }

    /// Submits the share (or the reset) to every node at once and returns each node's outcome.
    ///
    /// With `wait`, nodes that are not ready for it yet (a new raft follower that does not know
    /// yet that its leader is initialised, a node that cannot be reached while it restarts)
    /// are tried again every `interval` until each has taken the share or the time is up; the
    /// share stays in its zeroing buffer meanwhile. `update` sees the outcomes so far after each
    /// round (nil for a node still waited for); `stop` ends the waiting early (Ctrl-C).
    package func run(
        wait: TimeInterval? = nil, interval: TimeInterval = 1,
        update: (@Sendable ([UnsealOutcome?]) -> Void)? = nil,
        stop: @Sendable () -> Bool = { false }
    ) async -> [UnsealOutcome] {
        var settled = [UnsealOutcome?](repeating: nil, count: clients.count)
        var last = [UnsealOutcome?](repeating: nil, count: clients.count)
        let deadline = Date().addingTimeInterval(wait ?? 0)
        var first = true
        var late = Set<Int>()  // not ready when the first round went out: the earlier shares missed them
        var resent = Set<Int>()  // given the share again once (lostTheShare)
        while true {
            let pending = settled.indices.filter { settled[$0] == nil }
            let round = await self.round(pending, notingLostProgress: first && perNodeSeal)
            for (i, outcome) in zip(pending, round) {
                if !first && last[i]?.notReady == true && !outcome.notReady { late.insert(i) }
                last[i] = outcome
                if wait == nil || !outcome.notReady { settled[i] = outcome }
            }
            first = false
            if !settled.contains(where: { $0 == nil }) || stop() || Date() >= deadline { break }
            for i in perNodeSeal ? await lostTheShare(settled, resent: resent) : [] where !stop() {
                settled[i] = nil
                resent.insert(i)
            }
            update?(settled)
            try? await Task.sleep(nanoseconds: UInt64(max(0.05, min(interval, deadline.timeIntervalSinceNow)) * 1e9))
            if stop() { break }
        }
        let outcomes = settled.indices.map { i in
            if let done = settled[i] { return done }
            var outcome = last[i]!
            if let wait, let e = outcome.error {
                outcome = UnsealOutcome(
                    address: outcome.address,
                    result: .failed(
                        VaultError(
                            e.code, "\(e.reason); still not ready after waiting \(Int(wait.rounded())) s",
                            facts: e.facts,
                            httpStatus: e.httpStatus, serverErrors: e.serverErrors)), status: outcome.status)
            }
            return outcome
        }
        let current = wait == nil ? outcomes : await completedSince(outcomes, deadline: deadline)
        return perNodeSeal ? Self.namingMissedRekey(Self.namingBehind(current, late: late)) : current
    }

    /// Whether each node keeps its own unseal progress (the cluster's seal). A sealable
    /// namespace's seal is the active node's: standbys forward the share to it and show its
    /// state later (OpenBao 2.7.2: an unseal about 12 s later), so no node is "behind" there.
    private var perNodeSeal: Bool { clients.first?.namespace == nil }

    /// A node that took the share but is behind the others is named: it stayed sealed while
    /// another node unsealed with this same share, or it holds fewer shares than another sealed
    /// node after it. In a pass over a cluster whose nodes took the same shares, every node
    /// unseals or none does, at the same progress; a node behind restarted (or was reset) after
    /// taking shares and lost them (one already unsealed before the pass is not counted: it may
    /// be the restarted node that is being unsealed alone).
    /// Nodes in `late` (not ready when the pass began, a raft follower waiting for its leader)
    /// are not named: the shares submitted before they were ready never reached them.
    static func namingBehind(_ outcomes: [UnsealOutcome], late: Set<Int> = []) -> [UnsealOutcome] {
        let unsealedNow = outcomes.contains {
            switch $0.result {
            case .unsealed, .joining: return true
            default: return false
            }
        }
        let most =
            outcomes.compactMap { o -> Int? in
                guard case .accepted = o.result else { return nil }
                return o.status?.progress
            }.max() ?? 0
        return outcomes.indices.map { i in
            let o = outcomes[i]
            guard !late.contains(i), case .accepted = o.result, let s = o.status, s.sealed else { return o }
            guard unsealedNow || s.progress < most || o.note != nil else { return o }
            var behind = UnsealOutcome(address: o.address, result: .behind, status: s)
            behind.note =
                o.note
                ?? "it holds \(s.progress) of \(s.t) shares while "
                + (unsealedNow ? "other nodes unsealed with this one" : "another node holds \(most)")
                + ": it probably restarted and lost the shares submitted before; those operators must submit "
                + "theirs again for it"
            return behind
        }
    }

    /// One pass over the nodes at `indices`: each node's state first, all at once, so that a
    /// node whose progress is behind the others' (it restarted and lost the shares they hold)
    /// can be named; then the share to each.
    private func round(_ indices: [Int], notingLostProgress: Bool) async -> [UnsealOutcome] {
        let subset = indices.map { clients[$0] }
        let states: [Result<SealStatus, VaultError>] = await concurrentMap(subset) { _, client in
            await Result.capturing { () async throws(VaultError) in try await client.sealStatus().0 }
        }
        let progress = states.compactMap { try? $0.get() }.filter { $0.initialized && $0.sealed }.map { $0.progress }
        let most = progress.max() ?? 0
        return await concurrentMap(subset) { i, client in
            var outcome = await one(client, states[i])
            if notingLostProgress, case .success(let before) = states[i], before.initialized, before.sealed,
                before.progress < most, outcome.succeeded
            {
                outcome.note =
                    "its unseal progress was \(before.progress) while other nodes had \(most): it probably "
                    + "restarted and lost the shares submitted before; those operators must submit theirs "
                    + "again for it"
            }
            return outcome
        }
    }

    private func one(_ client: VaultClient, _ state: Result<SealStatus, VaultError>) async -> UnsealOutcome {
        func fail(_ e: VaultError, _ status: SealStatus? = nil) -> UnsealOutcome {
            UnsealOutcome(address: client.address, result: .failed(e), status: status)
        }
        let before: SealStatus
        switch state {
        case .success(let s): before = s
        case .failure(let e): return fail(e)
        }
        guard before.initialized else {
            return fail(
                VaultError(
                    .server, "\(client.address) is not initialised",
                    facts: ["node": client.address, "situation": "notInitialised"]), before)
        }
        guard let share else {
            // An unsealed node has no progress to discard (and Vault refuses the reset).
            guard before.sealed else {
                return UnsealOutcome(address: client.address, result: .alreadyUnsealed, status: before)
            }
            do {
                let after = try await client.unseal(UnsealRequest(reset: true))
                return UnsealOutcome(address: client.address, result: .reset, status: after)
            } catch { return fail(error, before) }
        }
        guard before.sealed else {
            return UnsealOutcome(address: client.address, result: .alreadyUnsealed, status: before)
        }
        // A Shamir share of the 32-byte key is 33 bytes; a single-share key is the key itself.
        if before.type == nil || before.type == "shamir" {
            let expected = before.n == 1 ? 32 : 33
            if share.count != expected {
                let e = VaultError(
                    .server,
                    "the share from \(share.source) is \(share.count) bytes, but \(client.address)'s shares are "
                        + "\(expected) bytes: it is not a share of this cluster; nothing was sent to it"
                )
                return UnsealOutcome(address: client.address, result: .mismatch(e), status: before)
            }
        }
        do {
            let after = try await client.unseal(share: share.bytes, migrate: migrate)
            if !after.sealed { return UnsealOutcome(address: client.address, result: .unsealed, status: after) }
            if after.progress == 0 && before.progress == before.t - 1 {
                return UnsealOutcome(address: client.address, result: .joining, status: after)
            }
            return UnsealOutcome(address: client.address, result: .accepted, status: after)
        } catch {
            if error.serverErrors.contains(where: { $0.contains("message authentication failed") }) {
                return fail(
                    VaultError(
                        .server,
                        "\(client.address) refused the shares: together they do not open its key, so one of them "
                            + "was wrong or belongs to another cluster; the node reset its unseal progress to 0",
                        facts: ["node": client.address, "situation": "unsealSharesRefused"],
                        httpStatus: error.httpStatus, serverErrors: error.serverErrors), before)
            }
            return fail(error, before)
        }
    }
}
