internal import CGPGME
import KeyturnFailure
import Shamir

/// Why a PGP operation failed: a code for programs, a reason for people, facts for hints.
package struct PGPError: KeyturnFailure, CustomStringConvertible {
    /// The failures an operator must tell apart.
    package enum Code: Hashable, Sendable {
        /// The input is not an OpenPGP message.
        case notPGP
        /// The message is encrypted to a key whose secret part is not in this keyring.
        case notYourKey
        /// The passphrase was wrong.
        case wrongPassphrase
        /// No pinentry could ask for the passphrase (no terminal, no agent).
        case noPinentry
        /// The passphrase prompt was cancelled.
        case cancelled
        /// The secret key lives on a token (a smartcard, a YubiKey) that is not present.
        /// Facts: key.
        case tokenAbsent
        /// The token's PIN was wrong. Facts: key.
        case wrongPIN
        /// The token's PIN is blocked (too many wrong PINs). Facts: key.
        case pinBlocked
        /// GPGME or gpg itself failed.
        case engine
    }

    package let code: Code
    package let reason: String
    /// Facts a hint may name ("fingerprint" of a key file that holds several keys, ...).
    package let facts: [String: String]

    package init(_ code: Code, _ reason: String, facts: [String: String] = [:]) {
        self.code = code
        self.reason = reason
        self.facts = facts
    }

    package var failureCode: String { "pgp.\(code)" }

    package var description: String { reason }
}

/// Decrypts share files with GPGME in the user's own keyring, through gpg-agent (so pinentry
/// asks for the passphrase), or with a passphrase supplied for automation (loopback).
package enum PGPShares {
    /// GPGME's one-time initialisation (gpgme_check_version), before any context is made.
    static let initialised: Bool = {
        _ = kt_gpgme_init()
        return true
    }()

    /// Decrypts an OpenPGP message (armoured or binary). `homeDirectory` overrides gpg's
    /// default keyring; `passphrase` switches to loopback pinentry. The plaintext comes back
    /// in a buffer that is zeroed when released.
    package static func decrypt(
        _ message: UnsafeRawBufferPointer, homeDirectory: String? = nil, passphrase: SecretBuffer? = nil
    ) throws(PGPError) -> SecretBuffer {
        _ = initialised
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else {
            throw PGPError(.engine, "gpgme could not start (is gnupg installed?)")
        }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        if let homeDirectory { _ = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, homeDirectory) }
        let loopback = passphrase.map(Loopback.init)
        loopback?.install(on: ctx)
        var cipher: gpgme_data_t?
        guard
            gpgme_data_new_from_mem(&cipher, message.baseAddress?.assumingMemoryBound(to: CChar.self), message.count, 1)
                == 0, let cipher
        else {
            throw PGPError(.engine, "gpgme could not read the message")
        }
        defer { gpgme_data_release(cipher) }
        var plain: gpgme_data_t?
        guard gpgme_data_new(&plain) == 0, let plain else {
            throw PGPError(.engine, "gpgme could not allocate a buffer")
        }
        let err = withExtendedLifetime(loopback) { gpgme_op_decrypt(ctx, cipher, plain) }
        // Take the plaintext out of GPGME's buffer and wipe that buffer, whatever happened.
        var size = 0
        let raw = gpgme_data_release_and_get_mem(plain, &size)
        let out = SecretBuffer(count: size)
        if let raw {
            if size > 0 { out.bytes.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: size)) }
            secureZero(UnsafeMutableRawBufferPointer(start: raw, count: size))
            gpgme_free(raw)
        }
        guard err != 0 else { return out }
        if let loopback, loopback.askedAgain, let keyID = loopback.keyID {
            throw tokenFailure(keyID: keyID, key: loopback.key ?? keyID, homeDirectory: homeDirectory)
                ?? describe(err, ctx: ctx, key: loopback.key)
        }
        throw describe(err, ctx: ctx, key: loopback?.key)
    }

    /// After gpg asked a second time for a token's PIN: the token is absent, or the PIN was
    /// wrong (told apart by asking the agent whether the token can be read now); nil for a key
    /// that is not on a token.
    private static func tokenFailure(keyID: String, key: String, homeDirectory: String?) -> PGPError? {
        guard let grip = TokenProbe.cardKeygrip(keyID: keyID, homeDirectory: homeDirectory) else { return nil }
        if TokenProbe.tokenPresent(keygrip: grip) == false {
            return PGPError(.tokenAbsent, "the token that holds \(key) is not present", facts: ["key": key])
        }
        return PGPError(.wrongPIN, "wrong PIN for the token that holds \(key)", facts: ["key": key])
    }

    private static func describe(_ err: gpgme_error_t, ctx: gpgme_ctx_t, key: String?) -> PGPError {
        let key = key ?? "your key"
        let code = kt_gpgme_err_code(err)
        let text = String(cString: gpgme_strerror(err)).lowercased()
        switch code {
        case GPG_ERR_NO_SECKEY.rawValue, GPG_ERR_UNUSABLE_SECKEY.rawValue:
            var keys: [String] = []
            if let result = gpgme_op_decrypt_result(ctx) {
                var r = result.pointee.recipients
                while let recipient = r {
                    if let id = recipient.pointee.keyid { keys.append(String(cString: id)) }
                    r = recipient.pointee.next
                }
            }
            let to = keys.isEmpty ? "" : " (it is encrypted to key \(keys.joined(separator: ", ")))"
            return PGPError(
                .notYourKey, "this share is not for you: no secret key in your keyring can decrypt it\(to)",
                facts: ["recipients": keys.joined(separator: ", ")])
        case GPG_ERR_BAD_PASSPHRASE.rawValue:
            return PGPError(.wrongPassphrase, "wrong passphrase for your PGP key")
        case GPG_ERR_CARD_NOT_PRESENT.rawValue, GPG_ERR_CARD_REMOVED.rawValue, GPG_ERR_NO_SCDAEMON.rawValue:
            return PGPError(
                .tokenAbsent, "the token that holds \(key) is not present", facts: ["key": key])
        case GPG_ERR_BAD_PIN.rawValue:
            return PGPError(.wrongPIN, "wrong PIN for the token that holds \(key)", facts: ["key": key])
        case GPG_ERR_PIN_BLOCKED.rawValue:
            return PGPError(
                .pinBlocked, "the PIN of the token that holds \(key) is blocked (too many wrong PINs)",
                facts: ["key": key])
        case GPG_ERR_CANCELED.rawValue, GPG_ERR_FULLY_CANCELED.rawValue:
            return PGPError(.cancelled, "the passphrase prompt was cancelled")
        case GPG_ERR_NO_PIN_ENTRY.rawValue, GPG_ERR_PIN_ENTRY.rawValue, GPG_ERR_NO_AGENT.rawValue,
            GPG_ERR_ENOTTY.rawValue & 0xffff:
            return PGPError(
                .noPinentry, "no pinentry could ask for your PGP passphrase (\(text))",
                facts: [:])
        case GPG_ERR_NO_DATA.rawValue, GPG_ERR_INV_DATA.rawValue, GPG_ERR_BAD_DATA.rawValue:
            return PGPError(.notPGP, "the file is not a readable PGP message (\(text))")
        default:
            if text.contains("ioctl") || text.contains("pinentry") {
                return PGPError(
                    .noPinentry, "no pinentry could ask for your PGP passphrase (\(text))",
                    facts: [:])
            }
            return PGPError(.engine, "gpg could not decrypt the share: \(text)")
        }
    }
}

/// Loopback pinentry for one decryption: the passphrase (or a token's PIN) given for
/// automation, and which key it was asked for.
final class Loopback {
    let passphrase: SecretBuffer
    /// The key asked for, as gpg names it ("Tina Token <tina@example.org> (7B48F71D3E3EA0AC)").
    private(set) var key: String?
    /// Its key id.
    private(set) var keyID: String?
    /// Whether gpg asked again without saying the answer was bad: what a token does on a wrong
    /// PIN (gpg-agent asks up to three times), and, for ever, when the token is not present
    /// (tens of thousands of times a second, seen with GnuPG 2.2 and gnupg-pkcs11-scd).
    private(set) var askedAgain = false
    private var asked = 0

    init(_ passphrase: SecretBuffer) { self.passphrase = passphrase }

    /// Makes `ctx` ask this object (loopback pinentry) instead of gpg-agent's pinentry. The
    /// context must not outlive it.
    func install(on ctx: gpgme_ctx_t) {
        _ = gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK)
        gpgme_set_passphrase_cb(
            ctx,
            { hook, hint, _, previousWasBad, fd in
                // Capture-free: the state arrives through the hook pointer.
                let loopback = Unmanaged<Loopback>.fromOpaque(hook!).takeUnretainedValue()
                return loopback.answer(hint: hint.map { String(cString: $0) }, previousWasBad: previousWasBad, fd)
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Answers gpg's request once; a second request ends the decryption, so that a wrong PIN
    /// costs one try of the token's counter and a missing token does not hang.
    func answer(hint: String?, previousWasBad: Int32, _ fd: Int32) -> gpgme_error_t {
        if let hint {
            let parts = hint.split(separator: " ", maxSplits: 1)
            keyID = parts.first.map(String.init)
            key = parts.count == 2 ? "\(parts[1]) (\(parts[0]))" : hint
        }
        if previousWasBad != 0 { return gpgme_error_t(GPG_ERR_BAD_PASSPHRASE.rawValue) }
        asked += 1
        if asked > 1 {
            askedAgain = true
            return gpgme_error_t(GPG_ERR_CANCELED.rawValue)
        }
        if passphrase.count > 0 { _ = gpgme_io_writen(fd, passphrase.bytes.baseAddress, passphrase.count) }
        _ = gpgme_io_writen(fd, "\n", 1)
        return 0
    }
}
