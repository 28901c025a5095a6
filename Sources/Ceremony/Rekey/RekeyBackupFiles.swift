import Foundation
import KeyturnFailure
import PGPShares
import VaultClient

/// A rekey's new shares as the server kept them (`rekey start --backup`), made into the files
/// the completing submit would have written.
package enum RekeyBackupFiles {
    /// The server's backup in the order of the plan's holders (when a plan is given, after
    /// checking that it is this rekey's), else in the order of the fingerprints; and the names
    /// the files take.
    package static func arrange(
        _ backup: RekeyBackup, plan: (RekeyPlan, String)?
    ) throws -> (state: QuorumState, newKeys: RekeyFiles.NewKeys) {
        var fingerprints = backup.keys.keys.sorted()
        var newKeys = RekeyFiles.NewKeys(keys: [], names: fingerprints.map { "\($0.uppercased()).asc" })
        if let (plan, path) = plan {
            // Each holder's fingerprint as the server spells it (it may be the key's short form).
            let ordered = plan.holders.map { holder in
                fingerprints.first { sameOpenPGPKey(holder.fingerprint, $0) } ?? holder.fingerprint
            }
            newKeys = try plan.newKeys(serverFingerprints: ordered, nonce: backup.nonce, path: path)
            guard Set(ordered) == Set(fingerprints) else {
                throw CeremonyError(
                    "the keys in \(quoted(path)) are not the ones the backup holds shares for", code: .planMismatch,
                    facts: ["path": path])
            }
            fingerprints = ordered
        }
        var state = QuorumState()
        state.nonce = backup.nonce
        state.pgpFingerprints = fingerprints
        // A key given for several shares has several entries; each becomes one file.
        state.keys = fingerprints.flatMap { backup.keys[$0] ?? [] }
        state.keysBase64 = fingerprints.flatMap { backup.keysBase64?[$0] ?? [] }
        state.n = state.keys?.count
        state.t = plan?.0.threshold
        return (state, newKeys)
    }

    /// Reads the backup from the node (a token is needed on either API).
    package static func retrieve(_ ceremony: QuorumCeremony) async throws -> RekeyBackup {
        try requireToken(ceremony, "reading a rekey backup")
        let backup: RekeyBackup
        do {
            backup = try await ceremony.client.rekeyBackup(ceremony.endpoints)
        } catch {
            guard error.serverErrors.contains(where: { $0.contains("no backed-up keys") }) else { throw error }
            let node = ceremony.client.address
            throw CeremonyError(
                "\(node) keeps no backup of a rekey's new shares (\(ceremony.endpoints.backupPath)): none was asked "
                    + "for when the rekey started, or it was deleted",
                code: .noBackup, facts: ["node": node])
        }
        return backup
    }

    /// Deletes the backup on the node.
    package static func delete(_ ceremony: QuorumCeremony) async throws {
        try requireToken(ceremony, "deleting a rekey backup")
        try await ceremony.client.deleteRekeyBackup(ceremony.endpoints)
    }

    private static func requireToken(_ ceremony: QuorumCeremony, _ what: String) throws {
        guard ceremony.client.token != nil else {
            throw CeremonyError(
                "\(what) needs a token; none was given, and nothing was sent", code: .noToken,
                facts: ["operation": "rekey backup"])
        }
    }
}
