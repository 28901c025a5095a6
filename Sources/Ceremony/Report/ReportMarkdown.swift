import Foundation

extension CeremonyReport {
    /// The report in Markdown, for a change ticket.
    package func markdown(generatedAt now: Date = Date()) -> String {
        let time = ISO8601DateFormatter()
        var md: [String] = ["# Ceremony report", ""]
        md.append(
            "Generated \(time.string(from: now)) by keyturn from \(verifications.count) transcript"
                + "\(verifications.count == 1 ? "" : "s") and \(generations.count) ceremony record"
                + "\(generations.count == 1 ? "" : "s"). Operators: \(operators.joined(separator: ", ")). Nodes: "
                + "\(nodes.joined(separator: ", ")).")
        md += ["", "## Anomalies", ""]
        md += anomalies.isEmpty ? ["None found."] : anomalies.map { "- \(escape($0))" }
        md += ["", "## Generations", ""]
        for g in generations {
            let chain = g.chained.map {
                $0 ? "names generation \(g.number - 1)" : "does NOT name the generation before"
            }
            md.append(
                "### Generation \(g.number): \(g.threshold) of \(g.holders.count), \(g.encryption)-side encryption")
            md.append("")
            md.append(
                "Record `\(g.path)` (SHA-256 `\(g.sha256.prefix(16))…`), made \(g.time) on \(g.node)"
                    + (chain.map { "; \($0)" } ?? "") + ".")
            md += ["", "| holder | key | file |", "|---|---|---|"]
            md += g.holders.map { "| \(escape($0.name)) | `\($0.fingerprint)` | \(escape($0.file)) |" }
            md.append("")
        }
        md += [
            "## Timeline", "", "| time | operator | command | node | result | progress | nonce |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in events {
            let cells = [
                time.string(from: e.time), e.operatorName, e.command, e.node ?? "",
                (e.failed ? "**\(e.result)**" : e.result) + (unvouched.contains(e.source) ? " (not vouched for)" : ""),
                e.progress ?? "", e.nonce.map { String($0.prefix(8)) } ?? "",
            ]
            md.append("| " + cells.map(escape).joined(separator: " | ") + " |")
        }
        md += ["", "## Signatures", "", "| transcript | lines | command | verdict |", "|---|---|---|---|"]
        for v in verifications {
            for c in v.closed {
                let verdict =
                    c.good == nil
                    ? "unsigned (\(c.note ?? ""))"
                    : c.good == true ? "good, by `\(c.signer ?? "?")`" : "**NOT GOOD** (\(c.note ?? ""))"
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

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
