import Shamir

/// Shamir's random source in production: OpenSSL's DRBG, which serves bulk requests an order
/// of magnitude faster than `getrandom(2)` here.
package final class OpenSSLRandom: RandomSource, Sendable {
    package init() {}

    package func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        try SecureRandom.fill(buffer)
    }

    /// OpenSSL 3 keeps a DRBG per thread.
    package var allowsConcurrentUse: Bool { true }
}
