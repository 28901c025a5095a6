internal import CGPGME

extension PGPShares {
    /// Whether a subkey can take a share now: it can encrypt, and is neither expired, revoked
    /// nor invalid.
    static func encrypts(_ s: gpgme_subkey_t) -> Bool {
        s.pointee.can_encrypt != 0 && s.pointee.expired == 0 && s.pointee.revoked == 0 && s.pointee.invalid == 0
    }

    /// `key` imported into the keyring of `ctx` (a scratch one), and looked up there.
    static func imported(_ key: PublicKeyInfo, ctx: gpgme_ctx_t) throws(PGPError) -> gpgme_key_t {
        var keyData: gpgme_data_t?
        let made = key.binary.withUnsafeBytes {
            gpgme_data_new_from_mem(&keyData, $0.baseAddress?.assumingMemoryBound(to: CChar.self), $0.count, 1)
        }
        guard made == 0, let keyData else { throw PGPError(.engine, "gpgme could not read the key") }
        defer { gpgme_data_release(keyData) }
        guard gpgme_op_import(ctx, keyData) == 0 else {
            throw PGPError(.engine, "gpg could not import \(key.userID)'s key")
        }
        var handle: gpgme_key_t?
        guard gpgme_get_key(ctx, key.fingerprint, &handle, 0) == 0, let handle else {
            throw PGPError(.engine, "gpg could not find \(key.userID)'s key after importing it")
        }
        return handle
    }
}
