import Foundation
import KeyturnFailure

extension CeremonyReport {
    /// The report in Markdown, for a change ticket.
    package func markdown(generatedAt now: Date = Date()) -> String {
        let time = ISO8601DateFormatter()
        var md: [String] = ["# Ceremony report", ""]
        md.append(
            "Generated \(time.string(from: now)) by keyturn from \(verifications.count) transcript"
                + "\(verifications.count == 1 ? "" : "s") and \(generations.count) ceremony record"
                + "\(generations.count == 1 ? "" : "s"). Operators: \(escape(operators.joined(separator: ", "))). "
                + "Nodes: \(escape(nodes.joined(separator: ", "))).")
        md += ["", "## Anomalies", ""]
        md += anomalies.isEmpty ? ["None found."] : anomalies.map { "- \(escape($0))" }
        // The heads: published with the change ticket, a later copy of a transcript cut short
        // no longer ends at its head (`keyturn transcript verify --head`).
        md += ["", "## Transcripts", "", "| transcript | lines | head (SHA-256 of the last line) |", "|---|---|---|"]
        md += verifications.map { "| \(escape($0.path)) | \($0.lineCount) | \(code($0.head)) |" }
        md += ["", "## Generations", ""]
        for g in generations {
            let chain = g.chained.map {
                $0 ? "names the generation before it" : "does NOT name the generation before"
            }
            md.append(
                "### Generation \(g.number): \(g.threshold) of \(g.holders.count), \(escape(g.encryption))-side encryption"
            )
            md.append("")
            md.append(
                "Record \(code(g.path)) (SHA-256 \(code(g.sha256.prefix(16) + "…"))), made \(escape(g.time)) on "
                    + escape(g.node)
                    + (chain.map { "; \($0)" } ?? "") + ".")
            md += ["", "| holder | key | file |", "|---|---|---|"]
            md += g.holders.map { "| \(escape($0.name)) | \(code($0.fingerprint)) | \(escape($0.file)) |" }
            md.append("")
        }
        md += [
            "## Timeline", "", "| time | operator | command | node | result | progress | nonce |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in events {
            let result = escape(e.result)
            let cells = [
                time.string(from: e.time), escape(e.operatorName), escape(e.command), escape(e.node ?? ""),
                (e.failed ? "**\(result)**" : result) + (unvouched.contains(e.source) ? " (not vouched for)" : ""),
                escape(e.progress ?? ""), escape(e.nonce.map { String($0.prefix(8)) } ?? ""),
            ]
            md.append("| " + cells.joined(separator: " | ") + " |")
        }
        md += ["", "## Signatures", "", "| transcript | lines | command | verdict |", "|---|---|---|---|"]
        for v in verifications {
            for c in v.closed {
                let verdict =
                    c.good == nil
                    ? "unsigned (\(escape(c.note ?? "")))"
                    : c.good == true ? "good, by \(code(c.signer ?? "?"))" : "**NOT GOOD** (\(escape(c.note ?? "")))"
                md.append("| \(escape(v.path)) | \(Self.span(c.lines)) | \(escape(c.command)) | \(verdict) |")
            }
        }
        return md.joined(separator: "\n") + "\n"
    }

    /// "3", "3-5", "5, 7, 9" (lines of two commands written at once interleave), "-".
    package static func span(_ lines: [Int]) -> String {
        guard let first = lines.first, let last = lines.last else { return "-" }
        if first == last { return "\(first)" }
        return last - first + 1 == lines.count ? "\(first)-\(last)" : lines.map(String.init).joined(separator: ", ")
    }

    /// Text from a file or a server, made inert in Markdown: control characters escaped (one
    /// line, nothing hidden), and every character Markdown or GitHub's tables act on
    /// backslash-escaped (CommonMark lets any ASCII punctuation be), so no input opens an HTML
    /// comment or tag, an entity, a link, an emphasis, a strike-through, a heading or a table
    /// cell of its own: `<!--` shows as `<!--`, not as the start of hidden text.
    package static func markdownEscaped(_ text: String) -> String {
        var out = ""
        for scalar in neutralised(text).unicodeScalars {
            if Self.markdownActive.contains(scalar) {
                out.unicodeScalars.append("\\")
            }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    private static let markdownActive = Set("\\`*_{}[]<>#+|~&".unicodeScalars)

    private func escape(_ text: String) -> String { Self.markdownEscaped(text) }

    /// A value shown as code (a fingerprint, a digest, a path): no backslash escape works inside
    /// a code span, so a backtick (which would end it) becomes a quote, and controls are escaped;
    /// but a table still splits a cell at `|` inside one, unless it is written `\|` (GitHub's rule).
    private func code<S: StringProtocol>(_ text: S) -> String {
        "`"
            + neutralised(String(text)).replacingOccurrences(of: "`", with: "'").replacingOccurrences(
                of: "|", with: "\\|")
            + "`"
    }
}
