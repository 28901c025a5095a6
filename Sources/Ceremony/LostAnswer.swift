import Foundation
import KeyturnFailure
import VaultClient

/// A share submitted to a rekey or a generate-root whose answer never came back: the request
/// was sent (the connection broke after, the node was killed or paused), so the share may have
/// counted, and if it was the last one the operation may have completed with its one-shot
/// answer (the new shares, the encoded root token) lost. Found by killing the active node a
/// few milliseconds after the completing submit (OpenBao 2.7.2): the server had committed, and
/// a bare "connection closed" said nothing of it. keyturn asks the cluster what became of the
/// operation and says that, with what to do next.
package enum LostAnswer {
    /// What the cluster says after the answer was lost.
    package enum Finding: Equatable, Sendable {
        /// The same operation still runs and its progress did not move: the share did not count.
        case notCounted(progress: String)
        /// The same operation still runs, one share further: it counted.
        case counted(progress: String)
        /// A rekey that required verification reached that stage: its new shares went out in
        /// the lost answer; the old shares are still in force.
        case awaitingVerification
        /// The operation no longer runs (or another one does): it completed, or someone
        /// cancelled it.
        case ended
        /// A rekey that required verification no longer runs: it ended before its new shares
        /// were verified, so the old ones are in force.
        case endedUnverified
        /// No node said.
        case unknown(String)
    }

    /// Whether `error` means the request was sent and its answer lost (rather than never sent:
    /// a refused connection sends nothing).
    package static func answerLost(_ error: VaultError) -> Bool {
        error.isUnreachable && error.code != .unreachable
    }

    /// Asks the cluster (every node given; the active one may be the one that died, so an
    /// election is waited for) what became of the operation with `nonce` that stood at `before`.
    /// The request may still be in flight on the node (a paused node resumes, a slow one
    /// catches up): the first look is after `settle` seconds, and a "did not count" is looked at
    /// again `settle` seconds later before it is believed.
    package static func find(
        _ ceremony: QuorumCeremony, nonce: String, before: QuorumState, verification: Bool, electionWait: TimeInterval,
        settle: TimeInterval = 2
    ) async -> Finding {
        try? await Task.sleep(nanoseconds: UInt64(settle * 1e9))
        let first = await look(ceremony, nonce: nonce, before: before, verification: verification, electionWait)
        guard case .notCounted = first else { return first }
        try? await Task.sleep(nanoseconds: UInt64(settle * 1e9))
        return await look(ceremony, nonce: nonce, before: before, verification: verification, electionWait)
    }

    private static func look(
        _ ceremony: QuorumCeremony, nonce: String, before: QuorumState, verification: Bool,
        _ electionWait: TimeInterval
    ) async -> Finding {
        do {
            let active = try await QuorumCeremony.activeNode(ceremony.cluster, electionWait: electionWait)
            let now = QuorumCeremony(client: active, endpoints: ceremony.endpoints, cluster: ceremony.cluster)
            let s: QuorumState
            do { s = try await now.state(verification: verification) } catch {
                // A verification that completed took its rekey with it; the verify path may
                // then answer with an error of its own: the rekey's own state says.
                guard verification, try await now.state().started != true else { throw error }
                return .ended
            }
            guard s.started == true, s.runningNonce == nonce else {
                // A rekey that required verification commits nothing before it: gone (a new
                // active node keeps no operation of the old one's, or someone cancelled it), it
                // left the old shares in force.
                if !verification, before.verificationRequired == true { return .endedUnverified }
                return .ended
            }
            if !verification, s.verificationRequired == true, !(s.verificationNonce ?? "").isEmpty {
                return .awaitingVerification
            }
            let p = s.progressText
            return (s.progress ?? 0) > (before.progress ?? 0) ? .counted(progress: p) : .notCounted(progress: p)
        } catch {
            return .unknown((error as? any KeyturnFailure)?.reason ?? "\(error)")
        }
    }

    /// The error that says what happened to a submit whose answer was lost, and what to do.
    package static func error(
        _ lost: VaultError, finding: Finding, ceremony: QuorumCeremony, verification: Bool, completing: Bool,
        backup: Bool
    ) -> CeremonyError {
        let kind = ceremony.endpoints.kind
        let what = verification ? "verification of the \(kind.rawValue)" : kind.rawValue
        let head = "\(lost.reason) after the share was sent"
        var facts = ["operation": kind.rawValue, "finding": "\(finding)", "backup": String(backup)]
        facts["verification"] = String(verification)
        switch finding {
        case .notCounted(let p):
            return CeremonyError(
                "\(head); the \(what) still runs at \(p): the share did not count", code: .answerLost,
                facts: facts.merging(["next": "again"]) { $1 })
        case .counted(let p):
            return CeremonyError(
                "\(head); the \(what) still runs, now at \(p): the share counted", code: .answerLost,
                facts: facts.merging(["next": "counted"]) { $1 })
        case .awaitingVerification:
            return CeremonyError(
                "\(head); the rekey reached its verification stage, but its answer, the new shares, is lost; the old "
                    + "shares are still in force", code: .answerLost, facts: facts.merging(["next": "restart"]) { $1 })
        case .endedUnverified:
            return CeremonyError(
                "\(head); no rekey with that nonce runs now, and it required verification, so the old shares are "
                    + "still in force", code: .answerLost, facts: facts.merging(["next": "startAgain"]) { $1 })
        case .ended:
            let lostWhat =
                verification
                ? "it has probably completed: the new shares are now in force and the old ones no longer unseal"
                : kind == .rekey
                    ? "it has probably completed, and its answer, the new shares, is lost"
                    : "it has probably completed, and its answer, the encoded root token, is lost: a root token "
                        + "may now exist that no one holds"
            return CeremonyError(
                "\(head); no \(what) with that nonce runs now: \(lostWhat)", code: .answerLost,
                facts: facts.merging(["next": verification ? "verified" : "ended"]) { $1 })
        case .unknown(let why):
            let maybe = completing ? "it may have completed" : "the share may have counted"
            return CeremonyError(
                "\(head), and no node said what became of the \(what) (\(why)): \(maybe)", code: .answerLost,
                facts: facts.merging(["next": "unknown"]) { $1 })
        }
    }
}

extension LostAnswer {
    /// What OpenBao (2.7.2) answers when it fails inside its rekey's commit, after it may have
    /// written the new keys' wrapping and before it rekeyed the barrier: seen by the soak with a
    /// leadership change in the middle ("failed to perform rekey: failed to store keys: ...
    /// leadership lost while committing log"). The running nodes still work; sealed or
    /// restarted, every node then refused the old shares and the new ones alike.
    package static func halfApplied(_ said: String) -> Bool {
        [
            "failed to perform rekey", "failed to store keys", "failed to rekey barrier",
            "failed to update barrier seal key",
        ]
        .contains(where: said.contains)
    }

    static func halfAppliedError(_ error: VaultError, address: String, verification: Bool) -> CeremonyError {
        CeremonyError(
            "\(address) failed while it committed the rekey (\(error.serverErrors.joined(separator: "; "))): it may "
                + "have stored part of the new keys, and once a node is sealed or restarts the cluster may take "
                + "neither the old shares nor the new ones",
            code: .answerLost,
            facts: ["operation": "rekey", "next": "halfApplied", "verification": String(verification), "node": address])
    }
}
