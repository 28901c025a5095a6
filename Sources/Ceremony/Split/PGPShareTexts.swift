import PGPShares
import Shamir

/// The plaintext hex of every share in PGP mode, grown piece by piece in zeroing buffers until
/// each is encrypted to its holder.
final class PGPShareTexts {
    private var buffers: [SecretBuffer]
    private var lengths: [Int]

    init(count: Int) {
        buffers = (0..<count).map { _ in SecretBuffer(count: 1 << 16) }
        lengths = Array(repeating: 0, count: count)
    }

    func append(_ j: Int, _ bytes: UnsafeRawBufferPointer) {
        if lengths[j] + bytes.count > buffers[j].count {
            let bigger = SecretBuffer(count: max(2 * buffers[j].count, lengths[j] + bytes.count))
            bigger.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: buffers[j].bytes[0..<lengths[j]]))
            buffers[j] = bigger  // the old buffer zeroes itself as it goes
        }
        UnsafeMutableRawBufferPointer(rebasing: buffers[j].bytes[lengths[j]...]).copyMemory(from: bytes)
        lengths[j] += bytes.count
    }

    func encrypt(_ j: Int, to key: PublicKeyInfo, scratchHome: String) throws(PGPError) -> [UInt8] {
        defer { buffers[j] = SecretBuffer(count: 0) }
        return try PGPShares.encrypt(
            UnsafeRawBufferPointer(rebasing: buffers[j].bytes[0..<lengths[j]]), to: key, scratchHome: scratchHome)
    }
}
