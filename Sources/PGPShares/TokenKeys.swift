internal import CGPGME
import Foundation

/// A key in this machine's keyring (GNUPGHOME) whose decrypting secret lives on a token (a
/// YubiKey, a smartcard): what `doctor` checks is plugged in before a ceremony.
package struct TokenKey: Sendable, Equatable {
    /// The key's fingerprint (hex, upper case).
    package let fingerprint: String
    package let userID: String
    /// The serial number of the card that holds it, as gpg's stub records it; nil if none.
    package let serial: String?
    /// The keygrip of its encryption subkey.
    package let keygrip: String

    /// Whether its token is here.
    package enum State: Sendable, Equatable {
        case present
        /// No token answers.
        case absent
        /// A token answers, with another serial number (another holder's YubiKey).
        case other(serial: String)
        /// gpg-agent could not be asked.
        case unknown
    }
}

extension PGPShares {
    /// The keys in this machine's keyring whose encryption subkey's secret is on a token;
    /// `fingerprint` narrows it to one key (nil: every such key).
    package static func tokenKeys(fingerprint: String? = nil) -> [TokenKey] {
        _ = initialised
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else { return [] }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        guard gpgme_op_keylist_start(ctx, fingerprint, 1) == 0 else { return [] }
        var out: [TokenKey] = []
        while true {
            var key: gpgme_key_t?
            if gpgme_op_keylist_next(ctx, &key) != 0 { break }
            guard let key else { continue }
            defer { gpgme_key_unref(key) }
            let fpr = key.pointee.fpr.map { String(cString: $0).uppercased() } ?? ""
            if let fingerprint, !sameOpenPGPKey(fpr, fingerprint) { continue }
            var sub = key.pointee.subkeys
            while let s = sub {
                if s.pointee.can_encrypt != 0 && s.pointee.is_cardkey != 0 && s.pointee.expired == 0
                    && s.pointee.revoked == 0
                {
                    let uid = key.pointee.uids.flatMap { $0.pointee.uid }.map { String(cString: $0) } ?? fpr
                    let serial = s.pointee.card_number.map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
                    let grip = s.pointee.keygrip.map { String(cString: $0) } ?? ""
                    out.append(TokenKey(fingerprint: fpr, userID: uid, serial: serial, keygrip: grip))
                    break
                }
                sub = s.pointee.next
            }
        }
        _ = gpgme_op_keylist_end(ctx)
        return out
    }

    /// Whether `key`'s token is plugged in, asked of gpg-agent's scdaemon as `gpg --card-status`
    /// does: the serial number of the token it sees (`SCD SERIALNO`; none: absent), then the
    /// key itself (`SCD READKEY` by keygrip: "Not found" when that token is not there, which
    /// gnupg-pkcs11-scd needs, as it names a slot even when it is empty). Nothing is changed
    /// and no PIN is asked for.
    package static func tokenState(_ key: TokenKey) -> TokenKey.State {
        guard let answer = AgentQuery.send("SCD SERIALNO") else { return .unknown }
        guard answer.code == 0,
            let serial = answer.status.first(where: { $0.keyword == "SERIALNO" })?.args.split(separator: " ").first
        else { return .absent }
        if let expected = key.serial, expected.uppercased() != serial.uppercased() {
            return .other(serial: String(serial))
        }
        guard let read = AgentQuery.send("SCD READKEY \(key.keygrip)") else { return .unknown }
        // Another error (an scdaemon that takes no keygrip there) leaves the serial's answer.
        return read.code == GPG_ERR_NOT_FOUND.rawValue ? .absent : .present
    }
}
