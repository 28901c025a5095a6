import Foundation
import Shamir
import ShamirKernels
import TLSMaterial

/// Shamir's production random source in the benchmark: OpenSSL's DRBG, as the CLI uses.
final class BenchRandom: RandomSource {
    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws { try SecureRandom.fill(buffer) }
    var allowsConcurrentUse: Bool { true }
}

/// Monotonic seconds.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// The best of `rounds` timings of `body`, in seconds.
func bestOf(_ rounds: Int, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<rounds {
        let t0 = now()
        try body()
        fastest = min(fastest, now() - t0)
    }
    return fastest
}

/// Stops the benchmark with a message on stderr: a wrong result makes every figure meaningless.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("keyturn-bench: \(message)\n".utf8))
    exit(1)
}

/// Prints `name value unit` lines that Scripts/bench turns into its table.
func report(_ name: String, _ value: Double, _ unit: String) {
    print(String(format: "%@ %.3f %@", name, value, unit))
}

/// In-memory split and combine of a `size`-byte secret, 3-of-5, with the given kernel.
func bulk(size: Int, impl: KernelImplementation, rounds: Int) throws {
    guard KernelImplementation.use(impl) else { return }
    let random = BenchRandom()
    let secret = SecretBuffer(count: size)
    try random.fill(secret.bytes)
    let shares = SecretBuffer(count: size * 5)
    let splitter = try ShamirSplitter(shares: 5, threshold: 3, random: random)
    let mib = Double(size) / 1_048_576
    let split = try bestOf(rounds) {
        // Streamed in 1 MiB pieces as the CLI does, so memory stays flat.
        var off = 0
        while off < size {
            let n = min(1 << 20, size - off)
            let piece = UnsafeRawBufferPointer(rebasing: secret.bytes[off..<(off + n)])
            let out = UnsafeMutableRawBufferPointer(rebasing: shares.bytes[(off * 5)..<(off * 5 + n * 5)])
            try splitter.split(piece, into: out)
            off += n
        }
    }
    report("split-\(impl)", mib / split, "MiB/s")
    // Shares of a piece are laid out piece by piece; combine shares 0, 2, 4 of every piece.
    let combiner = try ShamirCombiner(xCoordinates: [
        splitter.xCoordinates[0], splitter.xCoordinates[2], splitter.xCoordinates[4],
    ])
    let out = SecretBuffer(count: size)
    let combine = bestOf(rounds) {
        var off = 0
        while off < size {
            let n = min(1 << 20, size - off)
            let base = shares.bytes.baseAddress! + off * 5
            let ys = [0, 2, 4].map { UnsafeRawBufferPointer(start: base + $0 * n, count: n) }
            combiner.combine(ys, into: UnsafeMutableRawBufferPointer(rebasing: out.bytes[off..<(off + n)]))
            off += n
        }
    }
    guard memcmp(out.bytes.baseAddress!, secret.bytes.baseAddress!, size) == 0 else {
        fail("combine did not give the secret back")
    }
    report("combine-\(impl)", mib / combine, "MiB/s")
}

/// Hex encoding and decoding of `size` bytes (2 * size characters) with each implementation's
/// hex kernel, in pieces of `piece` bytes: the CLI's 1 MiB pieces stay in cache, a whole
/// 64 MiB buffer streams through memory. MiB/s counts the binary bytes (text moves at twice that).
func hex(size: Int, piece: Int, impl: KernelImplementation, rounds: Int) throws {
    let bytes = SecretBuffer(count: size)
    try BenchRandom().fill(bytes.bytes)
    let text = SecretBuffer(count: 2 * piece)
    let back = SecretBuffer(count: piece)
    let src = bytes.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    let chars = text.bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
    let dst = back.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
    var encode = 0.0, decode = 0.0
    for _ in 0..<rounds {
        var e = 0.0, d = 0.0
        var off = 0
        while off < size {
            let n = min(piece, size - off)
            let t0 = now()
            kt_hex_encode_impl(impl.rawValue, chars, src + off, n)
            let t1 = now()
            let rc = kt_hex_decode_impl(impl.rawValue, dst, chars, n)
            let t2 = now()
            guard rc == 0, memcmp(dst, src + off, n) == 0 else {
                fail("hex (\(impl)) did not decode to the bytes it encoded")
            }
            e += t1 - t0
            d += t2 - t1
            off += n
        }
        encode = encode == 0 ? e : min(encode, e)
        decode = decode == 0 ? d : min(decode, d)
    }
    let name = String(cString: kt_hex_impl_name(impl.rawValue))
    let mib = Double(size) / 1_048_576
    let label = piece == size ? "whole" : "\(piece >> 20)MiB"
    report("hex-encode-\(label)-\(name)", mib / encode, "MiB/s")
    report("hex-decode-\(label)-\(name)", mib / decode, "MiB/s")
}

/// Latency of splitting and combining a 32-byte secret (Vault's root key), 3-of-5.
func small(iterations: Int) throws {
    let random = BenchRandom()
    let secret = [UInt8](repeating: 7, count: 32)
    var shares: [[UInt8]] = []
    let split = try bestOf(5) {
        for _ in 0..<iterations { shares = try Shamir.split(secret, shares: 5, threshold: 3, random: random) }
    }
    report("split-32B", split / Double(iterations) * 1e6, "us")
    let three = [shares[0], shares[2], shares[4]]
    var back: [UInt8] = []
    let combine = try bestOf(5) {
        for _ in 0..<iterations { back = try Shamir.combine(three) }
    }
    guard back == secret else { fail("combine did not give the secret back") }
    report("combine-32B", combine / Double(iterations) * 1e6, "us")
}

@main
struct KeyturnBench {
    static func main() throws {
        let args = CommandLine.arguments.dropFirst()
        let size = (args.first.flatMap(Int.init) ?? 64) << 20
        let best = KernelImplementation.current
        report("kernel-\(best)", 1, "best")
        let r = SecretBuffer(count: 128 << 20)
        for chunk in [16384, 32768, 1 << 20, 128 << 20] {
            let t = try bestOf(3) {
                var off = 0
                while off < r.count {
                    try SecureRandom.fill(UnsafeMutableRawBufferPointer(rebasing: r.bytes[off..<(off + chunk)]));
                    off += chunk
                }
            }
            report("rand-\(chunk)", 128 / t, "MiB/s")
        }
        for impl in KernelImplementation.available.reversed() {
            try bulk(size: size, impl: impl, rounds: 3)
            try hex(size: size, piece: 1 << 20, impl: impl, rounds: 3)
            try hex(size: size, piece: size, impl: impl, rounds: 3)
        }
        KernelImplementation.use(best)
        try small(iterations: 20_000)
    }
}
