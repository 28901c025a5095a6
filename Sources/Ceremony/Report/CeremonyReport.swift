import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial

/// Every transcript and every generation of ceremony.json of a ceremony, read into one account:
/// the events in time order (who, what, which node, progress, nonce), each generation's holders
/// and threshold, each signature's verdict, and the anomalies an auditor must look at.
package struct CeremonyReport: Sendable {
    /// One transcript line.
    package struct Event: Sendable {
        package let time: Date
        package let operatorName: String
        package let command: String
        package let node: String?
        package let result: String
        package let progress: String?
        package let nonce: String?
        package let error: String?
        /// The transcript and line it comes from.
        package let source: String

        /// Whether it is a refusal or a failure.
        package var failed: Bool { result == "failed" || error != nil }
    }

    /// One generation of shares.
    package struct Generation: Sendable {
        package let number: Int
        package let path: String
        package let sha256: String
        package let time: String
        package let node: String
        package let threshold: Int
        package let encryption: String
        package let holders: [(name: String, fingerprint: String, file: String)]
        /// Whether its `previous_sha256` names the generation before it (nil for the first).
        package let chained: Bool?
        /// Whether it is a generation of recovery keys (whose threshold is not the unseal's).
        package var recovery = false
    }

    package let events: [Event]
    package let generations: [Generation]
    package let verifications: [TranscriptVerification]
    package let anomalies: [String]
    /// The events (by `source`) that neither the chain nor a signature vouches for: from the
    /// first line where a transcript's chain breaks on, and every line under a signature that
    /// does not verify. They are drawn apart, since what they say may not be what happened.
    package let unvouched: Set<String>

    /// The operators, in order of first appearance.
    package var operators: [String] { Self.firstAppearances(events.map(\.operatorName)) }

    /// The nodes, in order of first appearance.
    package var nodes: [String] { Self.firstAppearances(events.compactMap(\.node)) }

    /// Each distinct name once, in order of first appearance (linear: a transcript may name a
    /// different node or key on every line).
    static func firstAppearances(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// Reads the transcripts and records; `manifests` may name ceremony.json files or the
    /// directories that hold them.
    package static func build(
        transcripts: [String], manifests: [String], keyring: String? = nil, checkSignatures: Bool = true
    ) throws
        -> CeremonyReport
    {
        let generations = try loadGenerations(manifests)
        var names: [String: String] = [:]
        for g in generations { for h in g.holders { names[h.fingerprint.uppercased()] = h.name } }
        var events: [Event] = []
        var verifications: [TranscriptVerification] = []
        for path in transcripts {
            let v = try TranscriptVerification.verify(path, keyring: keyring, checkSignatures: checkSignatures)
            verifications.append(v)
            events += readEvents(v, names: names)
        }
        events.sort { $0.time < $1.time }
        return CeremonyReport(
            events: events, generations: generations, verifications: verifications,
            anomalies: anomalies(events, generations: generations, verifications: verifications),
            unvouched: unvouched(verifications))
    }

    private static func unvouched(_ verifications: [TranscriptVerification]) -> Set<String> {
        var out = Set<String>()
        for v in verifications {
            let file = URL(fileURLWithPath: v.path).lastPathComponent
            for line in v.unvouchedLines { out.insert("\(file):\(line)") }
        }
        return out
    }

    private static func loadGenerations(_ manifests: [String]) throws -> [Generation] {
        var records: [(CeremonyRecord, String, String)] = []
        for given in manifests {
            var isDir: ObjCBool = false
            let path =
                FileManager.default.fileExists(atPath: given, isDirectory: &isDir) && isDir.boolValue
                ? SecretFiles.join(given, "ceremony.json") : given
            let record = try CeremonyRecord.load(path)
            let digest = Digest.sha256Hex(FileManager.default.contents(atPath: path).map { [UInt8]($0) } ?? [])
            records.append((record, path, digest))
        }
        records.sort { ($0.0.generation ?? 1) < ($1.0.generation ?? 1) }
        return records.enumerated().map { i, item in
            let (record, path, digest) = item
            let previous = i > 0 ? records[i - 1].2 : nil
            return Generation(
                number: record.generation ?? 1, path: path, sha256: digest, time: record.time, node: record.address,
                threshold: record.threshold, encryption: record.encryption,
                holders: record.shareFiles.map { ($0.userID, $0.fingerprint, $0.file) },
                chained: previous.map { record.previousSHA256 == $0 }, recovery: record.target == "recovery")
        }
    }

    /// The events of a transcript, from the lines its verification parsed (one parser for both:
    /// a line cannot read one way to the verifier and another way here).
    private static func readEvents(_ v: TranscriptVerification, names: [String: String]) -> [Event] {
        let file = URL(fileURLWithPath: v.path).lastPathComponent
        var events: [Event] = []
        for (i, line) in v.parsed.enumerated() {
            // A closing line is never an event, whatever fields were added to it (verification
            // reports such a line as malformed).
            guard let o = line, o.close == nil, let command = o.command, let result = o.result,
                let time = o.time.flatMap(TranscriptTime.date)
            else { continue }
            let key = o.keyFingerprint?.uppercased()
            let who = key.map { names[$0] ?? $0 } ?? file
            events.append(
                Event(
                    time: time, operatorName: who, command: command, node: o.node, result: result,
                    progress: o.progress, nonce: o.nonce, error: o.error, source: "\(file):\(i + 1)"))
        }
        return events
    }

    private static func anomalies(
        _ events: [Event], generations: [Generation], verifications: [TranscriptVerification]
    ) -> [String] {
        var out: [String] = []
        for v in verifications {
            if let b = v.firstBreak { out.append("\(v.path): the chain breaks at line \(b.line): \(b.reason)") }
            for a in v.anomalies { out.append("\(v.path): \(a.reason)") }
            for c in v.closed where c.good == false {
                out.append(
                    "\(v.path): lines of \(c.command) signed by \(c.signer ?? "?") do not verify: \(c.note ?? "")")
            }
            if v.closed.allSatisfy({ $0.good == nil }) {
                out.append("\(v.path): no line is signed (no operator key, or written before signing existed)")
            }
            if v.unchained > 0 { out.append("\(v.path): \(v.unchained) lines predate chaining (not checked)") }
        }
        for e in events where e.failed {
            out.append("\(e.source): \(e.operatorName)'s \(e.command) failed: \(e.error ?? e.result)")
        }
        // A nonce that changes while an operation of the same kind is under way (a start sets it,
        // a completion ends it): someone cancelled and restarted it between two submits.
        for family in ["rekey", "generate-root"] {
            var current: String?
            for e in events where e.command.hasPrefix(family + " ") {
                guard let nonce = e.nonce, !nonce.isEmpty else { continue }
                if e.command == "\(family) start" {
                    current = nonce
                } else {
                    if let c = current, c != nonce {
                        out.append("\(e.source): the \(family) nonce changed from \(c) to \(nonce) mid-way")
                    }
                    current = e.result == "completed" ? nil : nonce
                }
            }
        }
        out += unexplainedProgress(events) { time in
            // The generation in force then: the last one made at or before it.
            let unseal = generations.filter { !$0.recovery }
            let made = unseal.filter { (TranscriptTime.date($0.time) ?? .distantPast) <= time }
            return (made.last ?? unseal.first)?.threshold
        }
        out += nameClashes(generations)
        // One transcript given twice (or a copy of it): its events would count twice.
        var heads: [String: String] = [:]
        for v in verifications where !v.head.isEmpty {
            if let first = heads[v.head] {
                out.append("\(v.path) and \(first) end with the same line: one transcript given twice, or a copy")
            } else {
                heads[v.head] = v.path
            }
        }
        for g in generations where g.chained == false {
            out.append("generation \(g.number) (\(g.path)) does not name the generation before it")
        }
        return out
    }

    /// "2/3" as (2, 3); nil for anything else, and for numbers out of a Shamir split's range.
    static func fraction(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let t = Int(parts[1]), (0...255).contains(k),
            (1...255).contains(t)
        else { return nil }
        return (k, t)
    }
}
