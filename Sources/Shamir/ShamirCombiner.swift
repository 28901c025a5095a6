import Dispatch
import ShamirKernels

#if canImport(Glibc)
    import Glibc
#endif

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
