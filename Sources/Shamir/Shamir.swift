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
