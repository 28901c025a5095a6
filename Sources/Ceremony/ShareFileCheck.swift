import Foundation
import KeyturnFailure
import TLSMaterial

/// What `verify` proves of a share file offline: it decrypts (or reads) to a well-formed share,
/// it is the file the ceremony record lists for its holder, and, where the record has
/// commitments, the share is the very one issued for it. Sends nothing.
package struct ShareFileCheck {
    /// The share's length in bytes (33, or 32 for a single-share key).
    package let shareLength: Int
    /// The record checked against, and its path; nil when none was given or found.
    package let record: (CeremonyRecord, String)?
    /// The record's entry for the file, when it lists it (its SHA-256 matched).
    package let entry: CeremonyRecord.ShareRecord?
    /// Whether the share matched its commitment: nil when the record has none.
    package let commitmentMatched: Bool?

    /// Runs every check on `keyFile`; throws at the first that fails.
    package static func run(
        _ keyFile: String, manifest: String?, passphrase: PassphraseSource
    ) throws -> ShareFileCheck {
        let share = try ShareInput.read(keyFile, passphrase: passphrase)
        guard share.count == 33 || share.count == 32 else {
            throw CeremonyError(
                "the share in \(quoted(keyFile)) is \(share.count) bytes; a Vault share is 33 bytes (32 for a "
                    + "single-share key)"
            )
        }
        guard let (record, path) = try CeremonyRecord.find(explicit: manifest, beside: keyFile) else {
            return ShareFileCheck(shareLength: share.count, record: nil, entry: nil, commitmentMatched: nil)
        }
        let name = URL(fileURLWithPath: keyFile).lastPathComponent
        let entry = record.shareFiles.first { $0.file == name }
        if let entry {
            let bytes = FileManager.default.contents(atPath: keyFile).map { [UInt8]($0) } ?? []
            guard Digest.sha256Hex(bytes) == entry.sha256 else {
                throw CeremonyError(
                    "\(quoted(keyFile)) is not the file \(quoted(path)) records for \(entry.userID): its SHA-256 "
                        + "differs"
                )
            }
        }
        let matched = record.matches(share.bytes, file: keyFile)
        if matched == false {
            throw CeremonyError(
                "the share in \(quoted(keyFile)) does not match the commitment in \(quoted(path)): it is not the "
                    + "share issued "
                    + "for this file",
                code: .commitmentMismatch, facts: ["when": "verify"])
        }
        return ShareFileCheck(
            shareLength: share.count, record: (record, path), entry: entry, commitmentMatched: matched)
    }
}
