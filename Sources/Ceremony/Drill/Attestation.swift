import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial

/// A holder's signed statement that they still hold their share (`verify --attest`): which
/// ceremony record and generation, which file, what was proved, when. No secret. The signature
/// is a detached PGP signature by the holder's key over `statement`'s JSON, sorted keys.
package struct Attestation: Codable, Sendable {
    package struct Statement: Codable, Sendable, Equatable {
        package var version = 1
        /// The holder's key, as the ceremony record names it.
        package var fingerprint: String
        package var userID: String
        /// SHA-256 of the ceremony.json the share was checked against, and its generation.
        package var manifestSHA256: String
        package var generation: Int
        package var shareFile: String
        package var shareFileSHA256: String
        /// "matched its commitment", or "decrypted to a well-formed share (no commitments)".
        package var proved: String
        package var time: String

        enum CodingKeys: String, CodingKey {
            case version, fingerprint, generation, proved, time
            case userID = "user_id", manifestSHA256 = "manifest_sha256", shareFile = "share_file"
            case shareFileSHA256 = "share_file_sha256"
        }
    }

    package var statement: Statement
    package var signature: String

    /// The exact bytes the signature covers.
    package static func signedBytes(_ statement: Statement) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(statement))
    }

    /// Makes and signs the attestation for a share file that `check` verified against a record
    /// that lists it.
    package static func make(
        _ check: ShareFileCheck, keyFile: String, passphrase: PassphraseSource, now: Date = Date()
    ) throws -> Attestation {
        guard let (record, path) = check.record, let entry = check.entry else {
            throw CeremonyError(
                "an attestation needs the ceremony record that lists \(quoted(keyFile)): it proves a share of that "
                    + "ceremony", code: .noRecord)
        }
        let manifest = FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? []
        let file = FileManager.default.contents(atPath: keyFile).map { [UInt8]($0) } ?? []
        let statement = Statement(
            fingerprint: entry.fingerprint.uppercased(), userID: entry.userID,
            manifestSHA256: Digest.sha256Hex(manifest),
            generation: record.generation ?? 1, shareFile: entry.file, shareFileSHA256: Digest.sha256Hex(file),
            proved: check.commitmentMatched == true
                ? "matched its commitment" : "decrypted to a well-formed share (no commitments)",
            time: ISO8601DateFormatter().string(from: now))
        do {
            let signature = try PGPShares.signDetached(
                try signedBytes(statement), fingerprint: entry.fingerprint, passphrase: try passphrase.read())
            return Attestation(statement: statement, signature: signature)
        } catch let error as PGPError {
            throw CeremonyError("cannot sign the attestation with \(entry.fingerprint): \(error.reason)")
        }
    }

    /// Writes it (0600, never over a file).
    package func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let file = try PendingFile(path: path)
        try encoder.encode(self).withUnsafeBytes { try file.write($0) }
        try file.publish()
    }
}
