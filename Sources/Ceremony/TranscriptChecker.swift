import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial

/// One pass over a transcript's lines (and one over the lines left unclosed).
struct TranscriptChecker {
    let lines: [[UInt8]]
    let keyring: String?
    let checkSignatures: Bool
    let hashes: [String]
    let objects: [TranscriptLine?]
    var breaks: [(Int, String)] = []
    var anomalies: [TranscriptVerification.Anomaly] = []
    var closed: [TranscriptVerification.Closed] = []
    var unchained = 0
    var covered: [Bool]
    /// Per line hash, the first line with it not yet covered and the last line with it (a
    /// closing line covers the first uncovered one; lines of one hash are linked in order by
    /// `nextSame`): so finding a listed line is O(1), with no array per hash.
    var firstUncovered: [String: Int] = [:]
    var lastSeen: [String: Int] = [:]
    var nextSame: [Int]
    var signedSeen = false

    init(lines: [[UInt8]], keyring: String?, checkSignatures: Bool) {
        self.lines = lines
        self.keyring = keyring
        self.checkSignatures = checkSignatures
        (objects, hashes) = TranscriptLine.parseAndHash(lines)
        covered = [Bool](repeating: false, count: lines.count)
        nextSame = [Int](repeating: -1, count: lines.count)
        firstUncovered.reserveCapacity(lines.count)
        lastSeen.reserveCapacity(lines.count)
    }

    var firstBreak: (line: Int, reason: String)? {
        // The first line that breaks; at one line, what happened to it (found last) rather
        // than to its successor.
        breaks.enumerated().min { ($0.element.0, -$0.offset) < ($1.element.0, -$1.offset) }
            .map { (line: $0.element.0, reason: $0.element.1) }
    }

    mutating func run() throws {
        var chainStarted = false
        for i in lines.indices {
            defer { seen(i) }
            guard let object = objects[i] else {
                breaks.append((i + 1, "line \(i + 1) is not a JSON object"))
                continue
            }
            guard let prev = object.prev else {
                if chainStarted {
                    breaks.append((i + 1, "line \(i + 1) has no prev, after chained lines"))
                } else {
                    unchained += 1
                }
                continue
            }
            chainStarted = true
            checkPrev(prev, at: i)
            guard let command = object.close else { continue }
            // The lines it lists are taken as listed either way: what is wrong is this line.
            let numbers = cover(object.lineSHA256 ?? [], closingLine: i)
            let extra = (object.closingKeys ?? []).filter { !TranscriptVerification.closingFields.contains($0) }
                .sorted()
            if !extra.isEmpty {
                breaks.append(
                    (
                        i + 1,
                        "line \(i + 1) is a closing line with fields a closing line does not have "
                            + "(\(extra.joined(separator: ", "))): it was edited or forged"
                    ))
                continue
            }
            let verdict = try closing(object, command: command, lines: numbers)
            closed.append(verdict)
            judge(verdict, closingLine: i)
        }
        findUnclosed()
        let unchainedLines = (0..<lines.count).filter { objects[$0] != nil && objects[$0]?.prev == nil }.map { $0 + 1 }
        nameUnvouched(unchainedLines, "written without a chain")
    }

    /// Line `i` can now be listed by a later closing line.
    mutating func seen(_ i: Int) {
        let hash = hashes[i]
        if let last = lastSeen[hash] { nextSame[last] = i } else { firstUncovered[hash] = i }
        lastSeen[hash] = i
    }

    mutating func checkPrev(_ prev: String, at i: Int) {
        let expected = i == 0 ? "" : hashes[i - 1]
        guard prev != expected else { return }
        breaks.append(
            i == 0
                ? (1, "line 1 names a line before it: lines were removed from the start, or moved")
                : (
                    i + 1,
                    "line \(i + 1) does not follow line \(i): line \(i) was changed, or lines were removed or "
                        + "moved there"
                ))
    }

    /// The lines a closing line at `closingLine` lists, each the first uncovered earlier line
    /// with that hash.
    mutating func cover(_ wanted: [String], closingLine i: Int) -> [Int] {
        var numbers: [Int] = []
        for hash in wanted {
            guard let n = firstUncovered[hash] else {
                breaks.append((i + 1, "line \(i + 1) signs a line that is not in the file: it was changed or removed"))
                break
            }
            if nextSame[n] >= 0 {
                firstUncovered[hash] = nextSame[n]
            } else {
                firstUncovered[hash] = nil
                lastSeen[hash] = nil
            }
            covered[n] = true
            numbers.append(n + 1)
        }
        return numbers
    }

    /// A signature vouches only for lines that name its key (or no key); unsigned lines after
    /// signed ones are vouched for by nobody.
    mutating func judge(_ c: TranscriptVerification.Closed, closingLine i: Int) {
        switch c.good {
        case true?:
            signedSeen = true
            let signer = c.signer.flatMap(canonicalFingerprint)
            var wrong: [Int] = []
            var named: [String] = []
            for n in c.lines {
                guard let key = objects[n - 1]?.keyFingerprint else { continue }
                if canonicalFingerprint(key) == nil || canonicalFingerprint(key) != signer {
                    wrong.append(n)
                    if !named.contains(key) { named.append(key) }
                }
            }
            if !wrong.isEmpty {
                anomalies.append(
                    TranscriptVerification.Anomaly(
                        lines: wrong,
                        reason: "lines \(CeremonyReport.span(wrong)) name key \(named.joined(separator: ", ")) but "
                            + "are signed by \(c.signer ?? "?")"))
            }
        case nil where signedSeen:
            anomalies.append(
                TranscriptVerification.Anomaly(
                    lines: c.lines + [i + 1],
                    reason: "lines \(CeremonyReport.span(c.lines + [i + 1])) (\(c.command)) are unsigned, after "
                        + "signed lines: anyone who handled the file could have appended them"))
        case nil: nameUnvouched(c.lines, "under an unsigned closing line (line \(i + 1))")
        default: break
        }
    }

    /// Lines that name an operator's key with no signature of that key over them: anyone could
    /// have written them in that operator's name.
    mutating func nameUnvouched(_ numbers: [Int], _ why: String) {
        let naming = numbers.filter { objects[$0 - 1]?.keyFingerprint != nil }
        guard let first = naming.first, let key = objects[first - 1]?.keyFingerprint else { return }
        anomalies.append(
            TranscriptVerification.Anomaly(
                lines: naming,
                reason: "lines \(CeremonyReport.span(naming)) name key \(key) but no signature of it vouches for "
                    + "them (\(why))"))
    }

    /// Every chained line must be closed by its command.
    mutating func findUnclosed() {
        let broken = Set(breaks.map(\.0))
        for i in lines.indices where !covered[i] {
            guard let object = objects[i], object.prev != nil, object.close == nil else { continue }
            // Changed in place: no closing line lists it as it is now, and the next line does not follow it.
            let changed = broken.contains(i + 2)
            let reason =
                changed
                ? "line \(i + 1) is listed by no closing line, and line \(i + 2) does not follow it: line \(i + 1) "
                    + "was changed, or the line after it (a signature line?) removed"
                : "line \(i + 1) is not covered by a closing line: its signature line was removed, or its command "
                    + "did not finish"
            breaks.append((i + 1, reason))
        }
    }

    func closing(
        _ object: TranscriptLine, command: String, lines numbers: [Int]
    ) throws -> TranscriptVerification.Closed {
        guard let signature = object.signature, let signer = object.signer else {
            return TranscriptVerification.Closed(
                command: command, lines: numbers, signer: nil, good: nil,
                note: object.unsigned ?? "unsigned")
        }
        guard checkSignatures else {
            return TranscriptVerification.Closed(
                command: command, lines: numbers, signer: signer, good: nil, note: "signature not checked")
        }
        var signed: [UInt8] = []
        for n in numbers { signed += lines[n - 1] + [0x0A] }
        do throws(PGPError) {
            let checks = try PGPShares.verifyDetached(signature: signature, data: signed, homeDirectory: keyring)
            guard let check = checks.first(where: { $0.good }) ?? checks.first else {
                return TranscriptVerification.Closed(
                    command: command, lines: numbers, signer: signer, good: false, note: "no signature in it")
            }
            // The verdict names the key that signed, whatever the `signer` field claims.
            return TranscriptVerification.Closed(
                command: command, lines: numbers, signer: check.fingerprint, good: check.good, note: check.problem)
        } catch {
            return TranscriptVerification.Closed(
                command: command, lines: numbers, signer: signer, good: false, note: error.reason)
        }
    }
}
