import Foundation
import ShamirKernels
import Testing

@testable import Shamir

/// The textbook bit-by-bit product with branches: slow and obviously right.
func referenceMultiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
    var a = UInt16(a), b = b, r: UInt16 = 0
    while b != 0 {
        if b & 1 == 1 { r ^= a }
        a <<= 1
        if a & 0x100 != 0 { a ^= 0x11b }
        b >>= 1
    }
    return UInt8(r)
}

@Suite("GF(2^8) arithmetic")
struct FieldTests {
    @Test("multiplication agrees with the reference on all 256 x 256 pairs")
    func multiplicationIsExhaustivelyCorrect() {
        for a in 0...255 {
            for b in 0...255 {
                let got = GF256.multiply(UInt8(a), UInt8(b))
                let want = referenceMultiply(UInt8(a), UInt8(b))
                if got != want { Issue.record("\(a) * \(b) = \(got), want \(want)"); return }
            }
        }
    }

    @Test("every non-zero element times its inverse is one; zero maps to zero")
    func inverseOfEveryElement() {
        #expect(GF256.inverse(0) == 0)
        for a in 1...255 {
            #expect(referenceMultiply(UInt8(a), GF256.inverse(UInt8(a))) == 1, "inverse of \(a)")
        }
    }

    @Test("Vault's known products: 3*7=9, 0x53*0xca=1")
    func knownProducts() {
        #expect(GF256.multiply(3, 7) == 9)
        #expect(GF256.multiply(0x53, 0xca) == 1)
    }

    @Test(
        "every bulk kernel equals the reference for every constant and every length up to 200",
        arguments: KernelImplementation.available)
    func bulkKernelMatchesReference(_ impl: KernelImplementation) {
        var a = [UInt8](repeating: 0, count: 200)
        var b = [UInt8](repeating: 0, count: 200)
        for i in 0..<200 {
            a[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11); b[i] = UInt8(truncatingIfNeeded: i &* 91 &+ 5)
        }
        for c in 0...255 {
            for n in [0, 1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200] {
                var out = [UInt8](repeating: 0xAA, count: 200)
                var outNoB = [UInt8](repeating: 0xAA, count: 200)
                kt_mul_xor_impl(impl.rawValue, &out, a, UInt8(c), b, n)
                kt_mul_xor_impl(impl.rawValue, &outNoB, a, UInt8(c), nil, n)
                for i in 0..<200 {
                    let want: UInt8 = i < n ? referenceMultiply(a[i], UInt8(c)) ^ b[i] : 0xAA
                    let wantNoB: UInt8 = i < n ? referenceMultiply(a[i], UInt8(c)) : 0xAA
                    if out[i] != want || outNoB[i] != wantNoB {
                        Issue.record("\(impl): c=\(c) n=\(n) i=\(i)")
                        return
                    }
                }
            }
        }
    }

    @Test("the bulk kernel works in place (dst aliases a and b)", arguments: KernelImplementation.available)
    func bulkKernelInPlace(_ impl: KernelImplementation) {
        let src: [UInt8] = (0..<100).map { UInt8($0 * 3 % 256) }
        var y = src
        y.withUnsafeMutableBufferPointer { p in
            kt_mul_xor_impl(impl.rawValue, p.baseAddress, p.baseAddress, 0x1d, p.baseAddress, 100)
        }
        for i in 0..<100 { #expect(y[i] == referenceMultiply(src[i], 0x1d) ^ src[i]) }
    }
}

@Suite("hex")
struct HexTests {
    @Test("encoding every byte gives lower-case hex and decodes back")
    func roundTripsEveryByte() {
        let all = (0...255).map(UInt8.init)
        let text = ShareHex.encode(all)
        #expect(text == all.map { String(format2($0)) }.joined())
        #expect(ShareHex.decode(text) == all)
        #expect(ShareHex.decode(text.uppercased()) == all)
    }

    @Test(
        "any non-hex character or odd length is refused",
        arguments: ["0g", "g0", "0 ", " 0", "0:", "/0", "@0", "0G", "`0", "0", "abc", "0x"])
    func refusesNonHex(_ text: String) {
        #expect(ShareHex.decode(text) == nil)
    }

    /// Bytes 0-255 in turn, then pseudo-random ones: every byte value at every position class.
    private static func testBytes(_ n: Int, seed: UInt64) -> [UInt8] {
        var bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0) }
        if n > 256 {
            bytes.withUnsafeMutableBytes {
                try? SeededRandom(seed: seed).fill(UnsafeMutableRawBufferPointer(rebasing: $0[256...]))
            }
        }
        return bytes
    }

    @Test(
        "every hex kernel encodes as the scalar reference: every byte value, lengths 0-300, unaligned starts",
        arguments: KernelImplementation.available)
    func kernelsEncodeAsReference(_ impl: KernelImplementation) {
        let reference = KernelImplementation.portable.rawValue
        for offset in 0..<4 {
            for n in 0...300 {
                let bytes = Self.testBytes(n + offset, seed: UInt64(n))
                var want = [CChar](repeating: 0, count: 2 * n + 1)
                var got = [CChar](repeating: 0x55, count: 2 * n + offset + 1)
                bytes.withUnsafeBufferPointer { b in
                    let src = b.baseAddress! + offset
                    want.withUnsafeMutableBufferPointer { kt_hex_encode_impl(reference, $0.baseAddress, src, n) }
                    got.withUnsafeMutableBufferPointer {
                        kt_hex_encode_impl(impl.rawValue, $0.baseAddress! + offset, src, n)
                    }
                }
                #expect(
                    Array(got[offset..<(offset + 2 * n)]) == Array(want[0..<(2 * n)]),
                    "\(impl), length \(n), offset \(offset)")
                #expect(got[offset + 2 * n] == 0x55, "\(impl) wrote past the end at length \(n)")
            }
        }
        // The reference itself: lower-case digits, high nibble first.
        let all = (0...255).map(UInt8.init)
        var text = [CChar](repeating: 0, count: 512)
        text.withUnsafeMutableBufferPointer { t in
            all.withUnsafeBufferPointer { kt_hex_encode_impl(reference, t.baseAddress, $0.baseAddress, 256) }
        }
        #expect(String(decoding: text.map { UInt8(bitPattern: $0) }, as: UTF8.self) == all.map(format2).joined())
    }

    @Test(
        "every hex kernel decodes as the scalar reference, either case, lengths 0-300, unaligned starts",
        arguments: KernelImplementation.available)
    func kernelsDecodeAsReference(_ impl: KernelImplementation) {
        for offset in 0..<4 {
            for n in 0...300 {
                let bytes = Self.testBytes(n, seed: UInt64(1000 + n))
                var text = Array(repeating: UInt8(ascii: "x"), count: offset) + Array(bytes.map(format2).joined().utf8)
                // Every other length in upper case.
                if n % 2 == 1 { text = text.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f") ? $0 - 32 : $0 } }
                var got = [UInt8](repeating: 0xee, count: n + 1)
                let rc = text.withUnsafeBufferPointer { t in
                    got.withUnsafeMutableBufferPointer { g in
                        t.baseAddress!.withMemoryRebound(to: CChar.self, capacity: t.count) {
                            kt_hex_decode_impl(impl.rawValue, g.baseAddress, $0 + offset, n)
                        }
                    }
                }
                #expect(rc == 0, "\(impl), length \(n), offset \(offset)")
                #expect(Array(got[0..<n]) == bytes, "\(impl), length \(n), offset \(offset)")
                #expect(got[n] == 0xee, "\(impl) wrote past the end at length \(n)")
            }
        }
    }

    @Test(
        "every hex kernel refuses a non-hex character at every position of texts up to 300 bytes",
        arguments: KernelImplementation.available)
    func kernelsRefuseNonHexEverywhere(_ impl: KernelImplementation) {
        // The characters just outside each digit range, and a few far from them.
        let wrong: [UInt8] = [0x2f, 0x3a, 0x40, 0x47, 0x60, 0x67, 0x00, 0x20, 0x7f, 0x80, 0xb0, 0xc6, 0xff]
        for n in [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 300] {
            let good = Array(Self.testBytes(n, seed: UInt64(n)).map(format2).joined().utf8)
            for position in 0..<(2 * n) {
                var text = good
                text[position] = wrong[position % wrong.count]
                var out = [UInt8](repeating: 0, count: n)
                let rc = text.withUnsafeBufferPointer { t in
                    out.withUnsafeMutableBufferPointer { o in
                        t.baseAddress!.withMemoryRebound(to: CChar.self, capacity: t.count) {
                            kt_hex_decode_impl(impl.rawValue, o.baseAddress, $0, n)
                        }
                    }
                }
                #expect(rc == -1, "\(impl): \(text[position]) at \(position) of \(2 * n) accepted")
            }
        }
    }
}

/// SplitMix64 as a RandomNumberGenerator, for replayable random tests.
struct SplitMix64Generator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
