import Foundation
import KeyturnFailure
import PGPShares

// The anomalies that need more than one line to tell: progress no transcript explains, and
// names the records give to more than one key.
extension CeremonyReport {
    /// Progress that no transcript explains: a share counted as the k-th (k > 1) of an
    /// operation with no (k-1)-th in it in any transcript, or an unseal completed with no
    /// (T-1)-th share of the record's threshold T before it; so a transcript is missing, or lines
    /// were cut from one. A rekey's or a generate-root's operation is its nonce; an unseal's is
    /// one node's attempt, which ends with the answer that completed it (an earlier attempt's
    /// shares explain nothing of a later one). `threshold` gives the threshold of the
    /// generation in force at a time, when records were given.
    static func unexplainedProgress(_ events: [Event], threshold: (Date) -> Int? = { _ in nil }) -> [String] {
        var out: [String] = []
        func flag(_ e: Event, _ what: String, missing k: Int) {
            out.append(
                "\(e.source): \(e.operatorName)'s \(e.command) \(what)\(e.node.map { " at \($0)" } ?? ""), but no "
                    + "transcript shows share \(k): a transcript is missing, or lines were cut from one")
        }
        // Transcript times have whole seconds, so the order of two answers in one second is not
        // known: within one operation the (k-1)-th share may stand anywhere.
        var operations: [String: [Event]] = [:]
        var order: [String] = []
        var attempt: [String: Int] = [:]
        // Within one second a share comes before the answer that completed the unseal, whatever
        // order the transcripts were given in (else the share would open the next attempt).
        func completes(_ e: Event) -> Bool {
            e.command == "unseal" && (e.result == "unsealed" || e.result == "joining")
        }
        let ordered = events.enumerated().sorted {
            ($0.element.time, completes($0.element) ? 1 : 0, $0.offset)
                < ($1.element.time, completes($1.element) ? 1 : 0, $1.offset)
        }.map(\.element)
        for e in ordered {
            let scope: String
            switch e.command {
            case "rekey submit", "generate-root submit": scope = "\(e.command) \(e.nonce ?? "")"
            case "unseal": scope = "unseal \(e.node ?? "") #\(attempt[e.node ?? "", default: 0])"
            default: continue
            }
            if operations[scope] == nil { order.append(scope) }
            operations[scope, default: []].append(e)
            // An unseal attempt ends with the answer that completed it: the node's next share opens another.
            if completes(e) {
                attempt[e.node ?? "", default: 0] += 1
            }
        }
        for scope in order {
            let members = operations[scope] ?? []
            let fractions = Set(members.compactMap { $0.progress.flatMap(fraction) }.map { "\($0.0)/\($0.1)" })
            var flagged = Set<Int>()
            for e in members {
                if completes(e) {
                    if let t = threshold(e.time), t > 1, !fractions.contains("\(t - 1)/\(t)"),
                        flagged.insert(t - 1).inserted
                    {
                        flag(e, "completed the unseal (threshold \(t))", missing: t - 1)
                    }
                } else if let (k, t) = e.progress.flatMap(fraction), k > 1, !fractions.contains("\(k - 1)/\(t)"),
                    flagged.insert(k - 1).inserted
                {
                    flag(e, "reached \(k)/\(t)", missing: k - 1)
                }
            }
        }
        // The record is unsigned; the nodes' answers in signed lines are not: a threshold that
        // disagrees with them was edited (or the record is another cluster's).
        var disagreements = Set<Int>()
        for e in events where e.command == "unseal" {
            guard let (_, t) = e.progress.flatMap(fraction), t > 0, let recorded = threshold(e.time), recorded != t,
                disagreements.insert(t).inserted
            else { continue }
            out.append(
                "\(e.source): the node\(e.node.map { " \($0)" } ?? "") answered a threshold of \(t), but the ceremony "
                    + "record in force says \(recorded): the record was edited, or is another cluster's")
        }
        return out
    }

    /// The records are unsigned: names are what they say. A user id given to two keys, or a key
    /// given two user ids, across the records is listed (someone edited one, or two holders share
    /// a name): the report names operators by them, fingerprints are what the signatures prove.
    static func nameClashes(_ generations: [Generation]) -> [String] {
        var keysOf: [String: Set<String>] = [:]
        var namesOf: [String: Set<String>] = [:]
        for g in generations {
            for h in g.holders {
                let key = canonicalFingerprint(h.fingerprint) ?? h.fingerprint
                keysOf[h.name, default: []].insert(key)
                namesOf[key, default: []].insert(h.name)
            }
        }
        var out: [String] = []
        for (name, keys) in keysOf.sorted(by: { $0.key < $1.key }) where keys.count > 1 {
            out.append(
                "the records give the name \(quoted(name)) to \(keys.count) keys (\(keys.sorted().joined(separator: ", "))): "
                    + "a record was edited, or two holders share a name")
        }
        for (key, names) in namesOf.sorted(by: { $0.key < $1.key }) where names.count > 1 {
            out.append(
                "the records give key \(key) \(names.count) names (\(names.sorted().map(quoted).joined(separator: ", "))): "
                    + "a record was edited")
        }
        return out
    }
}
