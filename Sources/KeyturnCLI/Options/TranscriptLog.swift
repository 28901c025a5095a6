import Ceremony
import Foundation
import Synchronization

/// A command's transcript, with what every line of it shares.
final class TranscriptLog: Sendable {
    let transcript: Transcript
    let command: String
    let keyFingerprint: String?
    let shareFileSHA256: String?
    /// The key that signs the command's lines (--sign-with, else the operator's), and where its
    /// passphrase comes from.
    let signer: String?
    let passphrase: PassphraseSource

    /// The transcript of the running command, so that its failure can be recorded.
    static let current = Mutex<TranscriptLog?>(nil)

    init(
        transcript: Transcript, command: String, keyFingerprint: String?, shareFileSHA256: String?, signer: String?,
        passphrase: PassphraseSource
    ) {
        self.transcript = transcript
        self.command = command
        self.keyFingerprint = keyFingerprint
        self.shareFileSHA256 = shareFileSHA256
        self.signer = signer
        self.passphrase = passphrase
    }

    func record(
        node: String? = nil, result: String, progress: String? = nil, nonce: String? = nil, error: String? = nil
    ) {
        transcript.record(
            Transcript.Entry(
                command: command, node: node, result: result, progress: progress, nonce: nonce,
                keyFingerprint: keyFingerprint, shareFileSHA256: shareFileSHA256, error: error))
    }

    /// The fingerprint the ceremony record gives for a share file.
    static func fingerprint(of file: String?, in record: CeremonyRecord?) -> String? {
        guard let file, let record else { return nil }
        let name = URL(fileURLWithPath: file).lastPathComponent
        return (record.shareFiles + (record.recoveryFiles ?? [])).first { $0.file == name }?.fingerprint
    }

    /// Records the failure a command ended with, if it keeps a transcript.
    static func recordFailure(_ message: String) {
        current.withLock { $0 }?.record(result: "failed", error: message)
    }

    /// Closes the running command's lines (signed when it has a key), once, as keyturn ends.
    static func finishCurrent() {
        guard
            let log = current.withLock({ log -> TranscriptLog? in
                defer { log = nil }
                return log
            })
        else { return }
        let closing = log.transcript.closeSigned(
            command: log.command, fingerprint: log.signer, passphrase: log.passphrase)
        if case .unsigned(let reason) = closing, log.signer != nil {
            Terminal.warn("the transcript's lines of this command are not signed: \(reason)")
        }
    }
}
