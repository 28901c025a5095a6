import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial
import VaultClient

/// The files of a completed rekey: named after the new holders' key files, written as init
/// writes them, the record chained to the previous generation's.
package enum RekeyFiles {
    /// The new holders' keys when given (checked against the operation's fingerprints, in
    /// order), and the names the new files take (their key files, else their fingerprints).
    package struct NewKeys {
        package let keys: [OperatorKey]
        package let names: [String]

        package init(keys: [OperatorKey], names: [String]) {
            self.keys = keys
            self.names = names
        }
    }

    package static func newKeys(_ files: [String], state: QuorumState) throws -> NewKeys {
        let fingerprints = (state.pgpFingerprints ?? []).map { $0.uppercased() }
        guard !files.isEmpty else {
            return NewKeys(keys: [], names: fingerprints.map { "\($0).asc" })
        }
        let keys = try OperatorKey.inspect(files)
        if let n = state.n, n != keys.count {
            throw CeremonyError(
                "the running rekey makes \(n) shares but \(keys.count) key files were given; nothing was sent")
        }
        if !fingerprints.isEmpty {
            for (key, expected) in zip(keys, fingerprints)
            where !sameOpenPGPKey(key.info.fingerprint, expected) {
                throw CeremonyError(
                    "\(quoted(key.file)) is not the key the running rekey encrypts to in its place "
                        + "(\(expected)); nothing "
                        + "was sent",
                    code: .keyOrder, facts: ["path": key.file])
            }
        }
        return NewKeys(keys: keys, names: files)
    }

    package static func plan(_ dir: String, keyFiles: [String], target: QuorumEndpoints.Target) throws -> ShareFilePlan
    {
        target == .unseal
            ? try ShareFilePlan(directory: dir, keyFiles: keyFiles, recoveryKeyFiles: [], rootToken: false)
            : try ShareFilePlan(directory: dir, keyFiles: [], recoveryKeyFiles: keyFiles, rootToken: false)
    }

    /// Writes the new files, all or none. `before` is the operation as read before the
    /// completing submit (its parameters); `previous`, the ceremony record of the keys being
    /// replaced, which the new record names (generation + 1, its SHA-256). `first`: the first
    /// recovery keys of a cluster that had none (generation 1, no predecessor).
    package static func write(
        _ s: QuorumState, before: QuorumState, plan: ShareFilePlan, newKeys: NewKeys,
        previous: (CeremonyRecord, String)?, address: String, target: QuorumEndpoints.Target, first: Bool = false,
        namespace: String? = nil
    ) throws {
        let keys = s.keys ?? [], base64 = s.keysBase64 ?? []
        let clientSide = (s.pgpFingerprints ?? []).isEmpty
        let issued =
            target == .unseal
            ? IssuedKeys(keys: keys, keysBase64: base64)
            : IssuedKeys(keys: [], keysBase64: [], recoveryKeysBase64: base64)
        var lineage = CeremonyRecord.Lineage(
            generation: first ? 1 : 2, previousSHA256: nil, target: target == .recovery ? "recovery" : nil,
            namespace: namespace)
        if let (record, path) = previous {
            lineage.generation = (record.generation ?? 1) + 1
            lineage.previousSHA256 = FileManager.default.contents(atPath: path).map { Digest.sha256Hex([UInt8]($0)) }
        }
        // Holders known only by fingerprint: records carry the fingerprint, the files its name.
        let operators =
            newKeys.keys.isEmpty
            ? newKeys.names.map {
                OperatorKey(file: $0, info: PublicKeyInfo(fingerprint: String($0.dropLast(4)), userID: "", binary: []))
            }
            : newKeys.keys
        try plan.write(
            issued, operators: target == .unseal ? operators : [], recovery: target == .recovery ? operators : [],
            rootKey: nil, address: address, shares: before.n ?? keys.count, threshold: before.t ?? 0,
            clientSide: clientSide, lineage: lineage)
    }
}
