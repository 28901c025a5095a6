import Ceremony
import Shamir
import TLSMaterial

/// Shamir's random source in production: OpenSSL's DRBG, which serves bulk requests an order
/// of magnitude faster than `getrandom(2)` here.
final class OpenSSLRandom: RandomSource, Sendable {
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        try SecureRandom.fill(buffer)
    }

    /// OpenSSL 3 keeps a DRBG per thread.
    var allowsConcurrentUse: Bool { true }
}
