internal import CGPGME
import Foundation
import Shamir

/// Detached signatures, for the ceremony transcript: an operator's key signs what their
/// command did; anyone with the public keys checks it.
extension PGPShares {
    /// An armoured detached signature over `data` by the secret key `fingerprint` in the
    /// keyring (or on a token); `passphrase` switches to loopback pinentry.
    package static func signDetached(
        _ data: [UInt8], fingerprint: String, passphrase: SecretBuffer? = nil
    ) throws(PGPError) -> String {
        _ = initialised
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else { throw PGPError(.engine, "gpgme could not start") }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        gpgme_set_armor(ctx, 1)
        var key: gpgme_key_t?
        guard gpgme_get_key(ctx, fingerprint, &key, 1) == 0, let key else {
            throw PGPError(.notYourKey, "no secret key \(fingerprint) in your keyring to sign with")
        }
        defer { gpgme_key_unref(key) }
        _ = gpgme_signers_add(ctx, key)
        let loopback = passphrase.map(Loopback.init)
        loopback?.install(on: ctx)
        var plain: gpgme_data_t?
        let made = data.withUnsafeBufferPointer {
            gpgme_data_new_from_mem(
                &plain, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                $0.count, 1)
        }
        guard made == 0, let plain else { throw PGPError(.engine, "gpgme could not read the data to sign") }
        defer { gpgme_data_release(plain) }
        var signature: gpgme_data_t?
        guard gpgme_data_new(&signature) == 0, let signature else {
            throw PGPError(.engine, "gpgme could not allocate a buffer")
        }
        let err = withExtendedLifetime(loopback) { gpgme_op_sign(ctx, plain, signature, GPGME_SIG_MODE_DETACH) }
        var size = 0
        let raw = gpgme_data_release_and_get_mem(signature, &size)
        defer { gpgme_free(raw) }
        guard err == 0, let raw else {
            throw PGPError(.engine, "gpg could not sign: \(String(cString: gpgme_strerror(err)).lowercased())")
        }
        return String(decoding: UnsafeRawBufferPointer(start: raw, count: size), as: UTF8.self)
    }

    /// One signature's verdict.
    package struct SignatureCheck: Sendable {
        /// The fingerprint of the signer's primary key, which ceremony records name holders by
        /// (the signature itself names the subkey that made it, when it is not the primary).
        package let fingerprint: String
        /// Whether the signature is good (the data unchanged, made by that key).
        package let good: Bool
        /// Why not, when it is not ("bad signature", "no public key to check it").
        package let problem: String?
    }

    /// Checks a detached signature over `data` with the public keys in `homeDirectory` (or the
    /// user's keyring).
    package static func verifyDetached(
        signature: String, data: [UInt8], homeDirectory: String? = nil
    ) throws(PGPError) -> [SignatureCheck] {
        _ = initialised
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else { throw PGPError(.engine, "gpgme could not start") }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        if let homeDirectory { _ = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, homeDirectory) }
        let sigBytes = Array(signature.utf8)
        var sig: gpgme_data_t?
        var text: gpgme_data_t?
        let madeSig = sigBytes.withUnsafeBufferPointer {
            gpgme_data_new_from_mem(
                &sig, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                $0.count, 1)
        }
        let madeText = data.withUnsafeBufferPointer {
            gpgme_data_new_from_mem(
                &text, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self),
                $0.count, 1)
        }
        guard madeSig == 0, madeText == 0, let sig, let text else {
            throw PGPError(.engine, "gpgme could not read the signature")
        }
        defer {
            gpgme_data_release(sig)
            gpgme_data_release(text)
        }
        let err = gpgme_op_verify(ctx, sig, text, nil)
        guard err == 0, let result = gpgme_op_verify_result(ctx) else {
            throw PGPError(.notPGP, "not a readable signature (\(String(cString: gpgme_strerror(err)).lowercased()))")
        }
        var checks: [SignatureCheck] = []
        var s = result.pointee.signatures
        while let signature = s {
            let fpr = primaryFingerprint(ctx, signature.pointee.fpr.map { String(cString: $0) } ?? "?")
            let code = kt_gpgme_err_code(signature.pointee.status)
            let problem: String?
            switch code {
            case 0: problem = nil
            case GPG_ERR_BAD_SIGNATURE.rawValue:
                problem = "bad signature: the lines were changed after they were signed"
            case GPG_ERR_NO_PUBKEY.rawValue: problem = "no public key to check it (import the operator's key)"
            default: problem = String(cString: gpgme_strerror(signature.pointee.status)).lowercased()
            }
            checks.append(SignatureCheck(fingerprint: fpr, good: code == 0, problem: problem))
            s = signature.pointee.next
        }
        return checks
    }

    /// The primary key's fingerprint for a signature made by `signingKey`. A YubiKey's usual
    /// layout signs with a subkey of its own (the primary kept offline), and holders are named by
    /// their primary key; a key not in the keyring keeps the name the signature gives.
    private static func primaryFingerprint(_ ctx: gpgme_ctx_t, _ signingKey: String) -> String {
        var key: gpgme_key_t?
        guard gpgme_get_key(ctx, signingKey, &key, 0) == 0, let key else { return signingKey.uppercased() }
        defer { gpgme_key_unref(key) }
        return key.pointee.subkeys?.pointee.fpr.map { String(cString: $0).uppercased() } ?? signingKey.uppercased()
    }
}
