import Foundation
import KeyturnFailure
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

#if canImport(Glibc)
    import Glibc
#endif

/// The files a ceremony that issues shares writes (`init`, the completing `rekey submit`):
/// planned and checked before the server is called, then written all or none.
package struct ShareFilePlan {
    package let directory: OutputDirectory
    package let shareFiles: [String]
    package let recoveryFiles: [String]
    package let rootTokenFile: String?
    package let manifest: String

    package init(directory path: String, keyFiles: [String], recoveryKeyFiles: [String], rootToken: Bool) throws {
        directory = try OutputDirectory(path)
        shareFiles = keyFiles.map { SecretFiles.join(path, URL(fileURLWithPath: $0).lastPathComponent + ".key") }
        recoveryFiles = recoveryKeyFiles.map {
            SecretFiles.join(path, URL(fileURLWithPath: $0).lastPathComponent + ".recovery.key")
        }
        rootTokenFile = rootToken ? SecretFiles.join(path, "root-token.asc") : nil
        manifest = SecretFiles.join(path, "ceremony.json")
        let all = shareFiles + recoveryFiles + [rootTokenFile, manifest].compactMap { $0 }
        if let dup = Dictionary(grouping: all, by: { $0 }).first(where: { $0.value.count > 1 }) {
            throw CeremonyError("two key files would both write \(dup.key)", code: .sameFileName)
        }
        for f in all { try SecretFiles.requireAbsent(f) }
    }

    /// Writes every file, all or none. With `clientSide`, the answer holds plaintext shares:
    /// each is encrypted here to its operator and committed to in ceremony.json.
    /// `beforeWriting` runs first (a test uses it to take the directory away).
    package func write(
        _ answer: IssuedKeys, operators: [OperatorKey], recovery: [OperatorKey], rootKey: OperatorKey?, address: String,
        shares: Int, threshold: Int, clientSide: Bool, lineage: CeremonyRecord.Lineage? = nil,
        beforeWriting: (() -> Void)? = nil
    ) throws {
        beforeWriting?()
        try directory.create()
        let scratch = clientSide ? try ScratchGnuPGHome() : nil
        var salt = [UInt8](repeating: 0, count: 16)
        if clientSide { try salt.withUnsafeMutableBytes { try SecureRandom.fill($0) } }
        var pending: [PendingFile] = []
        var record = CeremonyRecord(
            address: address, time: ISO8601DateFormatter().string(from: Date()), shares: shares, threshold: threshold,
            encryption: clientSide ? "client" : "server", commitmentSalt: clientSide ? ShareHex.encode(salt) : nil,
            shareFiles: [], recoveryFiles: nil, rootToken: nil)
        record.generation = lineage?.generation
        record.previousSHA256 = lineage?.previousSHA256
        record.target = lineage?.target
        record.namespace = lineage?.namespace
        var issued = Set<String>()
        for (i, op) in operators.enumerated() {
            let armoured: [UInt8]
            var commitment: String?
            if let scratch {
                guard i < answer.keys.count else {
                    throw CeremonyError("the server's answer holds fewer shares than keys")
                }
                var hex = Array(answer.keys[i].utf8)
                defer { secureZero(&hex) }
                guard var bytes = ShareHex.decode(answer.keys[i]) else {
                    throw CeremonyError("the server sent a share that is not hex")
                }
                defer { secureZero(&bytes) }
                // A hostile or broken answer (an empty share, one of the wrong size, one share twice)
                // is refused here, with the whole answer printed by the caller, not written as files.
                guard ShareText.acceptedLengths.contains(bytes.count) else {
                    throw CeremonyError("the server sent a share of \(bytes.count) bytes, not a key share")
                }
                commitment = bytes.withUnsafeBytes { CeremonyRecord.commitment(salt: salt, share: $0) }
                if let commitment, !issued.insert(commitment).inserted {
                    throw CeremonyError("the server sent the same share twice")
                }
                do {
                    armoured = try hex.withUnsafeBytes {
                        try PGPShares.encrypt($0, to: op.info, scratchHome: scratch.path)
                    }
                } catch {
                    throw CeremonyError(
                        "cannot encrypt the share for \(quoted(op.file)): \((error as? PGPError)?.reason ?? "\(error)")"
                    )
                }
            } else {
                guard i < answer.keysBase64.count, let binary = Data(base64Encoded: answer.keysBase64[i]) else {
                    throw CeremonyError("the server's answer holds fewer shares than keys")
                }
                armoured = Array(Armor.encode([UInt8](binary)).utf8)
            }
            let file = try PendingFile(path: shareFiles[i])
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
            record.shareFiles.append(
                .init(
                    file: URL(fileURLWithPath: shareFiles[i]).lastPathComponent, keyFile: op.file,
                    fingerprint: op.info.fingerprint,
                    userID: op.info.userID, sha256: Digest.sha256Hex(armoured), commitment: commitment))
        }
        // Recovery keys encrypted by the server to the recovery operators' keys.
        for (i, op) in recovery.enumerated() {
            guard let encoded = answer.recoveryKeysBase64, i < encoded.count,
                let binary = Data(base64Encoded: encoded[i])
            else {
                throw CeremonyError("the server's answer holds fewer recovery keys than recovery PGP keys")
            }
            let armoured = Array(Armor.encode([UInt8](binary)).utf8)
            let file = try PendingFile(path: recoveryFiles[i])
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
            record.recoveryFiles =
                (record.recoveryFiles ?? []) + [
                    .init(
                        file: URL(fileURLWithPath: recoveryFiles[i]).lastPathComponent, keyFile: op.file,
                        fingerprint: op.info.fingerprint,
                        userID: op.info.userID, sha256: Digest.sha256Hex(armoured), commitment: nil)
                ]
        }
        if let rootKey, let path = rootTokenFile, let token = answer.rootToken, let binary = Data(base64Encoded: token)
        {
            let armoured = Array(Armor.encode([UInt8](binary)).utf8)
            let file = try PendingFile(path: path)
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
            record.rootToken = .init(
                file: "root-token.asc", fingerprint: rootKey.info.fingerprint, userID: rootKey.info.userID,
                sha256: Digest.sha256Hex(armoured))
        }
        let manifestFile = try PendingFile(path: manifest)
        try record.encoded().withUnsafeBytes { try manifestFile.write($0) }
        pending.append(manifestFile)
        try FileBatch.publish(pending, directory: directory.path)
        directory.keep()
    }
}
