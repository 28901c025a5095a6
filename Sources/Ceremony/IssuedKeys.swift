import Foundation
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

#if canImport(Glibc)
    import Glibc
#endif

/// What the server issued: the shares (hex, and base64; each base64 one a binary PGP message
/// when the server encrypted it), recovery keys, the root token (base64 of a PGP message when
/// encrypted). From `sys/init`'s answer or a completed rekey.
package struct IssuedKeys {
    package var keys: [String]
    package var keysBase64: [String]
    package var recoveryKeysBase64: [String]?
    package var rootToken: String?

    package init(keys: [String], keysBase64: [String], recoveryKeysBase64: [String]? = nil, rootToken: String? = nil) {
        self.keys = keys
        self.keysBase64 = keysBase64
        self.recoveryKeysBase64 = recoveryKeysBase64
        self.rootToken = rootToken
    }

    package init(_ answer: InitResponse) {
        self.init(
            keys: answer.keys, keysBase64: answer.keysBase64, recoveryKeysBase64: answer.recoveryKeysBase64,
            rootToken: answer.rootToken)
    }
}
