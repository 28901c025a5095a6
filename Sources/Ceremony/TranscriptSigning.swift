import Foundation
import KeyturnFailure
import PGPShares

extension Transcript {
    /// How a command's lines were closed.
    package enum Closing: Sendable {
        case signed(fingerprint: String)
        case unsigned(reason: String)
        /// The command wrote no line.
        case nothing
    }

    /// Closes the command's lines, signed by the operator's key `fingerprint` (the key that
    /// decrypted their share, or the one asked for) when there is one and it can sign; a
    /// signature that cannot be made leaves the lines closed unsigned, saying why, and never
    /// fails the command.
    @discardableResult
    package func closeSigned(command: String, fingerprint: String?, passphrase: PassphraseSource) -> Closing {
        let data = signedBytes
        guard !data.isEmpty else { return .nothing }
        guard let fingerprint else {
            let reason = "no operator key: the command read no share file"
            close(command: command, signer: nil, unsignedReason: reason)
            return .unsigned(reason: reason)
        }
        do {
            let secret = try passphrase.read()
            let signature = try PGPShares.signDetached(data, fingerprint: fingerprint, passphrase: secret)
            close(command: command, signer: (fingerprint, signature), unsignedReason: nil)
            return .signed(fingerprint: fingerprint)
        } catch {
            let reason = "key \(fingerprint) could not sign: \((error as? any KeyturnFailure)?.reason ?? "\(error)")"
            close(command: command, signer: nil, unsignedReason: reason)
            return .unsigned(reason: reason)
        }
    }
}
