import Foundation
import Shamir
import VaultClient

/// What happened at one node.
package struct UnsealOutcome: Sendable {
    package enum Result: Sendable {
        /// The share counted; more are needed.
        case accepted
        /// The node is unsealed now.
        case unsealed
        /// The last share went in and the node is joining its raft cluster (it reports
        /// sealed with progress 0 for a few seconds): `status --wait` confirms.
        case joining
        /// The node was unsealed before: nothing sent.
        case alreadyUnsealed
        /// `--reset` discarded the node's progress.
        case reset
        /// The share counted, but the node is behind the others: it restarted (or was reset)
        /// after taking shares and lost them; `note` says what it holds and what to do.
        case behind
        /// The node refused or could not be reached.
        case failed(VaultError)
        /// The share cannot belong to this node (wrong length): nothing was sent to it.
        case mismatch(VaultError)
    }

    package let address: String
    package let result: Result
    package let status: SealStatus?
    /// Something the operator should know beyond the result (e.g. progress lost in a restart).
    package var note: String? = nil

    package var succeeded: Bool {
        switch result {
        case .failed, .mismatch: return false
        default: return true
        }
    }

    /// A node that cannot take the share yet but may soon: not initialised (a new raft
    /// follower before its leader is unsealed), unreachable (restarting), or, during a seal
    /// migration, still on the old seal type (OpenBao 2.7.2: "barrier seal type of "static" does
    /// not match expected type of "shamir"", seen once in a full-suite run on a three-node
    /// cluster, the next try accepted). `unseal --wait` tries it again.
    package var notReady: Bool {
        guard case .failed(let e) = result else { return false }
        if e.isUnreachable { return true }
        if let status, !status.initialized { return true }
        if e.code == .server, e.serverErrors.contains(where: { $0.contains("does not match expected type") }) {
            return true
        }
        return false
    }

    /// The error, for failed and mismatched nodes.
    package var error: VaultError? {
        switch result {
        case .failed(let e), .mismatch(let e): return e
        default: return nil
        }
    }
}
