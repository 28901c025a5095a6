import ShamirKernels

/// Hex text of shares and secrets, encoded and decoded without branching on the data.
///
/// Vault's `sys/init` returns shares as lower-case hex; keyturn's plaintext share files hold
/// the same text. A lookup table indexed by secret nibbles would leak through the cache, so
/// the conversion is arithmetic.
public enum ShareHex {
    /// Writes `2 * bytes.count` lower-case hex characters into `text`.
    public static func encode(_ bytes: UnsafeRawBufferPointer, into text: UnsafeMutableRawBufferPointer) {
        precondition(text.count >= 2 * bytes.count)
        guard let src = bytes.baseAddress, let dst = text.baseAddress else { return }
        kt_hex_encode(dst.assumingMemoryBound(to: CChar.self), src.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Decodes `text` (an even number of hex characters, either case) into `bytes`.
    /// Returns false if any character is not a hex digit.
    public static func decode(_ text: UnsafeRawBufferPointer, into bytes: UnsafeMutableRawBufferPointer) -> Bool {
        precondition(text.count % 2 == 0 && bytes.count >= text.count / 2)
        guard text.count > 0 else { return true }
        guard let src = text.baseAddress, let dst = bytes.baseAddress else { return false }
        return kt_hex_decode(
            dst.assumingMemoryBound(to: UInt8.self), src.assumingMemoryBound(to: CChar.self), text.count / 2) == 0
    }

    /// Lower-case hex of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var text = [UInt8](repeating: 0, count: bytes.count * 2)
        bytes.withUnsafeBytes { src in text.withUnsafeMutableBytes { encode(src, into: $0) } }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of hex `text`, or nil if it is not an even number of hex digits.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8](repeating: 0, count: utf8.count / 2)
        let ok = utf8.withUnsafeBytes { src in out.withUnsafeMutableBytes { decode(src, into: $0) } }
        return ok ? out : nil
    }
}

/// The text forms a single Vault share takes: hex (as `keys`) or base64 (as `keys_base64`),
/// decoded without branching on the secret. One place for the share format's rules.
public enum ShareText {
    /// Vault accepts parts of 16 to 33 bytes; a Shamir share of its 32-byte key is 33 bytes and
    /// a 1-of-1 "share" is the 32-byte key itself.
    public static let acceptedLengths = 16...33

    /// Decodes trimmed share text (hex first, then base64) into `out`; returns the byte count,
    /// or nil if it is neither.
    public static func decode(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard text.count > 0, let src = text.baseAddress?.assumingMemoryBound(to: CChar.self),
            let dst = out.baseAddress?.assumingMemoryBound(to: UInt8.self)
        else { return nil }
        if text.count % 2 == 0, out.count >= text.count / 2, kt_hex_decode(dst, src, text.count / 2) == 0 {
            return text.count / 2
        }
        guard out.count >= text.count * 3 / 4 + 1 else { return nil }
        let n = kt_base64_decode(dst, src, text.count)
        return n < 0 ? nil : n
    }

    /// Whether `text` looks like a share itself (hex or base64 of an accepted length), so
    /// that a share typed on the command line can be refused.
    public static func looksLikeShare(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var scratch = [UInt8](repeating: 0, count: bytes.count + 3)
        defer { secureZero(&scratch) }
        let n = bytes.withUnsafeBytes { t in scratch.withUnsafeMutableBytes { decode(t, into: $0) } }
        return n.map { acceptedLengths.contains($0) } ?? false
    }
}
