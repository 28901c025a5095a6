import Foundation
import KeyturnTestSupport
import Testing

@testable import Shamir

@Suite("split and combine")
struct ShamirTests {
    @Test(
        "every k-subset of n shares recombines the secret",
        arguments: [(2, 2), (2, 3), (3, 5), (4, 7), (5, 5), (3, 10)])
    func everySubsetRecombines(_ k: Int, _ n: Int) throws {
        let secret: [UInt8] = (0..<32).map { UInt8($0 * 7 + 1) }
        let shares = try Shamir.split(secret, shares: n, threshold: k, random: SeededRandom(seed: UInt64(k * 100 + n)))
        #expect(shares.count == n)
        #expect(shares.allSatisfy { $0.count == 33 })
        for subset in subsets(of: n, size: k) {
            #expect(try Shamir.combine(subset.map { shares[$0] }) == secret, "subset \(subset)")
            // Order does not matter.
            #expect(try Shamir.combine(subset.reversed().map { shares[$0] }) == secret)
        }
        // More than k shares recombine too.
        #expect(try Shamir.combine(shares) == secret)
    }

    @Test("fewer than k shares do not recombine the secret")
    func fewerThanThresholdGivesGarbage() throws {
        let random = SeededRandom(seed: 7)
        for trial in 0..<50 {
            var secret = [UInt8](repeating: 0, count: 32)
            try secret.withUnsafeMutableBytes { try random.fill($0) }
            let shares = try Shamir.split(secret, shares: 6, threshold: 4, random: random)
            let pick = subsets(of: 6, size: 3)[trial % 20]
            #expect(try Shamir.combine(pick.map { shares[$0] }) != secret, "trial \(trial)")
            let pair = subsets(of: 6, size: 2)[trial % 15]
            #expect(try Shamir.combine(pair.map { shares[$0] }) != secret)
        }
    }

    @Test("x-coordinates are distinct, non-zero, and sit in the last byte")
    func coordinatesAreDistinctAndNonZero() throws {
        for seed in 0..<20 {
            let shares = try Shamir.split(
                [1, 2, 3], shares: 255, threshold: 2, random: SeededRandom(seed: UInt64(seed)))
            let xs = shares.map { $0[3] }
            #expect(Set(xs).count == 255)
            #expect(!xs.contains(0))
        }
        // A source of zeros still yields valid coordinates (rejection sampling terminates).
        let zeros = try Shamir.split([9], shares: 5, threshold: 3, random: ZeroRandom())
        #expect(Set(zeros.map { $0[1] }).count == 5)
    }

    @Test("one share with threshold one is the secret itself, as Vault returns it")
    func oneOfOneIsTheSecret() throws {
        let secret: [UInt8] = [1, 2, 3, 4]
        #expect(try Shamir.split(secret, shares: 1, threshold: 1) == [secret])
    }

    @Test("the fixed vectors, computed by an independent Python reference, are reproduced")
    func fixedVectors() throws {
        struct Vector: Decodable {
            let secret: String, shares: Int, threshold: Int, seed: UInt64, output: [String]
        }
        let url = try #require(
            Bundle.module.url(forResource: "vectors", withExtension: "json", subdirectory: "Fixtures"))
        let vectors = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: url))
        #expect(vectors.count >= 8)
        for v in vectors {
            let secret = try #require(ShareHex.decode(v.secret))
            let shares = try Shamir.split(
                secret, shares: v.shares, threshold: v.threshold, random: SeededRandom(seed: v.seed))
            #expect(shares.map(ShareHex.encode) == v.output, "vector seed \(v.seed)")
            let decoded = try v.output.map { try #require(ShareHex.decode($0)) }
            #expect(try Shamir.combine(Array(decoded.suffix(v.threshold))) == secret)
        }
    }

    @Test("streaming in pieces gives the same shares as one call, for uneven piece sizes")
    func streamingMatchesWhole() throws {
        let secret: [UInt8] = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let k = 3, n = 4
        // With a random source that yields the same stream, pieces draw coefficients per
        // piece, so the shares differ; what must hold is that they recombine.
        let splitter = try ShamirSplitter(shares: n, threshold: k, random: SeededRandom(seed: 11))
        var shares = [[UInt8]](repeating: [], count: n)
        var offset = 0
        for size in [1, 4095, 4096, 4097, 5000, 2711] {
            let piece = Array(secret[offset..<(offset + size)])
            var out = [UInt8](repeating: 0, count: size * n)
            try piece.withUnsafeBytes { p in try out.withUnsafeMutableBytes { try splitter.split(p, into: $0) } }
            for j in 0..<n { shares[j] += out[(j * size)..<((j + 1) * size)] }
            offset += size
        }
        #expect(offset == secret.count)
        for j in 0..<n { shares[j].append(splitter.xCoordinates[j]) }
        for subset in subsets(of: n, size: k) {
            #expect(try Shamir.combine(subset.map { shares[$0] }) == secret)
        }
    }
}

/// Switches the process-wide kernel, so its cases run one at a time.
@Suite("kernel implementations", .serialized)
struct KernelSwitchTests {
    @Test("the kernels this CPU lacks are named, not skipped in silence")
    func kernelsTested() {
        let available = KernelImplementation.available
        let missing = KernelImplementation.allCases.filter { !available.contains($0) }
        // Scripts/test shows this line in its summary.
        print(
            "kernels tested: \(available.map { "\($0)" }.joined(separator: ", ")); not on this CPU, untested: "
                + "\(missing.isEmpty ? "none" : missing.map { "\($0)" }.joined(separator: ", "))"
        )
        #expect(available.contains(.portable))
    }

    @Test("every kernel implementation produces the same shares", arguments: KernelImplementation.available)
    func implementationsAgree(_ impl: KernelImplementation) throws {
        let before = KernelImplementation.current
        defer { KernelImplementation.use(before) }
        let secret: [UInt8] = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 131) }
        KernelImplementation.use(.portable)
        let reference = try Shamir.split(secret, shares: 5, threshold: 3, random: SeededRandom(seed: 5))
        #expect(KernelImplementation.use(impl))
        let shares = try Shamir.split(secret, shares: 5, threshold: 3, random: SeededRandom(seed: 5))
        #expect(shares == reference)
        #expect(try Shamir.combine([shares[4], shares[0], shares[2]]) == secret)
    }

}

@Suite("invalid input")
struct ShamirErrorTests {
    @Test(
        "invalid share counts and thresholds are refused with their own codes",
        arguments: [
            (0, 0, ShamirError.Code.shareCountOutOfRange), (256, 3, .shareCountOutOfRange),
            (-1, 1, .shareCountOutOfRange),
            (3, 4, .thresholdExceedsShares), (1, 2, .thresholdExceedsShares), (255, 256, .thresholdExceedsShares),
            (3, 1, .thresholdTooSmall), (3, 0, .thresholdTooSmall), (5, -2, .thresholdTooSmall),
        ])
    func invalidParameters(_ n: Int, _ k: Int, _ code: ShamirError.Code) {
        #expect { try Shamir.split([1, 2], shares: n, threshold: k) } throws: { ($0 as? ShamirError)?.code == code }
    }

    @Test("the limits themselves are accepted: 2-of-2, 255-of-255, 1-of-1")
    func limitsAccepted() throws {
        _ = try Shamir.split([1], shares: 2, threshold: 2)
        _ = try Shamir.split([1], shares: 255, threshold: 255)
        _ = try Shamir.split([1], shares: 1, threshold: 1)
    }

    @Test("an empty secret is refused")
    func emptySecret() {
        #expect { try Shamir.split([], shares: 3, threshold: 2) } throws: { ($0 as? ShamirError)?.code == .emptySecret }
    }

    @Test("a failing random source produces an error, not shares")
    func randomFailure() {
        #expect { try Shamir.split([1, 2, 3], shares: 3, threshold: 2, random: FailingRandom()) } throws: {
            ($0 as? ShamirError)?.code == .randomFailure
        }
    }

    @Test("combine refuses bad share sets with their own codes")
    func combineErrors() throws {
        let shares = try Shamir.split([1, 2, 3], shares: 3, threshold: 2, random: SeededRandom(seed: 1))
        func code(_ s: [[UInt8]]) -> ShamirError.Code? {
            do { _ = try Shamir.combine(s); return nil } catch { return error.code }
        }
        #expect(code([]) == .tooFewShares)
        #expect(code([shares[0]]) == .tooFewShares)
        #expect(code([shares[0], [7]]) == .shareTooShort)
        #expect(code([shares[0], shares[1] + [0]]) == .shareLengthMismatch)
        #expect(code([shares[0], shares[0]]) == .duplicateShare)
        var forged = shares[1]
        forged[3] = shares[0][3]
        #expect(code([shares[0], forged]) == .duplicateShare)
        var zero = shares[1]
        zero[3] = 0
        #expect(code([shares[0], zero]) == .zeroCoordinate)
    }

    @Test("error reasons are one lower-case line without a trailing period")
    func reasonsAreOneLine() throws {
        // Each call must throw: a call that stopped throwing fails here, not silently.
        var reasons: [String] = []
        for (n, k) in [(0, 0), (3, 4), (3, 1), (256, 2)] {
            let error = #expect(throws: ShamirError.self, "validate(shares: \(n), threshold: \(k)) did not throw") {
                try Shamir.validate(shares: n, threshold: k)
            }
            reasons.append(try #require(error).reason)
        }
        let empty = #expect(throws: ShamirError.self) { try Shamir.split([], shares: 3, threshold: 2) }
        reasons.append(try #require(empty).reason)
        let one = #expect(throws: ShamirError.self) { try Shamir.combine([[1, 2, 3]]) }
        reasons.append(try #require(one).reason)
        #expect(reasons.count == 6)
        for reason in reasons {
            #expect(!reason.isEmpty)
            #expect(!reason.contains("\n"), "\(reason)")
            #expect(reason.first?.isLowercase == true, "\(reason)")
            #expect(!reason.hasSuffix("."), "\(reason)")
        }
    }
}
