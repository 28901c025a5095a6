import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import ProcessHygiene
import Shamir
import TLSMaterial

/// `keyturn verify`: an operator checks their share file offline.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check offline that your share file decrypts and holds the share issued to you.",
        discussion: """
            Decrypts KEYFILE with your PGP key (as unseal would), checks that it holds a \
            well-formed share, and, with a ceremony.json (--manifest, or the one beside the \
            file), that the file is the one recorded and, when init used \
            --client-side-encryption, that the share matches its commitment. Sends nothing. \
            Exit 0 or 1.
            """)

    @Argument(help: ArgumentHelp("Your share file.", valueName: "keyfile"))
    var keyFile: String

    @Option(
        help: ArgumentHelp("The ceremony.json to check against (default: the one beside KEYFILE).", valueName: "file"))
    var manifest: String?

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @Option(
        help: ArgumentHelp(
            "Also write an attestation, signed by your key, that you hold this share (for keyturn drill).",
            discussion: "No secret: the record's SHA-256 and generation, the file, what was proved, the time.",
            valueName: "file"))
    var attest: String?

    @OptionGroup var transcript: TranscriptOptions

    func run() throws {
        let log = try transcript.open(
            "verify", share: keyFile, manifest: try? CeremonyRecord.find(explicit: manifest, beside: keyFile),
            passphrase: passphrase.source)
        let check = try ShareFileCheck.run(keyFile, manifest: manifest, passphrase: passphrase.source)
        var lines = ["\(quoted(keyFile)): decrypts and holds a well-formed \(check.shareLength)-byte share"]
        if let (_, path) = check.record {
            if let entry = check.entry {
                lines.append("recorded in \(quoted(path)) for \(entry.userID) (\(entry.fingerprint))")
            }
            lines.append(
                check.commitmentMatched == true
                    ? "matches the commitment made at init"
                    : "\(quoted(path)) has no commitments (the server encrypted the shares), so the share itself "
                        + "cannot be "
                        + "checked offline")
        } else {
            lines.append(
                "no ceremony.json given or found beside the file: the share itself was not checked against one")
        }
        if let attest {
            try Attestation.make(check, keyFile: keyFile, passphrase: passphrase.source).write(attest)
            lines.append("attestation written to \(quoted(attest))")
        }
        // One line each, whatever the record's user id holds.
        for line in lines { Terminal.stdoutLine(neutralised(line)) }
        log?.record(result: attest == nil ? "verified" : "verified, attested")
    }
}
