internal import COpenSSL

/// HMAC-SHA-256 over data given piece by piece (OpenSSL's EVP_MAC), for a secret too large to
/// hold at once. The key is copied into OpenSSL's context, which OpenSSL clears when freed.
package final class HMACSHA256 {
    private let context: OpaquePointer

    /// A MAC keyed with `key`; nil when OpenSSL cannot make one.
    package init?(key: UnsafeRawBufferPointer) {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { return nil }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { return nil }
        self.context = context
        let ok = "SHA256".withCString { name -> Bool in
            var params = [
                OSSL_PARAM_construct_utf8_string("digest", UnsafeMutablePointer(mutating: name), 0),
                OSSL_PARAM_construct_end(),
            ]
            return EVP_MAC_init(
                context, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count, &params) == 1
        }
        if !ok { return nil }
    }

    /// Adds `bytes`.
    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = EVP_MAC_update(context, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// The 32-byte MAC of everything added.
    package func finish() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        _ = EVP_MAC_final(context, &out, &length, out.count)
        return Array(out.prefix(length))
    }

    deinit { EVP_MAC_CTX_free(context) }
}
