import Shamir

/// What a share file (or standard input) holds, told from its bytes without decrypting:
/// the forms `unseal`, `verify` and `combine` accept. Looked at in place, so no copy of a
/// plaintext share is made in an ordinary array.
package enum ShareFileContent: Equatable, Sendable {
    /// An ASCII-armoured PGP message (`-----BEGIN PGP MESSAGE-----`).
    case armouredPGP
    /// Vault's form of an encrypted share: base64 of a binary PGP message, on one line.
    case vaultBase64PGP
    /// Anything else: plaintext share text (hex or base64), or garbage.
    case plain

    /// Whitespace allowed around a share's text.
    package static func isSpace(_ c: UInt8) -> Bool { c == 0x0a || c == 0x0d || c == 0x20 || c == 0x09 }

    /// Decides what `text` is.
    package static func classify(_ text: UnsafeRawBufferPointer) -> ShareFileContent {
        if text.starts(with: "-----BEGIN PGP".utf8) { return .armouredPGP }
        // Vault's base64 of binary OpenPGP: a packet tag byte has its top bit set, and a
        // share's text is at most 66 characters, a PGP message's is hundreds.
        let head = text.prefix(40).prefix { !isSpace($0) }
        guard head.count >= 4, text.reduce(0, { $0 + (isSpace($1) ? 0 : 1) }) > 100 else { return .plain }
        let out = SecretBuffer(count: 4)
        let n = ShareText.decode(UnsafeRawBufferPointer(rebasing: head.prefix(4)), into: out.bytes)
        return n != nil && out.bytes[0] & 0x80 != 0 ? .vaultBase64PGP : .plain
    }

    /// `text` without the whitespace around it.
    package static func trimmed(_ text: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let start = text.firstIndex { !isSpace($0) } ?? text.count
        let end = max(start, (text.lastIndex { !isSpace($0) } ?? -1) + 1)
        return UnsafeRawBufferPointer(rebasing: text[start..<end])
    }

    /// The binary PGP message inside Vault's base64 form, in a zeroing buffer; nil if the
    /// text is not base64.
    package static func binaryMessage(fromVaultBase64 text: UnsafeRawBufferPointer) -> SecretBuffer? {
        let body = trimmed(text)
        guard body.count > 0 else { return nil }
        let scratch = SecretBuffer(count: body.count)
        guard let n = ShareText.decode(body, into: scratch.bytes) else { return nil }
        let message = SecretBuffer(count: n)
        message.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch.bytes[0..<n]))
        return message
    }
}
