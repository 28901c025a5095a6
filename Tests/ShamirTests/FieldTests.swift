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

    @Test("every bulk kernel equals the reference for every constant and every length up to 200",
          arguments: KernelImplementation.available)
    func bulkKernelMatchesReference(_ impl: KernelImplementation) {
        var a = [UInt8](repeating: 0, count: 200)
        var b = [UInt8](repeating: 0, count: 200)
        for i in 0..<200 { a[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11); b[i] = UInt8(truncatingIfNeeded: i &* 91 &+ 5) }
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

    @Test("any non-hex character or odd length is refused", arguments: ["0g", "g0", "0 ", " 0", "0:", "/0", "@0", "0G", "`0", "0", "abc", "0x"])
    func refusesNonHex(_ text: String) {
        #expect(ShareHex.decode(text) == nil)
    }
}

private func format2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

@Suite("share text")
struct ShareTextTests {
    @Test("the branch-free base64 decoder agrees with Foundation on 2000 random inputs, padded or not")
    func base64MatchesFoundation() {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 1...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            let text = Data(bytes).base64EncodedString()
            for form in [text, String(text.prefix { $0 != "=" })] {
                let input = Array(form.utf8)
                var out = [UInt8](repeating: 0, count: input.count + 3)
                let n = input.withUnsafeBytes { t in out.withUnsafeMutableBytes { ShareText.decode(t, into: $0) } }
                // Hex-looking base64 (all of it hex digits, even length) decodes as hex first, by design.
                if form.count % 2 == 0, form.allSatisfy(\.isHexDigit) { continue }
                #expect(n.map { Array(out[0..<$0]) } == bytes, "\(form)")
            }
        }
    }

    @Test("text that is neither hex nor base64 is refused", arguments: ["", "a", "zz!z", "abc$", "ab cd", "====", "a==="])
    func refusesOther(_ text: String) {
        let input = Array(text.utf8)
        var out = [UInt8](repeating: 0, count: input.count + 3)
        let n = input.withUnsafeBytes { t in out.withUnsafeMutableBytes { ShareText.decode(t, into: $0) } }
        #expect(n == nil || n == 0, "\(text) -> \(String(describing: n))")
    }

    @Test("a share on the command line is recognised in hex and base64; paths are not")
    func looksLikeShare() {
        let share = [UInt8](repeating: 0xab, count: 33)
        #expect(ShareText.looksLikeShare(ShareHex.encode(share)))
        #expect(ShareText.looksLikeShare(Data(share).base64EncodedString()))
        #expect(!ShareText.looksLikeShare("secrets/alice.asc.key"))
        #expect(!ShareText.looksLikeShare("alice.key"))
    }
}
