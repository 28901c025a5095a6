import ArgumentParser
import Ceremony
import ProcessHygiene
import Shamir

extension Secure {
    /// `keyturn secure ca`.
    struct CA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca", abstract: "Make a private CA: DIR/ca.pem and DIR/ca-key.pem (EC P-256, key 0600).")

        @Option(help: ArgumentHelp("Directory for ca.pem and ca-key.pem (created 0700).", valueName: "dir"))
        var outDir: String

        @Option(help: ArgumentHelp("The CA's common name.", valueName: "name"))
        var name = "keyturn CA"

        @Option(help: ArgumentHelp("Validity in days.", valueName: "n"))
        var days = 3650

        @Option(
            name: .customLong("split-to"), parsing: .singleValue,
            help: ArgumentHelp(
                "Escrow: split the CA's key among these operators' PGP keys instead of writing ca-key.pem.",
                discussion: "Each share is encrypted to one operator, as keyturn split --pgp-keys writes it.",
                valueName: "files"))
        var splitTo: [String] = []

        @Option(help: ArgumentHelp("With --split-to: how many operators recombine the key.", valueName: "k"))
        var threshold: Int?

        func validate() throws {
            guard days > 0 else { throw ValidationError("--days must be positive") }
            let escrowKeys = splitTo.commaSeparated
            if !escrowKeys.isEmpty {
                guard let threshold else { throw ValidationError("--split-to needs --threshold") }
                do throws(ShamirError) { try Shamir.validate(shares: escrowKeys.count, threshold: threshold) } catch {
                    throw ValidationError(error.reason)
                }
            } else if threshold != nil {
                throw ValidationError("--threshold can't be used without --split-to")
            }
        }

        func run() throws {
            let made = try CertificateAuthority.make(
                outDir: outDir, name: name, days: days, escrowKeyFiles: splitTo.commaSeparated, threshold: threshold)
            Terminal.stdoutLine(made.certificate)
            if let key = made.key { Terminal.stdoutLine(key) }
            for share in made.shares { Terminal.stdoutLine(share) }
            if let threshold, !made.shares.isEmpty {
                Terminal.stderrLine(
                    "keyturn: the CA key is split among \(made.shares.count) operators (any \(threshold) recombine it "
                        + "with keyturn combine); no ca-key.pem was written")
            }
        }
    }
}
