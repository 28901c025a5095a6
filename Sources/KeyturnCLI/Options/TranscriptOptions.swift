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

    @Option(
        name: .customLong("sign-with"),
        help: ArgumentHelp(
            "Sign this command's transcript lines with this key (fingerprint).",
            discussion: "Default: the key the ceremony record names for the share file read; without one, the lines "
                + "are closed unsigned.",
            valueName: "keyid"))
    var signWith: String?

    init() {}

    /// Opens the transcript, if one was asked for, as the record of `command`; a failure the
    /// command ends with is recorded too (by KeyturnMain).
    func open(
        _ command: String, share file: String? = nil, manifest: (CeremonyRecord, String)? = nil,
        passphrase: PassphraseSource = .agent
    ) throws -> TranscriptLog? {
        guard let transcript else { return nil }
        let key = TranscriptLog.fingerprint(of: file, in: manifest?.0)
        let log = TranscriptLog(
            transcript: try Transcript(path: transcript, version: Keyturn.version), command: command,
            keyFingerprint: key, shareFileSHA256: Transcript.fileDigest(file), signer: signWith ?? key,
            passphrase: passphrase)
        TranscriptLog.current.withLock { $0 = log }
        return log
    }
}
