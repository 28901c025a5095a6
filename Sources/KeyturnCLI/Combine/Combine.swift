import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import PGPShares
import ProcessHygiene
import Shamir

/// `keyturn combine`: share files back into the secret.
struct Combine: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recombine a secret from share files, to standard output or --output.",
        discussion: """
            Each share file is a PGP message encrypted to its holder (as 'split --pgp-keys' \
            writes it; decrypted with GPGME through the holder's gpg-agent), or one line of hex \
            (as 'split --no-pgp' writes it, or one of the 'keys' Vault's sys/init returns) in a \
            file not readable by group or others. \
            Shares do not record their threshold: fewer shares than it give a wrong secret, \
            not an error.
            """)

    @Option(
        name: .shortAndLong,
        help: "Write the secret to this file (created 0600, never overwriting) instead of standard output.")
    var output: String?

    @Argument(help: "The share files, at least two.")
    var shareFiles: [String] = []

    @OptionGroup(title: "Passphrase options") var passphrase: PassphraseOptions

    @OptionGroup var transcript: TranscriptOptions

    func validate() throws {
        guard shareFiles.count >= 2 else {
            throw ValidationError(
                shareFiles.isEmpty
                    ? "combine needs at least two share files"
                    : "combine needs at least two share files, not one (a 1-of-1 share file holds the secret "
                        + "itself, in hex)"
            )
        }
    }

    func run() throws {
        // A share typed as an argument is in the process list and the shell's history already;
        // refused (never echoed) before anything is read or recorded, as unseal refuses one.
        try refuseShareArguments(shareFiles)
        let log = try transcript.open("combine")
        let length = try CombineRun(files: shareFiles, output: output, passphrase: passphrase.source)
            .execute { Terminal.write(.output, $0) }
        if let output { Terminal.stderrLine("keyturn: wrote the secret (\(length) bytes) to \(quoted(output))") }
        log?.record(result: "combined", progress: "\(shareFiles.count) shares")
    }
}
