import Foundation
import Shamir

/// The endpoints of one quorum operation (a rekey, a root-key rotation, a root-token
/// generation): `GET` its state, `PUT` to start it, `DELETE` to cancel it, `PUT {key, nonce}`
/// on the update path to add a share. Vault's (and OpenBao's legacy) ones answer bare JSON
/// without a token; OpenBao's `sys/rotate/*` (since 2.4) need a token and wrap replies in `data`.
package struct QuorumEndpoints: Sendable, Hashable {
    /// What the operation produces.
    package enum Kind: String, Sendable {
        case rekey, generateRoot = "generate-root"
    }

    /// Which keys a rekey replaces.
    package enum Target: String, Sendable, CaseIterable {
        case unseal, recovery
    }

    package let kind: Kind
    package let target: Target
    /// `sys/rekey/init`, `sys/rotate/root/init`, `sys/generate-root/attempt`, ...
    package let statusPath: String
    package let updatePath: String
    /// The verification endpoint of a rekey (`.../verify`); nil for generate-root.
    package let verifyPath: String?
    /// OpenBao's authenticated API: a token is sent and replies are wrapped in `data`.
    package let authenticated: Bool

    /// Vault's unauthenticated rekey (`sys/rekey/*`, `sys/rekey-recovery-key/*`).
    package static func legacyRekey(_ target: Target) -> QuorumEndpoints {
        let base = target == .unseal ? "sys/rekey" : "sys/rekey-recovery-key"
        return QuorumEndpoints(
            kind: .rekey, target: target, statusPath: base + "/init", updatePath: base + "/update",
            verifyPath: base + "/verify", authenticated: false)
    }

    /// OpenBao's authenticated rotation (`sys/rotate/root/*`, `sys/rotate/recovery/*`).
    package static func rotate(_ target: Target) -> QuorumEndpoints {
        let base = target == .unseal ? "sys/rotate/root" : "sys/rotate/recovery"
        return QuorumEndpoints(
            kind: .rekey, target: target, statusPath: base + "/init", updatePath: base + "/update",
            verifyPath: base + "/verify", authenticated: true)
    }

    /// `sys/generate-root/*` (shares are unseal keys, or recovery keys on an auto-unseal seal).
    package static let generateRoot = QuorumEndpoints(
        kind: .generateRoot, target: .unseal, statusPath: "sys/generate-root/attempt",
        updatePath: "sys/generate-root/update",
        verifyPath: nil, authenticated: false)

    /// OpenBao's authenticated generate-root (`sys/generate-root-token/*`, what `bao operator
    /// generate-root` 2.7 uses): a token is sent and replies are wrapped in `data`.
    package static let generateRootToken = QuorumEndpoints(
        kind: .generateRoot, target: .unseal, statusPath: "sys/generate-root-token/attempt",
        updatePath: "sys/generate-root-token/update",
        verifyPath: nil, authenticated: true)

    /// What a sealable namespace offers for `kind`: OpenBao's token API only (its rekey is
    /// `NAME/sys/rotate/root/*`; it has no recovery keys and no legacy endpoints).
    package static func namespaced(_ kind: Kind, _ namespace: String) -> QuorumEndpoints {
        (kind == .rekey ? rotate(.unseal) : generateRootToken).within(namespace: namespace)
    }

    /// The same endpoints inside a sealable namespace (`NAME/sys/rotate/root/*`,
    /// `NAME/sys/generate-root-token/*`: OpenBao 2.6+, at the namespace's own threshold).
    package func within(namespace: String) -> QuorumEndpoints {
        QuorumEndpoints(
            kind: kind, target: target, statusPath: "\(namespace)/\(statusPath)",
            updatePath: "\(namespace)/\(updatePath)", verifyPath: verifyPath.map { "\(namespace)/\($0)" },
            authenticated: authenticated)
    }

    /// Where the server keeps a rekey's new PGP-encrypted shares when asked to (`backup`);
    /// reading and deleting them needs a token on either API. Vault's recovery-key backup is not
    /// under `sys/rekey-recovery-key/` but `sys/rekey/recovery-key-backup` (OpenBao 2.7.2 answers
    /// 404 "unsupported path" for the other).
    package var backupPath: String {
        switch (authenticated, target) {
        case (false, .recovery): "sys/rekey/recovery-key-backup"
        default: statusPath.replacingOccurrences(of: "/init", with: "/backup")
        }
    }

    /// The listener parameter that re-enables an unauthenticated family on OpenBao >= 2.5.
    package var listenerParameter: String {
        kind == .rekey ? "disable_unauthed_rekey_endpoints = false" : "disable_unauthed_generate_root_endpoints = false"
    }
}

/// The state of a quorum operation, as every one of these endpoints reports it (each field
/// only where that operation has it). Vault's field names.
package struct QuorumState: Codable, Sendable, Hashable {
    package var started: Bool?
    package var nonce: String?
    /// Shares submitted so far, and how many complete the operation.
    package var progress: Int?
    package var required: Int?
    /// The answer of the submit that completed it.
    package var complete: Bool?
    // A rekey: the new shares (n) and threshold (t), the keys they go to, verification.
    package var t: Int?
    package var n: Int?
    package var pgpFingerprints: [String]?
    package var backup: Bool?
    package var verificationRequired: Bool?
    package var verificationNonce: String?
    /// The new shares (hex, or base64 of PGP messages when pgp_keys were given): only in the
    /// completing answer of a rekey.
    package var keys: [String]?
    package var keysBase64: [String]?
    // generate-root: the one-time pad (shown once, by the start), its length, the result.
    package var otp: String?
    package var otpLength: Int?
    package var pgpFingerprint: String?
    package var encodedToken: String?
    package var encodedRootToken: String?

    package init() {}

    enum CodingKeys: String, CodingKey {
        case started, nonce, progress, required, complete, t, n, backup, keys, otp
        case pgpFingerprints = "pgp_fingerprints", verificationRequired = "verification_required"
        case verificationNonce = "verification_nonce", keysBase64 = "keys_base64", otpLength = "otp_length"
        case pgpFingerprint = "pgp_fingerprint", encodedToken = "encoded_token", encodedRootToken = "encoded_root_token"
    }
}

extension QuorumState {
    /// "1/3": shares submitted so far of those the operation needs.
    package var progressText: String { "\(progress ?? 0)/\(required ?? 0)" }

    /// The nonce of a running operation (Vault reports "" when none runs).
    package var runningNonce: String? { nonce.flatMap { $0.isEmpty ? nil : $0 } }

    /// Whether one more share completes the operation.
    package var nextShareCompletes: Bool { (progress ?? 0) + 1 >= (required ?? Int.max) }
}

/// `PUT .../init` of a rekey: the new shares and to whom they are encrypted.
package struct RekeyRequest: Encodable, Sendable {
    package var secretShares: Int
    package var secretThreshold: Int
    /// Base64 of each binary PGP public key, one per new share; nil for plaintext shares.
    package var pgpKeys: [String]?
    /// The new shares must be verified (a threshold of them submitted) before they take over.
    package var requireVerification: Bool
    /// The server keeps the new PGP-encrypted shares until they are deleted (`.../backup`).
    package var backup: Bool

    package init(
        secretShares: Int, secretThreshold: Int, pgpKeys: [String]?, requireVerification: Bool, backup: Bool = false
    ) {
        self.secretShares = secretShares
        self.secretThreshold = secretThreshold
        self.pgpKeys = pgpKeys
        self.requireVerification = requireVerification
        self.backup = backup
    }

    enum CodingKeys: String, CodingKey {
        case secretShares = "secret_shares", secretThreshold = "secret_threshold", pgpKeys = "pgp_keys"
        case requireVerification = "require_verification", backup
    }
}

/// `PUT sys/generate-root/attempt`: the token comes back encrypted to `pgpKey`, or XORed with
/// a one-time pad the server makes (nil).
package struct GenerateRootRequest: Encodable, Sendable {
    /// Base64 of the binary PGP public key.
    package var pgpKey: String?

    package init(pgpKey: String?) { self.pgpKey = pgpKey }

    enum CodingKeys: String, CodingKey { case pgpKey = "pgp_key" }
}

extension VaultClient {
    /// `GET` the operation's state.
    package func quorumState(_ e: QuorumEndpoints) async throws(VaultError) -> QuorumState {
        try await quorumCall("GET", e.statusPath, e, body: nil)
    }

    /// `PUT` the start of an operation with its parameters (JSON-encoded).
    package func startQuorum<Body: Encodable>(
        _ e: QuorumEndpoints, _ body: Body
    ) async throws(VaultError) -> QuorumState {
        let data: Data
        do { data = try JSONEncoder().encode(body) } catch {
            throw VaultError(.malformedReply, "cannot encode the request to \(address)")
        }
        // A recovery rekey on a node that has no recovery keys yet (a self-initialised OpenBao)
        // completes at its start and answers with the first keys: an answer that comes once.
        return try await quorumCall(
            "PUT", e.statusPath, e, body: data, replyTimeout: VaultTransport.oneShotReplyTimeout)
    }

    /// `DELETE` the running operation (or, with `verification`, only its verification round).
    package func cancelQuorum(_ e: QuorumEndpoints, verification: Bool = false) async throws(VaultError) {
        let path = verification ? (e.verifyPath ?? e.statusPath) : e.statusPath
        let _: [String: JSONValue] = try await call(
            "DELETE", path, accept: [200, 204], token: true, allowEmpty: true
        ).0
    }

    /// `GET` the verification round of a rekey.
    package func quorumVerification(_ e: QuorumEndpoints) async throws(VaultError) -> QuorumState {
        try await quorumCall("GET", e.verifyPath ?? e.statusPath, e, body: nil)
    }

    /// `PUT {key, nonce}` on the update (or, with `verification`, the verify) path: one share,
    /// hex-encoded into memory that is zeroed when released.
    package func submitQuorumShare(
        _ e: QuorumEndpoints, share: UnsafeRawBufferPointer, nonce: String, verification: Bool = false
    ) async throws(VaultError) -> QuorumState {
        let path = verification ? (e.verifyPath ?? e.updatePath) : e.updatePath
        let nonceJSON = String(decoding: (try? JSONEncoder().encode(nonce)) ?? Data("\"\"".utf8), as: UTF8.self)
        // Any submit may be the one that completes the operation (another operator's share may
        // have arrived meanwhile), and that answer comes only once: wait for it as for sys/init.
        return try await quorumCall(
            "PUT", path, e, body: Self.shareBody(share, suffix: ",\"nonce\":\(nonceJSON)}"),
            replyTimeout: VaultTransport.oneShotReplyTimeout)
    }

    private func quorumCall(
        _ method: String, _ path: String, _ e: QuorumEndpoints, body: Data?, replyTimeout: TimeInterval? = nil
    ) async throws(VaultError) -> QuorumState {
        if e.authenticated {
            let reply: (Wrapped<QuorumState>, [String: JSONValue]) = try await call(
                method, path, body: body, accept: [200], token: true, replyTimeout: replyTimeout)
            return reply.0.data
        }
        // Vault 2.0 wants a token on its (unwrapped) rekey and generate-root endpoints too: the
        // one given goes along; without one, none does.
        return try await call(method, path, body: body, accept: [200], token: true, replyTimeout: replyTimeout).0
    }
}

extension QuorumState: RangeChecked {
    package var outOfRange: String? {
        let fields: [(String, Int?)] = [("progress", progress), ("required", required), ("t", t), ("n", n)]
        if let (name, _) = fields.first(where: { $0.1.map { !shamirRange.contains($0) } ?? false }) { return name }
        if let otpLength, !(0...4096).contains(otpLength) { return "otp_length" }
        return nil
    }
}
