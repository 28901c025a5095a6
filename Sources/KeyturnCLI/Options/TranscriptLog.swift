import Ceremony
import Foundation
import Synchronization

/// A command's transcript, with what every line of it shares.
final class TranscriptLog: Sendable {
    let transcript: Transcript
    let command: String
    let keyFingerprint: String?
    let shareFileSHA256: String?

    /// The transcript of the running command, so that its failure can be recorded.
    static let current = Mutex<TranscriptLog?>(nil)

    init(transcript: Transcript, command: String, keyFingerprint: String?, shareFileSHA256: String?) {
        self.transcript = transcript
        self.command = command
        self.keyFingerprint = keyFingerprint
        self.shareFileSHA256 = shareFileSHA256
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
}
