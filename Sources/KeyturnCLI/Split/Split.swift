import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure
import PGPShares
import ProcessHygiene
import Shamir
import TLSMaterial

/// `keyturn split`: any secret into Vault-format shares, one file each.
struct Split: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Split a secret into Vault-format Shamir shares, one file per holder.",
        discussion: """
            Reads the secret from FILE, or from standard input with '-' (or no argument). With \
            --pgp-keys each share is encrypted to one holder's key (DIR/<key-file-name>.share, an \
            armoured PGP message whose plaintext is the hex share; shares are held in memory \
            while they are encrypted). With --no-pgp each share file holds one line of lower-case \
            hex, the form Vault's \
            sys/init returns in 'keys', so keyturn's and Vault's shares are interchangeable. \
            Files are created 0600 and never overwrite anything; on any error none is left.
            """)

    @Option(name: .long, help: "How many shares are needed to recombine the secret (2 to 255).")
    var threshold: Int

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How many shares to make (threshold to 255; 1 with threshold 1 copies the secret); with --pgp-keys, "
                + "the number of keys.")
    )
    var shares: Int?

    @Option(
        name: .customLong("pgp-keys"), parsing: .singleValue,
        help: ArgumentHelp(
            "Holders' public key files, comma-separated or repeated: one share each, encrypted to it.",
            valueName: "files"))
    var pgpKeys: [String] = []

    @Flag(name: .long, help: "Write plaintext hex shares instead of encrypting each to a PGP key.")
    var noPgp = false

    var keyFiles: [String] { pgpKeys.commaSeparated }
    var shareCount: Int { noPgp ? (shares ?? 0) : keyFiles.count }

    @Option(name: .long, help: "Directory for the share files (created 0700 if missing).")
    var outDir: String

    @Argument(help: "The secret's file, or '-' for standard input.")
    var input: String = "-"

    @OptionGroup var transcript: TranscriptOptions

    func validate() throws {
        if noPgp && !keyFiles.isEmpty { throw ValidationError("--no-pgp can't be used with --pgp-keys") }
        if !noPgp && keyFiles.isEmpty {
            throw ValidationError(
                "split needs --pgp-keys (one public key file per holder), or --no-pgp for plaintext shares")
        }
        if noPgp && shares == nil { throw ValidationError("missing expected argument '--shares <shares>'") }
        if !noPgp, let n = shares, n != keyFiles.count {
            throw ValidationError(
                "--shares is \(n) but \(keyFiles.count) PGP keys were given; each share needs one key")
        }
        do throws(ShamirError) { try Shamir.validate(shares: shareCount, threshold: threshold) } catch {
            throw ValidationError(error.reason)
        }
    }

    func run() throws {
        let log = try transcript.open("split")
        let paths = try SplitRun(
            input: .file(input), outDir: outDir, threshold: threshold, shares: shareCount,
            keyFiles: noPgp ? [] : keyFiles, random: OpenSSLRandom(),
            standardInputIsTerminal: StandardStream.input.isTerminal
        ).execute()
        for path in paths { Terminal.stdoutLine(path) }
        let need = threshold == 1 ? "the only share is the secret itself" : "any \(threshold) of them recombine it"
        Terminal.stderrLine(
            "keyturn: wrote \(shareCount) share\(shareCount == 1 ? "" : "s") to \(quoted(outDir)); \(need)")
        log?.record(result: "split", progress: "\(threshold)/\(shareCount)")
    }
}
