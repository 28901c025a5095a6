import Dispatch
import ShamirKernels

#if canImport(Glibc)
    import Glibc
#endif

/// Splits a secret piece by piece, so a secret of any size streams through bounded memory.
///
/// The x-coordinates are drawn once, at creation; every piece then uses fresh random
/// coefficients. Concatenating the outputs for each share, then its x-coordinate, gives the
/// same shares as splitting the whole secret.
public final class ShamirSplitter {
    /// How many shares recombine the secret.
    public let threshold: Int
    /// The x-coordinate of each share, distinct and non-zero (empty for a 1-of-1 split).
    public let xCoordinates: [UInt8]

    private let random: any RandomSource
    /// One buffer of random coefficients per worker thread.
    private var coefficients: [SecretBuffer] = []

    /// Bytes of secret per pass: its coefficients, secret bytes and share bytes stay in cache
    /// (about 8 x 16 KiB for 3-of-5), and each random draw is still a bulk request.
    public static let blockSize = 16384

    /// Draws the x-coordinates for `shares` shares with threshold `threshold`.
    public init(shares: Int, threshold: Int, random: any RandomSource) throws(ShamirError) {
        try Shamir.validate(shares: shares, threshold: threshold)
        self.threshold = threshold
        self.random = random
        self.xCoordinates = threshold == 1 ? [] : try Self.drawCoordinates(shares, random)
    }

    /// The number of shares.
    public var shareCount: Int { threshold == 1 ? 1 : xCoordinates.count }

    /// Computes the next `piece.count` y-bytes of every share: share j's bytes go to
    /// `shares[j * piece.count ..< (j + 1) * piece.count]`.
    public func split(_ piece: UnsafeRawBufferPointer, into shares: UnsafeMutableRawBufferPointer) throws(ShamirError) {
        let n = piece.count
        precondition(shares.count >= n * shareCount, "output buffer too small")
        guard n > 0, let secret = piece.baseAddress?.assumingMemoryBound(to: UInt8.self),
            let out = shares.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return }
        if threshold == 1 {
            out.update(from: secret, count: n)
            return
        }
        let degree = threshold - 1
        let block = Self.blockSize
        let blocks = (n + block - 1) / block
        // Large pieces are shared among the cores when the random source allows it; the
        // random draws then dominate, and OpenSSL's DRBG keeps one state per thread.
        let workers = random.allowsConcurrentUse ? max(1, min(Self.cores, blocks / 4)) : 1
        while coefficients.count < workers { coefficients.append(SecretBuffer(count: degree * block)) }
        let failed = UnsafeMutableBufferPointer<Bool>.allocate(capacity: workers)
        failed.initialize(repeating: false)
        defer { failed.deallocate() }
        let job = SplitJob(
            secret: secret, out: out, n: n, xs: xCoordinates, degree: degree, random: random,
            coefficients: coefficients.map { $0.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) },
            failed: failed, blocksPerWorker: (blocks + workers - 1) / workers)
        if workers == 1 {
            job.run(worker: 0)
        } else {
            DispatchQueue.concurrentPerform(iterations: workers) { job.run(worker: $0) }
        }
        for buffer in coefficients { buffer.wipe() }
        if failed.contains(true) {
            throw ShamirError(.randomFailure, "the random number generator failed")
        }
    }

    /// Online processors, for sharing large pieces among threads.
    private static let cores = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Distinct non-zero x-coordinates: the first `count` of a random permutation of 1...255
    /// (as Vault does), by Fisher-Yates with rejection sampling on bytes drawn 256 at a time.
    private static func drawCoordinates(_ count: Int, _ random: any RandomSource) throws(ShamirError) -> [UInt8] {
        var pool = [UInt8](1...255)
        var bytes = [UInt8](repeating: 0, count: 256)
        var used = bytes.count
        func nextByte() throws(ShamirError) -> UInt8 {
            if used == bytes.count {
                do { try bytes.withUnsafeMutableBytes { try random.fill($0) } } catch {
                    throw ShamirError(.randomFailure, "the random number generator failed")
                }
                used = 0
            }
            defer { used += 1 }
            return bytes[used]
        }
        for i in 0..<count {
            let range = 255 - i
            // Largest multiple of range that fits in a byte: values at or above it are rejected.
            let limit = 256 - 256 % range
            var r = Int(try nextByte())
            while r >= limit { r = Int(try nextByte()) }
            pool.swapAt(i, i + r % range)
        }
        return Array(pool[0..<count])
    }
}

/// One piece's split, divided by blocks among worker threads; each worker has its own
/// coefficient buffer, and a worker whose random draw fails marks itself and stops.
private struct SplitJob: @unchecked Sendable {
    let secret: UnsafePointer<UInt8>
    let out: UnsafeMutablePointer<UInt8>
    let n: Int
    let xs: [UInt8]
    let degree: Int
    let random: any RandomSource
    let coefficients: [UnsafeMutablePointer<UInt8>]
    let failed: UnsafeMutableBufferPointer<Bool>
    let blocksPerWorker: Int

    func run(worker: Int) {
        let block = ShamirSplitter.blockSize
        let coeff = coefficients[worker]
        var start = worker * blocksPerWorker * block
        let end = min(n, start + blocksPerWorker * block)
        while start < end {
            let len = min(block, end - start)
            // Fresh coefficients per block, drawn in one call and used while still in cache:
            // coefficient m (1...degree) of byte start + i lives at coeff[(m - 1) * len + i].
            do { try random.fill(UnsafeMutableRawBufferPointer(start: coeff, count: degree * len)) } catch {
                failed[worker] = true
                return
            }
            func term(_ m: Int) -> UnsafePointer<UInt8> {
                m == 0 ? secret + start : UnsafePointer(coeff + (m - 1) * len)
            }
            for (j, x) in xs.enumerated() {
                let y = out + j * n + start
                // Horner: y = c_deg; y = y * x + c_m for m = deg-1 ... 0.
                kt_mul_xor(y, term(degree), x, term(degree - 1), len)
                var m = degree - 2
                while m >= 0 {
                    kt_mul_xor(y, y, x, term(m), len)
                    m -= 1
                }
            }
            start += len
        }
    }
}
