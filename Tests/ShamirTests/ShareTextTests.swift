import Foundation
import ShamirKernels
import Testing

@testable import Shamir

func format2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

@Suite("share text")
struct ShareTextTests {
    @Test("the branch-free base64 decoder agrees with Foundation on 2000 random inputs, padded or not")
    func base64MatchesFoundation() {
        // Seeded, so a failure can be replayed: the seed is in every message.
        let seed = UInt64.random(in: 0...UInt64.max)
        var g = SplitMix64Generator(seed: seed)
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 1...40, using: &g)).map { _ in UInt8.random(in: 0...255, using: &g) }
            let text = Data(bytes).base64EncodedString()
            for form in [text, String(text.prefix { $0 != "=" })] {
                let input = Array(form.utf8)
                var out = [UInt8](repeating: 0, count: input.count + 3)
                let n = input.withUnsafeBytes { t in out.withUnsafeMutableBytes { ShareText.decode(t, into: $0) } }
                // Hex-looking base64 (all of it hex digits, even length) decodes as hex first, by design.
                if form.count % 2 == 0, form.allSatisfy(\.isHexDigit) { continue }
                #expect(n.map { Array(out[0..<$0]) } == bytes, "\(form) (seed \(seed))")
            }
        }
    }

    @Test(
        "text that is neither hex nor base64 is refused", arguments: ["", "a", "zz!z", "abc$", "ab cd", "====", "a==="])
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
