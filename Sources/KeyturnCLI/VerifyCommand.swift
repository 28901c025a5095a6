import ArgumentParser
import Ceremony
import Foundation
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

    @OptionGroup var transcript: TranscriptOptions

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let log = try transcript.open(
            "verify", share: keyFile, manifest: try? CeremonyRecord.find(explicit: manifest, beside: keyFile))
        let share = try ShareInput.read(keyFile, passphrase: passphrase.source)
        guard share.count == 33 || share.count == 32 else {
            throw KeyturnError(
                "the share in \(keyFile) is \(share.count) bytes; a Vault share is 33 bytes (32 for a single-share key)"
            )
        }
        var lines = ["\(keyFile): decrypts and holds a well-formed \(share.count)-byte share"]
        if let (record, path) = try CeremonyRecord.find(explicit: manifest, beside: keyFile) {
            let name = URL(fileURLWithPath: keyFile).lastPathComponent
            if let entry = record.shareFiles.first(where: { $0.file == name }) {
                let bytes = FileManager.default.contents(atPath: keyFile).map { [UInt8]($0) } ?? []
                guard Digest.sha256Hex(bytes) == entry.sha256 else {
                    throw KeyturnError(
                        "\(keyFile) is not the file \(path) records for \(entry.userID): its SHA-256 differs")
                }
                lines.append("recorded in \(path) for \(entry.userID) (\(entry.fingerprint))")
            }
            switch record.matches(share.bytes, file: keyFile) {
            case true?: lines.append("matches the commitment made at init")
            case false?:
                throw KeyturnError(
                    "the share in \(keyFile) does not match the commitment in \(path): it is not the share issued "
                        + "for this file",
                    hint: "do not use it to unseal; ask for the ceremony record and your file again")
            case nil:
                lines.append(
                    "\(path) has no commitments (the server encrypted the shares), so the share itself cannot be "
                        + "checked offline"
                )
            }
        } else {
            lines.append(
                "no ceremony.json given or found beside the file: the share itself was not checked against one")
        }
        for line in lines { Terminal.stdoutLine(line) }
        log?.record(result: "verified")
    }
}
