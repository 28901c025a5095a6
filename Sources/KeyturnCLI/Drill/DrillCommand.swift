import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure

/// `keyturn drill`: does a quorum still hold its shares?
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Count the holders who proved, with a signed attestation, that they still hold their share.",
        discussion: """
            Each holder runs keyturn verify KEYFILE --attest FILE and hands FILE in. drill checks \
            each signature (with the keys in your keyring), that it attests this ceremony record, \
            that the holder is one the record lists, and its age; a holder counts once. Exit 0 \
            when at least the threshold of holders proved their share, 2 when fewer did. Nothing \
            is unsealed or sent.
            """)

    @Option(help: ArgumentHelp("The ceremony.json of the shares.", valueName: "file"))
    var manifest: String

    @Option(help: ArgumentHelp("Attestations older than this many days do not count.", valueName: "days"))
    var maxAge: Double = 90

    @Argument(help: ArgumentHelp("The holders' attestations.", valueName: "attestation"))
    var attestations: [String] = []

    func validate() throws {
        guard maxAge > 0, maxAge.isFinite else { throw ValidationError("--max-age must be a positive number of days") }
    }

    func run() throws {
        let drill = try Drill.run(manifest: manifest, attestations: attestations, maxAge: maxAge * 86_400)
        for v in drill.verdicts {
            // One line per attestation, whatever its fields hold (a user id with a newline).
            Terminal.stdoutLine(
                neutralised("\(v.file): \(v.holder ?? "-"): \(v.counted ? "counts" : "does not count"): \(v.reason)"))
        }
        if !drill.commitments {
            Terminal.stdoutLine(
                "note: this ceremony has no commitments (the server encrypted the shares): an attestation proves that "
                    + "the holder's file decrypts with their key to a well-formed share, not that it is the share "
                    + "issued to them")
        }
        let summary =
            "\(drill.proven) of \(drill.holders) holders proved their share within "
            + "\(Drill.days(maxAge * 86_400)) (threshold "
            + "\(drill.threshold))"
        if drill.quorumHolds {
            Terminal.stdoutLine("quorum holds: \(summary)")
        } else {
            Terminal.stdoutLine("quorum NOT proven: \(summary)")
            throw ExitCode(ExitStatus.serverFailure.rawValue)
        }
    }
}
