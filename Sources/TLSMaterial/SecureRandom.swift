internal import COpenSSL

/// Random bytes from OpenSSL's DRBG (seeded by the kernel), for keys, serial numbers and
/// Shamir coefficients.
///
/// Used rather than `getrandom(2)` for bulk requests: about 6.5 GiB/s here against 350 MiB/s,
/// which is what lets a 64 MiB split run at memory speed.
package enum SecureRandom {
    /// OpenSSL refused to produce random bytes (its DRBG could not be seeded).
    package struct Failure: Error, CustomStringConvertible {
        /// OpenSSL's error queue, flattened.
        package let detail: String
        package var description: String { "openssl's random number generator failed: \(detail)" }
    }

    /// The largest request OpenSSL takes in one call.
    private static let maxRequest = Int(Int32.max)

    /// Fills `buffer` with random bytes.
    package static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        guard var p = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var left = buffer.count
        while left > 0 {
            let n = min(left, maxRequest)
            guard RAND_bytes(p, Int32(n)) == 1 else {
                throw Failure(detail: lastErrorString())
            }
            p += n
            left -= n
        }
    }

    private static func lastErrorString() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "no detail" }
        var buf = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
