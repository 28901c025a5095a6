import Foundation
import Shamir
import TLSMaterial

/// ceremony.json: who holds what, with no secret in it. With client-side encryption it also
/// holds a salted SHA-256 commitment of each share, so a share can be checked offline.
struct CeremonyRecord: Codable {
    var address: String
    var time: String
    var shares: Int
    var threshold: Int
    /// "server" (Vault encrypted the shares: no commitments) or "client" (keyturn did).
    var encryption: String
    /// Hex of the random salt of the commitments.
    var commitmentSalt: String?
    var shareFiles: [ShareRecord]
    /// Recovery keys (auto-unseal seals), each encrypted to a recovery operator.
    var recoveryFiles: [ShareRecord]?
    var rootToken: FileRecord?

    struct ShareRecord: Codable {
        var file: String
        var keyFile: String
        var fingerprint: String
        var userID: String
        var sha256: String
        /// SHA-256(salt || share bytes), hex; only with client-side encryption.
        var commitment: String?

        enum CodingKeys: String, CodingKey {
            case file, fingerprint, sha256, commitment
            case keyFile = "key_file", userID = "user_id"
        }
    }

    struct FileRecord: Codable {
        var file: String
        var fingerprint: String
        var userID: String
        var sha256: String

        enum CodingKeys: String, CodingKey {
            case file, fingerprint, sha256
            case userID = "user_id"
        }
    }

    enum CodingKeys: String, CodingKey {
        case address, time, shares, threshold, encryption
        case commitmentSalt = "commitment_salt", shareFiles = "share_files", rootToken = "root_token"
        case recoveryFiles = "recovery_files"
    }

    /// The salted commitment to a share.
    static func commitment(salt: [UInt8], share: UnsafeRawBufferPointer) -> String {
        var input = salt + Array(share)
        defer { secureZero(&input) }
        return Digest.sha256Hex(input)
    }

    /// Pretty, sorted JSON with a final newline.
    func encoded() throws -> [UInt8] {
        Array(try Output.json(self)) + [0x0a]
    }

    /// Reads a ceremony.json, or fails naming the file.
    static func load(_ path: String) throws -> CeremonyRecord {
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read the manifest \(path)") }
        do { return try JSONDecoder().decode(CeremonyRecord.self, from: data) } catch {
            throw CLIError("\(path) is not a keyturn ceremony.json")
        }
    }

    /// The manifest given, or the ceremony.json beside `keyFile` if there is one.
    static func find(explicit: String?, beside keyFile: String?) throws -> (CeremonyRecord, String)? {
        if let explicit { return (try load(explicit), explicit) }
        guard let keyFile, keyFile != "-" else { return nil }
        let candidate = SecretFiles.join(SecretFiles.directory(of: keyFile), "ceremony.json")
        guard FileManager.default.fileExists(atPath: candidate) else { return nil }
        return (try load(candidate), candidate)
    }

    /// Checks a decrypted share against the commitments: the entry for this file if there is
    /// one, else any entry. Returns nil when the manifest has no commitments (nothing to check),
    /// true on a match.
    func matches(_ share: UnsafeRawBufferPointer, file: String?) -> Bool? {
        guard let saltHex = commitmentSalt, let salt = ShareHex.decode(saltHex) else { return nil }
        let commitments = shareFiles.compactMap(\.commitment)
        guard !commitments.isEmpty else { return nil }
        let mine = commitment(salt: salt, share: share)
        if let file, let entry = shareFiles.first(where: { $0.file == URL(fileURLWithPath: file).lastPathComponent }), let expected = entry.commitment {
            return expected == mine
        }
        return commitments.contains(mine)
    }

    private func commitment(salt: [UInt8], share: UnsafeRawBufferPointer) -> String {
        Self.commitment(salt: salt, share: share)
    }
}
