import ArgumentParser
import Ceremony
import Foundation

/// `keyturn transcript`: what a ceremony's transcripts prove.
struct TranscriptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transcript",
        abstract: "Check ceremony transcripts (--transcript): their chain and their signatures.",
        subcommands: [Verify.self])
}

extension TranscriptCommand {
    /// `keyturn transcript verify`.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check each line's chain to the one before it and each command's signature.",
            discussion: """
                Every line carries prev, the SHA-256 of the line before it; each command's lines end \
                with a closing line that lists them and, when the operator's key signed them, holds the \
                detached signature. Signatures are checked with the public keys in your keyring \
                (GNUPGHOME): import the operators' keys first. Exit 0 when every chain is intact and \
                every signature good; 2 naming the first line that breaks. Lines written before \
                chaining existed are reported as unchained.
                """)

        @Argument(help: ArgumentHelp("Transcript files.", valueName: "file"))
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("transcript verify needs at least one transcript file") }
        }

        func run() async throws {
            var intact = true
            for file in files {
                let result = try TranscriptVerification.verify(file)
                intact = intact && result.intact
                for line in TranscriptReport.lines(result) { Terminal.stdoutLine(line) }
            }
            if !intact { throw ExitCode(ExitStatus.serverFailure.rawValue) }
        }
    }
}

/// The text `transcript verify` prints for one transcript.
enum TranscriptReport {
    static func lines(_ r: TranscriptVerification) -> [String] {
        var out: [String] = []
        let state = r.firstBreak.map { "broken at line \($0.line): \($0.reason)" } ?? "the chain is intact"
        let legacy = r.unchained > 0 ? " (\(r.unchained) older lines unchained)" : ""
        out.append("\(r.path): \(r.lineCount) lines, \(state)\(legacy)")
        for c in r.closed {
            let span = CeremonyReport.span(c.lines)
            let verdict: String
            switch c.good {
            case nil: verdict = "unsigned: \(c.note ?? "no key")"
            case true?: verdict = "signed by \(c.signer ?? "?"): good"
            case false?: verdict = "signed by \(c.signer ?? "?"): NOT GOOD: \(c.note ?? "bad signature")"
            }
            out.append("  lines \(span)  \(c.command)  \(verdict)")
        }
        return out
    }
}
