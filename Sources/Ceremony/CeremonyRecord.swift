import Foundation
import KeyturnFailure
import Shamir
import TLSMaterial

/// ceremony.json: who holds what, with no secret in it. With client-side encryption it also
/// holds a salted SHA-256 commitment of each share, so a share can be checked offline.
package struct CeremonyRecord: Codable {
    package var address: String
    package var time: String
    package var shares: Int
    package var threshold: Int
    /// "server" (Vault encrypted the shares: no commitments) or "client" (keyturn did).
    package var encryption: String
    /// Hex of the random salt of the commitments.
    package var commitmentSalt: String?
    package var shareFiles: [ShareRecord]
    /// Recovery keys (auto-unseal seals), each encrypted to a recovery operator.
    package var recoveryFiles: [ShareRecord]?
    package var rootToken: FileRecord?
    /// Which generation of keys this is: 1 for init's (absent in records made before rekey
    /// existed), counting up with each rekey.
    package var generation: Int?
    /// SHA-256 of the previous generation's ceremony.json, chaining the records.
    package var previousSHA256: String?
    /// "recovery" for a generation of recovery keys; absent for unseal keys.
    package var target: String?
    /// The sealable namespace whose seal these shares open (OpenBao 2.6+); absent for the
    /// cluster's own.
    package var namespace: String?

    /// Where a rekey's record comes from: the generation, its predecessor, the keys replaced.
    package struct Lineage: Sendable {
        package var generation: Int
        package var previousSHA256: String?
        package var target: String?
        package var namespace: String?
        package init(generation: Int, previousSHA256: String?, target: String?, namespace: String? = nil) {
            self.generation = generation
            self.previousSHA256 = previousSHA256
            self.target = target
            self.namespace = namespace
        }
    }

    /// A record of one generation of shares.
    package init(
        address: String, time: String, shares: Int, threshold: Int, encryption: String, commitmentSalt: String?,
        shareFiles: [ShareRecord], recoveryFiles: [ShareRecord]?, rootToken: FileRecord?
    ) {
        self.address = address
        self.time = time
        self.shares = shares
        self.threshold = threshold
        self.encryption = encryption
        self.commitmentSalt = commitmentSalt
        self.shareFiles = shareFiles
        self.recoveryFiles = recoveryFiles
        self.rootToken = rootToken
    }

    package struct ShareRecord: Codable {
        package var file: String
        package var keyFile: String
        package var fingerprint: String
        package var userID: String
        package var sha256: String
        /// SHA-256(salt || share bytes), hex; only with client-side encryption.
        package var commitment: String?

        /// One share file and its holder.
        package init(
            file: String, keyFile: String, fingerprint: String, userID: String, sha256: String, commitment: String?
        ) {
            self.file = file
            self.keyFile = keyFile
            self.fingerprint = fingerprint
            self.userID = userID
            self.sha256 = sha256
            self.commitment = commitment
        }

        enum CodingKeys: String, CodingKey {
            case file, fingerprint, sha256, commitment
            case keyFile = "key_file", userID = "user_id"
        }
    }

    package struct FileRecord: Codable {
        package var file: String
        package var fingerprint: String
        package var userID: String
        package var sha256: String

        /// One file encrypted to one key.
        package init(file: String, fingerprint: String, userID: String, sha256: String) {
            self.file = file
            self.fingerprint = fingerprint
            self.userID = userID
            self.sha256 = sha256
        }

        enum CodingKeys: String, CodingKey {
            case file, fingerprint, sha256
            case userID = "user_id"
        }
    }

    enum CodingKeys: String, CodingKey {
        case address, time, shares, threshold, encryption
        case commitmentSalt = "commitment_salt", shareFiles = "share_files", rootToken = "root_token"
        case recoveryFiles = "recovery_files", generation, previousSHA256 = "previous_sha256", target, namespace
    }

    /// The salted commitment to a share.
    package static func commitment(salt: [UInt8], share: UnsafeRawBufferPointer) -> String {
        var input = salt + Array(share)
        defer { secureZero(&input) }
        return Digest.sha256Hex(input)
    }

    /// Pretty, sorted JSON with a final newline.
    package func encoded() throws -> [UInt8] {
        Array(try Self.json(self)) + [0x0a]
    }

    /// Pretty-printed JSON with sorted keys, as keyturn writes every document.
    package static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Reads a ceremony.json, or fails naming the file.
    package static func load(_ path: String) throws -> CeremonyRecord {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CeremonyError("cannot read the manifest \(quoted(path))")
        }
        let record: CeremonyRecord
        do { record = try JSONDecoder().decode(CeremonyRecord.self, from: data) } catch {
            throw CeremonyError("\(quoted(path)) is not a keyturn ceremony.json")
        }
        // Numbers from a file are hostile until checked: nothing later may trap on them.
        guard (1...255).contains(record.shares), (1...255).contains(record.threshold),
            record.threshold <= record.shares, record.threshold > 1 || record.shares == 1,
            (1...1_000_000).contains(record.generation ?? 1)
        else {
            throw CeremonyError(
                "\(quoted(path)) is not a keyturn ceremony.json: its shares, threshold or generation are out of range "
                    + "(a threshold of 1 splits nothing, and none exceeds the shares)")
        }
        return record
    }

    /// The manifest given, or the ceremony.json beside `keyFile` if there is one.
    package static func find(explicit: String?, beside keyFile: String?) throws -> (CeremonyRecord, String)? {
        if let explicit { return (try load(explicit), explicit) }
        guard let keyFile, keyFile != "-" else { return nil }
        let candidate = SecretFiles.join(SecretFiles.directory(of: keyFile), "ceremony.json")
        guard FileManager.default.fileExists(atPath: candidate) else { return nil }
        return (try load(candidate), candidate)
    }

    /// Checks a decrypted share against the commitments: the entry for this file if there is
    /// one, else any entry. Returns nil when the manifest has no commitments (nothing to check),
    /// true on a match.
    package func matches(_ share: UnsafeRawBufferPointer, file: String?) -> Bool? {
        guard let saltHex = commitmentSalt, let salt = ShareHex.decode(saltHex) else { return nil }
        let commitments = shareFiles.compactMap(\.commitment)
        guard !commitments.isEmpty else { return nil }
        let mine = commitment(salt: salt, share: share)
        if let file, let entry = shareFiles.first(where: { $0.file == URL(fileURLWithPath: file).lastPathComponent }),
            let expected = entry.commitment
        {
            return expected == mine
        }
        return commitments.contains(mine)
    }

    private func commitment(salt: [UInt8], share: UnsafeRawBufferPointer) -> String {
        Self.commitment(salt: salt, share: share)
    }
}
