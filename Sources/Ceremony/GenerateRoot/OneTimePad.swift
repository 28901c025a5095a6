import Foundation
import KeyturnFailure

/// Vault's one-time pad: the encoded token is base64 (without padding) of token XOR OTP.
package enum OneTimePad {
    /// The token, from the encoded token and the pad that `generate-root start` was given.
    package static func decode(encoded: [UInt8], otp: [UInt8]) throws -> [UInt8] {
        var text = String(decoding: encoded, as: UTF8.self)
        while text.count % 4 != 0 { text += "=" }
        guard let masked = Data(base64Encoded: text) else { throw CeremonyError("the encoded token is not base64") }
        guard masked.count == otp.count else {
            throw CeremonyError(
                "the encoded token is \(masked.count) bytes but the one-time pad is \(otp.count): they do not "
                    + "belong together",
                code: .padMismatch)
        }
        return zip(masked, otp).map { $0 ^ $1 }
    }

    /// The trimmed first line of the pad's or the encoded token's file (`-`: standard input);
    /// a file holding the pad must be private.
    package static func readLine(_ path: String, what: String, secret: Bool) throws -> [UInt8] {
        let line = try SecretFiles.firstLine(.path(path), privateHolding: secret ? "the \(what)" : nil)
        let trimmed = withExtendedLifetime(line) { Array(line.bytes).filter { $0 != 0x20 && $0 != 0x09 } }
        guard !trimmed.isEmpty else { throw CeremonyError("\(quoted(path)) holds no \(what)") }
        return trimmed
    }
}
