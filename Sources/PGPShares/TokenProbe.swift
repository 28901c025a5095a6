internal import CGPGME
import Foundation

/// Whether the token that holds a secret key is present, asked of gpg-agent (`SCD READKEY`
/// with the key's keygrip: "Not found" when the token is not there). Used only after a
/// decryption through a token failed, to tell a wrong PIN from a missing token without
/// trying the PIN again (a YubiKey blocks its PIN after three wrong tries).
enum TokenProbe {
    /// The keygrip of the secret (sub)key whose key id ends with `keyID`, when it lives on a
    /// token; nil for a key on disk or one not found.
    static func cardKeygrip(keyID: String, homeDirectory: String?) -> String? {
        var ctx: gpgme_ctx_t?
        guard gpgme_new(&ctx) == 0, let ctx else { return nil }
        defer { gpgme_release(ctx) }
        _ = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)
        if let homeDirectory { _ = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, nil, homeDirectory) }
        var key: gpgme_key_t?
        guard gpgme_get_key(ctx, keyID, &key, 1) == 0, let key else { return nil }
        defer { gpgme_key_unref(key) }
        var subkey = key.pointee.subkeys
        while let s = subkey {
            let id = s.pointee.keyid.map { String(cString: $0) } ?? ""
            if sameOpenPGPKey(id, keyID) {
                guard s.pointee.is_cardkey != 0, let grip = s.pointee.keygrip else { return nil }
                return String(cString: grip)
            }
            subkey = s.pointee.next
        }
        return nil
    }

    /// Whether gpg-agent's scdaemon can read the key with `keygrip` now; nil when the agent
    /// could not be asked.
    static func tokenPresent(keygrip: String) -> Bool? {
        AgentQuery.send("SCD READKEY \(keygrip)").reply.map { $0.code == 0 }
    }
}
