internal import COpenSSL

/// Message digests for manifests (ceremony.json records the SHA-256 of every file it lists).
package enum Digest {
    /// The SHA-256 of `bytes`, as lower-case hex.
    package static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
        // One allocation for the text (a transcript's verification hashes every line).
        var text = [UInt8](repeating: 0, count: 2 * Int(min(length, 32)))
        for (i, byte) in digest.prefix(text.count / 2).enumerated() {
            text[2 * i] = hexDigits[Int(byte >> 4)]
            text[2 * i + 1] = hexDigits[Int(byte & 15)]
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
