import Foundation
import PGPShares
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// The text of a share file: one line of lower-case hex (y-bytes, then the x byte), the form
/// Vault's sys/init returns in `keys`.
package enum ShareLine {
    /// A whole share (x byte included) as its file's line.
    package static func line(_ share: [UInt8]) -> [UInt8] {
        var text = [UInt8](repeating: 0, count: 2 * share.count + 1)
        share.withUnsafeBytes { s in text.withUnsafeMutableBytes { ShareHex.encode(s, into: $0) } }
        text[text.count - 1] = 0x0a
        return text
    }
}
