import ArgumentParser
import Ceremony
import Foundation
import Synchronization

/// `--transcript FILE` on every command that talks to a server or handles a share.
struct TranscriptOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Append what this command did (node, result, progress, nonce, key fingerprint, share file SHA-256; "
                + "never a secret) to this JSON-lines file (0600).",
            valueName: "file"))
    var transcript: String?

    init() {}

    /// Opens the transcript, if one was asked for, as the record of `command`; a failure the
    /// command ends with is recorded too (by KeyturnMain).
    func open(
        _ command: String, share file: String? = nil, manifest: (CeremonyRecord, String)? = nil
    ) throws -> TranscriptLog? {
        guard let transcript else { return nil }
        let log = TranscriptLog(
            transcript: try Transcript(path: transcript, version: Keyturn.version), command: command,
            keyFingerprint: TranscriptLog.fingerprint(of: file, in: manifest?.0),
            shareFileSHA256: Transcript.fileDigest(file))
        TranscriptLog.current.withLock { $0 = log }
        return log
    }
}
