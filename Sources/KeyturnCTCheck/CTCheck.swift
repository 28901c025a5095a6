import CValgrind
import Shamir
internal import ShamirKernels

#if canImport(Glibc)
    import Glibc
#endif

// The constant-time check ("ctgrind"): run under valgrind's memcheck with every secret byte
// marked undefined, so that any branch or memory index computed from a secret is reported
// as a use of uninitialised data. Exit 0 only if the deliberately leaky probe is caught and
// every real path (split, combine, hex) reports nothing. valgrind 3.19 emulates neither
// AVX-512 nor GFNI, so the GFNI kernel (one gf2p8mulb per vector, no tables, no branches)
// is not exercised here; every other kernel is.

/// Random bytes that memcheck treats as secret once `secret` is set (the coefficients),
/// while the x-coordinates drawn before stay public, as they are in Vault's format.
final class MarkingRandom: RandomSource {
    var secret = false
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws {
        try SystemRandom().fill(buffer)
        if secret { kt_ct_secret(buffer.baseAddress, buffer.count) }
    }
}

func line(_ text: String) {
    var t = text + "\n"
    t.withUTF8 { _ = write(1, $0.baseAddress, $0.count) }
}

/// Runs `body` and returns how many memcheck errors it caused.
func errors(_ body: () throws -> Void) rethrows -> UInt {
    let before = kt_ct_error_count()
    try body()
    return kt_ct_error_count() - before
}

@main
struct CTCheck {
    static func main() throws {
        guard kt_ct_has_valgrind_headers() == 1 else {
            line("ctgrind: built without valgrind/memcheck.h; install valgrind and rebuild")
            exit(2)
        }
        guard kt_ct_running_on_valgrind() == 1 else {
            line("ctgrind: run me under valgrind: valgrind --error-exitcode=0 \(CommandLine.arguments[0])")
            exit(2)
        }
        var failed = false

        // The check's own check: a table lookup indexed by a secret byte must be reported.
        var probe: UInt8 = 17
        kt_ct_secret(&probe, 1)
        let leaks = errors {
            var v = kt_ct_leaky_lookup(probe); kt_ct_public(&v, 1); if v == 99 { line("") }
        }
        line(
            "ctgrind: leaky probe (table indexed by a secret): \(leaks) report(s) "
                + "\(leaks > 0 ? "- caught, the check works" : "- NOT caught")"
        )
        if leaks == 0 { failed = true }

        let length = 3000  // several blocks of every kernel, plus ragged tails
        for impl in KernelImplementation.available {
            KernelImplementation.use(impl)
            var secret = [UInt8](repeating: 0, count: length)
            try secret.withUnsafeMutableBytes { try SystemRandom().fill($0) }
            let original = secret
            let random = MarkingRandom()
            let splitter = try ShamirSplitter(shares: 5, threshold: 3, random: random)
            random.secret = true
            var ys = [UInt8](repeating: 0, count: 5 * length)
            var hex = [UInt8](repeating: 0, count: 2 * length)
            var decoded = [UInt8](repeating: 0, count: length)
            var back = [UInt8](repeating: 0, count: length)

            let split = try errors {
                secret.withUnsafeBytes { kt_ct_secret($0.baseAddress, $0.count) }
                try secret.withUnsafeBytes { s in try ys.withUnsafeMutableBytes { try splitter.split(s, into: $0) } }
            }
            let hexErrors = errors {
                ys.withUnsafeBytes { y in
                    hex.withUnsafeMutableBytes {
                        ShareHex.encode(UnsafeRawBufferPointer(rebasing: y[0..<length]), into: $0)
                    }
                }
                let ok = hex.withUnsafeBytes { h in decoded.withUnsafeMutableBytes { ShareHex.decode(h, into: $0) } }
                var okByte: UInt8 = ok ? 1 : 0
                kt_ct_public(&okByte, 1)  // validity is reported, by design: one bit per whole text
                precondition(okByte == 1)
            }
            let combine = try errors {
                let combiner = try ShamirCombiner(xCoordinates: [
                    splitter.xCoordinates[0], splitter.xCoordinates[2], splitter.xCoordinates[4],
                ])
                ys.withUnsafeBytes { y in
                    let parts = [0, 2, 4].map {
                        UnsafeRawBufferPointer(rebasing: y[($0 * length)..<(($0 + 1) * length)])
                    }
                    back.withUnsafeMutableBytes { combiner.combine(parts, into: $0) }
                }
            }
            back.withUnsafeBytes { kt_ct_public($0.baseAddress, $0.count) }
            decoded.withUnsafeBytes { kt_ct_public($0.baseAddress, $0.count) }
            ys.withUnsafeBytes { kt_ct_public($0.baseAddress, $0.count) }
            secret.withUnsafeBytes { kt_ct_public($0.baseAddress, $0.count) }  // `original` may share its storage
            let correct = back == original && Array(decoded) == Array(ys[0..<length])
            line(
                "ctgrind: \(impl): split \(split), hex \(hexErrors), combine \(combine) report(s); round trip "
                    + "\(correct ? "ok" : "WRONG")"
            )
            if split + hexErrors + combine > 0 || !correct { failed = true }
        }
        line(failed ? "ctgrind: FAILED" : "ctgrind: passed: no branch or memory index depends on a secret byte")
        exit(failed ? 1 : 0)
    }
}
