import Foundation
import Shamir
import TLSMaterial

/// Where split's y-bytes go, share by share, as hex: into each share's pending file, or (PGP
/// mode) its text gathered for encryption. The last `hold` positions of every share are held
/// back until the whole secret was read, so that the digest's tag can still be put into them.
final class ShareOutput {
    private let files: [PendingFile]
    private let plaintexts: PGPShareTexts?
    private let hold: Int
    /// Share j's held y-bytes at `j * hold`.
    private let held: SecretBuffer
    private var heldCount = 0
    private let hex = SecretBuffer(count: 2 * SplitRun.chunkSize + 64)
    /// The y-bytes of each share while the secret is shorter than a digest needs (their line's
    /// checksum is written instead).
    private(set) var shortLines: [[UInt8]]
    /// The secret's length so far.
    private(set) var total = 0

    init(files: [PendingFile], plaintexts: PGPShareTexts?, hold: Int) {
        self.files = files
        self.plaintexts = plaintexts
        self.hold = hold
        held = SecretBuffer(count: max(1, hold * files.count))
        shortLines = Array(repeating: [], count: files.count)
    }

    /// Adds one piece: share j's `stride` y-bytes at `j * stride` of `ys`.
    func append(_ ys: UnsafeMutableRawBufferPointer, stride: Int) throws {
        if hold == 0 && total < SplitDigest.minimumSecretLength {
            for j in files.indices { shortLines[j] += Array(ys[(j * stride)..<(j * stride + stride)]) }
        }
        total += stride
        // Of the held bytes and this piece, all but the last `kept` go out now, held bytes first.
        let kept = min(hold, heldCount + stride)
        let out = heldCount + stride - kept
        let outHeld = min(heldCount, out)
        let outPiece = out - outHeld
        for j in files.indices {
            let row = UnsafeMutableRawBufferPointer(rebasing: ys[(j * stride)..<(j * stride + stride)])
            try write(j, UnsafeRawBufferPointer(rebasing: held.bytes[(j * hold)..<(j * hold + outHeld)]))
            try write(j, UnsafeRawBufferPointer(rebasing: row[0..<outPiece]))
            // What stays held: the rest of the held bytes, then the end of this piece.
            var next = [UInt8](held.bytes[(j * hold + outHeld)..<(j * hold + heldCount)])
            next += row[outPiece..<stride]
            for (i, b) in next.enumerated() { held.bytes[j * hold + i] = b }
            secureZero(&next)
        }
        heldCount = kept
    }

    /// Puts `values` at x = 255 into the held positions (the tag).
    func constrainHeld(values: [UInt8], xs: [UInt8], threshold: Int) {
        SplitDigest.constrain(
            held.bytes, stride: hold, positions: Array(0..<heldCount), values: values, xs: xs, threshold: threshold)
    }

    /// Writes the held bytes.
    func flushHeld() throws {
        for j in files.indices {
            try write(j, UnsafeRawBufferPointer(rebasing: held.bytes[(j * hold)..<(j * hold + heldCount)]))
        }
        heldCount = 0
    }

    /// Zeroes what it held.
    func release() {
        held.wipe()
        hex.wipe()
        for j in shortLines.indices { secureZero(&shortLines[j]) }
    }

    private func write(_ j: Int, _ y: UnsafeRawBufferPointer) throws {
        guard y.count > 0 else { return }
        ShareHex.encode(y, into: hex.bytes)
        let text = UnsafeRawBufferPointer(rebasing: hex.bytes[0..<(2 * y.count)])
        if let plaintexts { plaintexts.append(j, text) } else { try files[j].write(text) }
    }
}

/// The digest's key K (16 random bytes, the first positions of D at x = 255) and the GMAC of
/// the secret under it.
final class DigestKey {
    private(set) var keyBytes: [UInt8]
    let gmac: GMAC

    init(random: any RandomSource) throws {
        var key = [UInt8](repeating: 0, count: SplitDigest.keyLength)
        do { try key.withUnsafeMutableBytes { try random.fill($0) } } catch {
            throw CeremonyError("the random number generator failed")
        }
        guard let gmac = key.withUnsafeBytes({ GMAC(key: $0) }) else {
            secureZero(&key)
            throw CeremonyError("OpenSSL cannot make a GMAC")
        }
        keyBytes = key
        self.gmac = gmac
    }

    deinit { secureZero(&keyBytes) }
}

extension SplitRun {
    /// A split's identity: 16 random bytes, in hex.
    static func splitID(_ random: any RandomSource) throws -> String {
        var id = [UInt8](repeating: 0, count: 16)
        do { try id.withUnsafeMutableBytes { try random.fill($0) } } catch {
            throw CeremonyError("the random number generator failed")
        }
        return ShareHex.encode(id)
    }
}
