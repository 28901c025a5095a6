import Foundation

extension CeremonyReport {
    /// The report as one self-contained HTML page: inline CSS and SVG, nothing fetched (no
    /// script, no link, no image from elsewhere; node addresses appear as text only).
    package func html(generatedAt now: Date = Date()) -> String {
        let time = ISO8601DateFormatter()
        var h: [String] = [
            "<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
            "<title>keyturn ceremony report</title>", "<style>\(Self.css)</style></head><body>",
            "<h1>Ceremony report</h1>",
            "<p class=\"meta\">Generated \(e(time.string(from: now))) by keyturn from \(verifications.count) "
                + "transcript(s) and \(generations.count) ceremony record(s).</p>",
            "<div class=\"cards\">",
            card("Operators", "\(operators.count)", operators.joined(separator: ", ")),
            card("Nodes", "\(nodes.count)", nodes.joined(separator: ", ")),
            card(
                "Generations", "\(generations.count)",
                generations.map { "\($0.threshold) of \($0.holders.count)" }
                    .joined(separator: " → ")),
            card(
                "Anomalies", "\(anomalies.count)", anomalies.isEmpty ? "none found" : "see below",
                alert: !anomalies.isEmpty),
            "</div>",
            "<h2>Timeline</h2>", timelineSVG(), legend(),
        ]
        h.append("<h2>Anomalies</h2>")
        h.append(
            anomalies.isEmpty
                ? "<p class=\"ok\">None found: every chain intact, no refusal, no nonce changed mid-way.</p>"
                : "<ul class=\"anomalies\">" + anomalies.map { "<li>\(e($0))</li>" }.joined() + "</ul>")
        h.append("<h2>Generations</h2>")
        for g in generations {
            let chain =
                g.chained.map { $0 ? "names the generation before it" : "does NOT name the one before" } ?? "first"
            h.append(
                "<section class=\"gen\"><h3>Generation \(g.number) <span class=\"badge\">\(g.threshold) of "
                    + "\(g.holders.count)</span></h3><p class=\"meta\">\(e(g.path)) · made \(e(g.time)) "
                    + "on \(e(g.node)) · "
                    + "\(e(g.encryption))-side encryption · \(e(chain))</p><table><tr><th>holder</th><th>key</th>"
                    + "<th>file</th></tr>"
                    + g.holders.map {
                        "<tr><td>\(e($0.name))</td><td><code>\(e($0.fingerprint))</code></td>"
                            + "<td>\(e($0.file))</td></tr>"
                    }
                    .joined() + "</table></section>")
        }
        h.append("<h2>Signatures</h2><table><tr><th>transcript</th><th>lines</th><th>command</th><th>verdict</th></tr>")
        for v in verifications {
            for c in v.closed {
                let (cls, text) =
                    c.good == nil
                    ? ("unsigned", "unsigned: \(c.note ?? "")")
                    : c.good == true ? ("good", "good, by \(c.signer ?? "?")") : ("bad", "NOT GOOD: \(c.note ?? "")")
                h.append(
                    "<tr><td>\(e(v.path))</td><td>\(Self.span(c.lines))</td><td>\(e(c.command))</td>"
                        + "<td><span class=\"v \(cls)\">\(e(text))</span></td></tr>")
            }
        }
        h.append(
            "</table><h2>Events</h2><table><tr><th>time</th><th>operator</th><th>command</th><th>node</th>"
                + "<th>result</th><th>progress</th><th>nonce</th></tr>")
        for ev in events {
            h.append(
                "<tr\(ev.failed ? " class=\"failed\"" : "")><td>\(e(time.string(from: ev.time)))</td>"
                    + "<td>\(e(ev.operatorName))</td><td>\(e(ev.command))</td><td>\(e(ev.node ?? ""))</td>"
                    + "<td>\(e(ev.result))</td><td>\(e(ev.progress ?? ""))</td>"
                    + "<td><code>\(e(ev.nonce.map { String($0.prefix(8)) } ?? ""))</code></td></tr>")
        }
        h.append("</table></body></html>")
        return h.joined(separator: "\n") + "\n"
    }

    /// Operators down the side, time across; one mark per event, coloured by result, ringed by
    /// node; a diamond where an operation starts (a new nonce).
    private func timelineSVG() -> String {
        let rows = operators
        let width = 1000.0, left = 190.0, right = 30.0, rowHeight = 46.0, top = 20.0
        let height = top + Double(max(rows.count, 1)) * rowHeight + 40
        let times = events.map(\.time.timeIntervalSince1970)
        let start = times.min() ?? 0, end = max(times.max() ?? 1, start + 1)
        func x(_ t: TimeInterval) -> Double { left + (t - start) / (end - start) * (width - left - right) }
        var svg = ["<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\">"]
        for (i, name) in rows.enumerated() {
            let y = top + Double(i) * rowHeight + rowHeight / 2
            svg.append(
                "<rect x=\"0\" y=\"\(top + Double(i) * rowHeight)\" width=\"\(width)\" height=\"\(rowHeight)\" "
                    + "class=\"\(i % 2 == 0 ? "row0" : "row1")\"/>")
            // The lane shows the name before the address ("alice <alice@example.org>" -> "alice").
            let short = name.components(separatedBy: " <").first ?? name
            svg.append(
                "<text x=\"10\" y=\"\(y + 5)\" class=\"who\"><title>\(e(name))</title>"
                    + "\(e(String(short.prefix(22))))</text>"
            )
            svg.append("<line x1=\"\(left)\" y1=\"\(y)\" x2=\"\(width - right)\" y2=\"\(y)\" class=\"lane\"/>")
        }
        let axisY = top + Double(rows.count) * rowHeight + 14
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        for k in 0...4 {
            let t = start + (end - start) * Double(k) / 4
            svg.append(
                "<text x=\"\(x(t))\" y=\"\(axisY + 12)\" class=\"tick\" text-anchor=\"middle\">"
                    + "\(formatter.string(from: Date(timeIntervalSince1970: t)))</text>")
            svg.append("<line x1=\"\(x(t))\" y1=\"\(top)\" x2=\"\(x(t))\" y2=\"\(axisY)\" class=\"grid\"/>")
        }
        var labels: [String: (rank: Int, x: Double, y: Double, text: String)] = [:]
        // Looked up by name, not searched for per event (a crafted transcript names thousands).
        let rowOf = Dictionary(rows.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        let nodeList = nodes
        let nodeOf = Dictionary(nodeList.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        for ev in events {
            guard let row = rowOf[ev.operatorName] else { continue }
            let cx = x(ev.time.timeIntervalSince1970), cy = top + Double(row) * rowHeight + rowHeight / 2
            let ring =
                ev.node.flatMap { nodeOf[$0] }.map { Self.nodeColours[$0 % Self.nodeColours.count] }
                ?? "#555"
            let doubtful = unvouched.contains(ev.source)
            let fill =
                doubtful ? "#f9a825" : ev.failed ? "#c62828" : ev.command.hasSuffix("start") ? "#6a1b9a" : "#2e7d32"
            let tip = e(
                "\(ev.operatorName): \(ev.command) \(ev.result)\(ev.node.map { " at \($0)" } ?? "")"
                    + "\(ev.progress.map { ", \($0)" } ?? "")\(ev.error.map { ": \($0)" } ?? "")"
                    + (doubtful ? " (\(ev.source): not vouched for by the chain or a signature)" : ""))
            let mark =
                ev.command.hasSuffix("start")
                ? "<rect x=\"\(cx - 7)\" y=\"\(cy - 7)\" width=\"14\" height=\"14\" "
                    + "transform=\"rotate(45 \(cx) \(cy))\""
                : "<circle cx=\"\(cx)\" cy=\"\(cy)\" r=\"8\""
            svg.append(
                "\(mark) fill=\"\(fill)\" stroke=\"\(ring)\" stroke-width=\"3\"><title>\(tip)</title>"
                    + (mark.hasPrefix("<rect") ? "</rect>" : "</circle>"))
            if let label = Self.label(ev) {
                let key = "\(row) \(Int(cx / 6))"
                if labels[key].map({ $0.rank < label.rank }) ?? true {
                    labels[key] = (label.rank, cx, cy - 12, label.text)
                }
            }
        }
        for l in labels.values.sorted(by: { $0.x < $1.x }) {
            svg.append("<text x=\"\(l.x)\" y=\"\(l.y)\" class=\"prog\" text-anchor=\"middle\">\(e(l.text))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// What a mark's label says. Every node answers one command at the same moment and their
    /// marks overlap, so one label is drawn there, the most advanced: a node that unsealed says
    /// more than a follower still joining the cluster, whose progress reads 0 again.
    private static func label(_ ev: Event) -> (rank: Int, text: String)? {
        switch ev.result {
        case "unsealed": return (3, "unsealed")
        case "completed": return (3, ev.progress ?? "completed")
        case "joining": return (2, "joining")
        default: return ev.progress.flatMap { $0.contains("/") ? (1, $0) : nil }
        }
    }

    private func legend() -> String {
        let nodesHTML = nodes.enumerated().map { i, n in
            "<span class=\"key\"><span class=\"ring\" "
                + "style=\"border-color:\(Self.nodeColours[i % Self.nodeColours.count])\">"
                + "</span>\(e(n))</span>"
        }.joined()
        return "<p class=\"legend\"><span class=\"key\"><span class=\"dot\" style=\"background:#2e7d32\"></span>"
            + "accepted / done</span><span class=\"key\"><span class=\"dot\" style=\"background:#c62828\"></span>"
            + "failed or refused</span><span class=\"key\"><span class=\"dot diamond\" style=\"background:#6a1b9a\">"
            + "</span>operation started (new nonce)</span><span class=\"key\"><span class=\"dot\" "
            + "style=\"background:#f9a825\"></span>not vouched for (chain broken or signature bad)</span> "
            + "ring = node: \(nodesHTML)</p>"
    }

    private func card(_ title: String, _ value: String, _ detail: String, alert: Bool = false) -> String {
        "<div class=\"card\(alert ? " alert" : "")\"><div class=\"t\">\(e(title))</div>"
            + "<div class=\"n\">\(e(value))</div>"
            + "<div class=\"d\">\(e(detail))</div></div>"
    }

    private func e(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static let nodeColours = ["#1565c0", "#ef6c00", "#00838f", "#ad1457", "#9e9d24", "#4e342e"]

    static let css = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:32px auto;max-width:1040px;\
        color:#1c1c1c;padding:0 16px}h1{margin:0 0 4px}h2{margin-top:36px;border-bottom:2px solid #e0e0e0;\
        padding-bottom:4px}.meta{color:#666;font-size:13px}.cards{display:flex;gap:12px;margin:18px 0}\
        .card{flex:1;border:1px solid #ddd;border-radius:8px;padding:12px 14px;background:#fafafa}\
        .card .t{font-size:12px;text-transform:uppercase;color:#777;letter-spacing:.04em}.card .n{font-size:28px;\
        font-weight:600}.card .d{font-size:12px;color:#555;word-break:break-all}.card.alert{border-color:#c62828;\
        background:#fff4f4}.card.alert .n{color:#c62828}svg.timeline{width:100%;height:auto;border:1px solid #ddd;\
        border-radius:8px;background:#fff}.row0{fill:#fbfbfb}.row1{fill:#f2f4f7}.who{font-size:13px;\
        font-weight:600;fill:#333}.lane{stroke:#cfd8dc;stroke-width:1}.grid{stroke:#eceff1;stroke-dasharray:3 3}\
        .tick{font-size:11px;fill:#777}.prog{font-size:10px;fill:#444}table{border-collapse:collapse;width:100%;\
        font-size:13px;margin:8px 0}th,td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left}\
        th{background:#f5f5f5}tr.failed td{background:#fff0f0}code{font-size:12px}.badge{background:#1565c0;\
        color:#fff;border-radius:10px;padding:1px 9px;font-size:13px;vertical-align:middle}.v{border-radius:4px;\
        padding:1px 6px}.v.good{background:#e8f5e9;color:#1b5e20}.v.bad{background:#ffebee;color:#b71c1c;\
        font-weight:600}.v.unsigned{background:#f5f5f5;color:#555}.anomalies li{color:#b71c1c}.ok{color:#1b5e20}\
        .legend{font-size:12px;color:#555}.key{margin-right:14px;white-space:nowrap}.dot{display:inline-block;\
        width:10px;height:10px;border-radius:50%;margin-right:4px;vertical-align:middle}.dot.diamond{\
        border-radius:0;transform:rotate(45deg)}.ring{display:inline-block;width:8px;height:8px;border-radius:50%;\
        border:3px solid;margin:0 4px 0 6px;vertical-align:middle}.gen{margin-bottom:14px}
        """
}
