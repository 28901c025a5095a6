import ArgumentParser
import Ceremony
import Foundation
import KeyturnFailure

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
                (GNUPGHOME): import the operators' keys first. A line that names an operator's key is \
                vouched for only by that key's signature. Prints each file's head (the SHA-256 of its \
                last line, and its line count): publish it with the change ticket, and --head checks a \
                later copy against it, since a chain cannot show lines cut from its end. Exit 0 when \
                every chain is intact and every signature good; 2 naming the first line that breaks, \
                and (unless --no-strict) on any anomaly: lines signed by another key than the one they \
                name, unsigned lines after signed ones, a head that is not there.
                """)

        @Argument(help: ArgumentHelp("Transcript files.", valueName: "file"))
        var files: [String]

        @Option(
            parsing: .singleValue,
            help: ArgumentHelp(
                "The head published for the file in the same position (repeat for each file).", valueName: "sha256"))
        var head: [String] = []

        @Flag(
            inversion: .prefixedNo,
            help: "Exit 2 on any anomaly, not only on a broken chain or a bad signature (the default).")
        var strict = true

        func validate() throws {
            if files.isEmpty { throw ValidationError("transcript verify needs at least one transcript file") }
            if !head.isEmpty && head.count != files.count {
                throw ValidationError("give one --head per transcript file, in the same order (\(files.count))")
            }
            if let bad = head.first(where: { $0.count != 64 || !$0.allSatisfy(\.isHexDigit) }) {
                throw ValidationError("--head takes the SHA-256 (64 hex digits) verify printed, not \(quoted(bad))")
            }
        }

        func run() async throws {
            var intact = true
            for (i, file) in files.enumerated() {
                let result = try TranscriptVerification.verify(file)
                var lines = TranscriptReport.lines(result)
                var headHolds = true
                if i < head.count {
                    let (line, holds) = TranscriptReport.headCheck(result, head: head[i])
                    lines.append(line)
                    headHolds = holds
                }
                intact = intact && (strict ? result.intact : result.chainAndSignaturesHold) && headHolds
                // One write for the file's lines (a long transcript has thousands of commands).
                Terminal.stdoutLine(lines.map { neutralised($0) }.joined(separator: "\n"))
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
        out.append("  head: \(r.head.isEmpty ? "none (empty)" : r.head) (\(r.lineCount) lines)")
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
        for a in r.anomalies { out.append("  anomaly: \(a.reason)") }
        return out
    }

    /// Whether the transcript still ends at the head published for it; a head found earlier
    /// means lines were appended since (each still chained and signed), one found nowhere that
    /// lines were cut from the end or changed.
    static func headCheck(_ r: TranscriptVerification, head: String) -> (String, Bool) {
        switch r.line(withHash: head) {
        case r.lineCount?: return ("  head \(head.lowercased()): the transcript ends there, as published", true)
        case let n?:
            return ("  head \(head.lowercased()) is line \(n): \(r.lineCount - n) lines were appended after it", true)
        case nil:
            return (
                "  head \(head.lowercased()) is not in the transcript: lines were cut from its end, or changed", false
            )
        }
    }
}
