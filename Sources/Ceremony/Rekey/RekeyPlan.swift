import Foundation
import KeyturnFailure
import PGPShares
import VaultClient

/// `rekey-plan.json`: what `rekey start` set up, for the holder whose submit completes it (who
/// then needs no list of key files) and for a backup retrieved later. No secret: the nonce, the
/// target, the API, the threshold, and per new holder the key file's name, fingerprint and user
/// id, in the order the server encrypts to them.
package struct RekeyPlan: Codable, Sendable {
    package struct Holder: Codable, Sendable {
        /// The key file's name (its last path component): the new file is `<file>.key`.
        package var file: String
        package var fingerprint: String
        package var userID: String

        enum CodingKeys: String, CodingKey {
            case file, fingerprint
            case userID = "user_id"
        }
    }

    package var version = 1
    package var nonce: String
    package var target: String
    /// The endpoint family (`sys/rotate/root`, `sys/rekey`, ...).
    package var api: String
    package var node: String
    package var shares: Int
    package var threshold: Int
    package var backup: Bool
    package var holders: [Holder]

    package static let fileName = "rekey-plan.json"

    enum CodingKeys: String, CodingKey {
        case version, nonce, target, api, node, shares, threshold, backup, holders
    }

    package init(
        state: QuorumState, endpoints: QuorumEndpoints, node: String, keys: [OperatorKey], backup: Bool
    ) {
        nonce = state.nonce ?? ""
        target = endpoints.target.rawValue
        api = endpoints.statusPath.replacingOccurrences(of: "/init", with: "")
        self.node = node
        shares = state.n ?? keys.count
        threshold = state.t ?? 0
        self.backup = backup
        holders = keys.map {
            Holder(
                file: URL(fileURLWithPath: $0.file).lastPathComponent, fingerprint: $0.info.fingerprint.uppercased(),
                userID: $0.info.userID)
        }
    }

    /// Writes the plan into `dir` (0600, atomically, never over a file); returns its path.
    package func write(into dir: String) throws -> String {
        let path = SecretFiles.join(dir, Self.fileName)
        let file = try PendingFile(path: path)
        try CeremonyRecord.json(self).withUnsafeBytes { try file.write($0) }
        try file.publish()
        return path
    }

    /// The plan at `path`.
    package static func load(_ path: String) throws -> RekeyPlan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CeremonyError("cannot read the rekey plan \(quoted(path))")
        }
        guard let plan = try? JSONDecoder().decode(RekeyPlan.self, from: data) else {
            throw CeremonyError("\(quoted(path)) is not a rekey plan (rekey-plan.json)")
        }
        return plan
    }

    /// The plan given (`explicit`), else the one in `dir` if there is one.
    package static func find(explicit: String?, in dir: String) throws -> (RekeyPlan, String)? {
        if let explicit { return (try load(explicit), explicit) }
        let path = SecretFiles.join(dir, fileName)
        return FileManager.default.fileExists(atPath: path) ? (try load(path), path) : nil
    }

    /// The new holders as the completing submit or a retrieved backup names them, after checking
    /// that the plan is this operation's: the same nonce (when one is given) and the same keys,
    /// in the same order, as the server reports. Refused before anything is sent.
    package func newKeys(serverFingerprints: [String], nonce: String?, path: String) throws -> RekeyFiles.NewKeys {
        if let nonce, nonce != self.nonce {
            throw CeremonyError(
                "\(quoted(path)) is the plan of rekey \(self.nonce), not of the running one (\(nonce)); nothing was "
                    + "sent",
                code: .planMismatch, facts: ["path": path])
        }
        let planned = holders.map { $0.fingerprint.uppercased() }
        let server = serverFingerprints.map { $0.uppercased() }
        let same =
            planned.count == server.count
            && zip(planned, server).allSatisfy { sameOpenPGPKey($0, $1) }
        guard same else {
            throw CeremonyError(
                "the keys in \(quoted(path)) are not the ones the server encrypts the new shares to "
                    + "(\(server.joined(separator: ", "))); nothing was sent",
                code: .planMismatch, facts: ["path": path])
        }
        let keys = holders.map {
            OperatorKey(file: $0.file, info: PublicKeyInfo(fingerprint: $0.fingerprint, userID: $0.userID, binary: []))
        }
        return RekeyFiles.NewKeys(keys: keys, names: holders.map(\.file))
    }
}
