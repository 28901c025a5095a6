internal import COpenSSL
import Foundation
import KeyturnFailure

/// A private key (EC P-256 by default), owned and freed by this value.
package final class PrivateKey: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    /// A fresh EC P-256 key.
    package static func generateP256() throws(TLSMaterialError) -> PrivateKey {
        guard let k = kt_ec_p256_keygen() else {
            throw TLSMaterialError(.openssl, "openssl could not make an EC P-256 key")
        }
        return PrivateKey(k)
    }

    /// Reads a PEM private key.
    package init(pem: [UInt8], name: String) throws(TLSMaterialError) {
        let bio = try MemoryBIO(pem)
        guard let k = PEM_read_bio_PrivateKey(bio.pointer, nil, nil, nil) else {
            ERR_clear_error()  // OpenSSL's per-thread error queue would otherwise grow
            throw TLSMaterialError(.unreadable, "\(name) is not a PEM private key")
        }
        pointer = k
    }

    /// PKCS#8 PEM.
    package func pem() throws(TLSMaterialError) -> [UInt8] {
        let bio = try MemoryBIO()
        guard PEM_write_bio_PrivateKey(bio.pointer, pointer, nil, nil, 0, nil, nil) == 1 else {
            throw TLSMaterialError(.openssl, "openssl could not write the key")
        }
        return bio.bytes()
    }
}
