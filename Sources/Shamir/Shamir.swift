import Dispatch
import ShamirKernels

#if canImport(Glibc)
    import Glibc
#endif

/// Shamir secret sharing in Vault's format: each share is the y-bytes followed by one
/// x-coordinate byte, so a share is one byte longer than the secret.
///
/// `split` and `combine` work on whole secrets in memory; `ShamirSplitter` and
/// `ShamirCombiner` do the same piece by piece for secrets that are streamed.
public enum Shamir {
    /// The largest number of shares: x-coordinates are the non-zero bytes.
    public static let maximumShares = 255

    /// Checks a share count and threshold the way Vault does: 2 <= threshold <= shares <= 255,
    /// or 1 and 1, which means the secret is not split at all.
    public static func validate(shares: Int, threshold: Int) throws(ShamirError) {
        if shares < 1 || shares > maximumShares {
            throw ShamirError(
                .shareCountOutOfRange, "the number of shares must be between 1 and \(maximumShares), not \(shares)")
        }
        if threshold > shares {
            throw ShamirError(
                .thresholdExceedsShares,
                "the threshold (\(threshold)) cannot be larger than the number of shares (\(shares))")
        }
        if threshold < 1 || (threshold == 1 && shares > 1) {
            throw ShamirError(
                .thresholdTooSmall, "the threshold must be at least 2 when there are several shares, not \(threshold)")
        }
    }

    /// Splits `secret` into `shares` shares of which any `threshold` recombine it.
    /// With one share and threshold one, the only share is the secret itself (as Vault does).
    public static func split(
        _ secret: [UInt8], shares: Int, threshold: Int, random: any RandomSource = SystemRandom()
    ) throws(ShamirError) -> [[UInt8]] {
        guard !secret.isEmpty else { throw ShamirError(.emptySecret, "the secret is empty") }
        let splitter = try ShamirSplitter(shares: shares, threshold: threshold, random: random)
        let length = secret.count
        let ys = SecretBuffer(count: length * shares)
        let failure = secret.withUnsafeBytes { s -> ShamirError? in
            do throws(ShamirError) { try splitter.split(s, into: ys.bytes) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        var result: [[UInt8]] = []
        result.reserveCapacity(shares)
        for j in 0..<shares {
            var share = [UInt8](UnsafeRawBufferPointer(rebasing: ys.bytes[(j * length)..<((j + 1) * length)]))
            if threshold > 1 { share.append(splitter.xCoordinates[j]) }
            result.append(share)
        }
        return result
    }

    /// Recombines a secret from at least two shares of equal length with distinct, non-zero
    /// x-coordinates. Fewer shares than the threshold give a wrong secret, not an error: the
    /// threshold is not recorded in the shares.
    public static func combine(_ shares: [[UInt8]]) throws(ShamirError) -> [UInt8] {
        let length = try checkShareLengths(shares.map(\.count))
        let combiner = try ShamirCombiner(xCoordinates: shares.map { $0[length] })
        let out = SecretBuffer(count: length)
        withYBytes(shares, length: length) { ys in combiner.combine(ys, into: out.bytes) }
        return [UInt8](UnsafeRawBufferPointer(rebasing: out.bytes[0..<length]))
    }

    /// Checks the number and lengths of shares to combine; returns the secret's length.
    public static func checkShareLengths(_ lengths: [Int]) throws(ShamirError) -> Int {
        guard lengths.count >= 2 else {
            throw ShamirError(
                .tooFewShares, "at least two shares are needed to recombine a secret, not \(lengths.count)")
        }
        guard let first = lengths.first, lengths.allSatisfy({ $0 >= 2 }) else {
            throw ShamirError(.shareTooShort, "a share must be at least two bytes long")
        }
        guard lengths.allSatisfy({ $0 == first }) else {
            throw ShamirError(.shareLengthMismatch, "the shares do not all have the same length")
        }
        return first - 1
    }

    private static func withYBytes(_ shares: [[UInt8]], length: Int, _ body: ([UnsafeRawBufferPointer]) -> Void) {
        // Pin every share's storage for the duration of the call.
        func pin(_ index: Int, _ acc: [UnsafeRawBufferPointer]) {
            if index == shares.count { return body(acc) }
            shares[index].withUnsafeBytes { pin(index + 1, acc + [UnsafeRawBufferPointer(rebasing: $0[0..<length])]) }
        }
        pin(0, [])
    }
}

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

/// Recombines a secret piece by piece from shares with known x-coordinates.
public struct ShamirCombiner: Sendable {
    /// The x-coordinates of the shares, in the order their pieces are given.
    public let xCoordinates: [UInt8]
    /// The Lagrange basis polynomials evaluated at 0: the secret is the sum of y_j * weight_j.
    private let weights: [UInt8]

    /// Bytes per pass: the running sum stays in L1 while every share's block is added.
    static let blockSize = 4096

    /// Prepares to combine shares with these x-coordinates (public values).
    public init(xCoordinates: [UInt8]) throws(ShamirError) {
        guard xCoordinates.count >= 2 else {
            throw ShamirError(
                .tooFewShares, "at least two shares are needed to recombine a secret, not \(xCoordinates.count)")
        }
        if xCoordinates.contains(0) {
            throw ShamirError(.zeroCoordinate, "a share has the x-coordinate 0, which no valid share has")
        }
        var seen = Set<UInt8>()
        for x in xCoordinates where !seen.insert(x).inserted {
            throw ShamirError(
                .duplicateShare, "two shares have the same x-coordinate (\(x)): the same share was given twice")
        }
        self.xCoordinates = xCoordinates
        self.weights = xCoordinates.indices.map { j in
            var w: UInt8 = 1
            for (m, xm) in xCoordinates.enumerated() where m != j {
                w = GF256.multiply(w, GF256.multiply(xm, GF256.inverse(xm ^ xCoordinates[j])))
            }
            return w
        }
    }

    /// Writes `secret.count` bytes of the secret from the matching y-bytes of each share
    /// (same order as the x-coordinates, each at least `secret.count` long).
    public func combine(_ ys: [UnsafeRawBufferPointer], into secret: UnsafeMutableRawBufferPointer) {
        precondition(ys.count == weights.count, "one piece per share")
        let n = secret.count
        guard n > 0, let out = secret.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let sources = ys.map { y in
            precondition(y.count >= n, "share piece too short")
            return y.baseAddress!.assumingMemoryBound(to: UInt8.self)
        }
        // Block by block, so the running sum stays in cache across the shares.
        var start = 0
        while start < n {
            let len = min(Self.blockSize, n - start)
            for (j, src) in sources.enumerated() {
                kt_mul_xor(out + start, src + start, weights[j], j == 0 ? nil : UnsafePointer(out + start), len)
            }
            start += len
        }
    }
}
