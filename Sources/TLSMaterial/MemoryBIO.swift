internal import COpenSSL
import Foundation
import KeyturnFailure

/// A memory BIO, freed with its owner.
final class MemoryBIO {
    let pointer: OpaquePointer

    init() throws(TLSMaterialError) {
        guard let b = BIO_new(BIO_s_mem()) else { throw TLSMaterialError(.openssl, "openssl could not allocate") }
        pointer = b
    }

    convenience init(_ bytes: [UInt8]) throws(TLSMaterialError) {
        try self.init()
        _ = bytes.withUnsafeBytes { BIO_write(pointer, $0.baseAddress, Int32($0.count)) }
    }

    deinit { BIO_free(pointer) }

    func bytes() -> [UInt8] {
        var data: UnsafeMutablePointer<CChar>?
        let n = kt_bio_mem_data(pointer, &data)
        guard n > 0, let data else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: data, count: n))
    }
}
