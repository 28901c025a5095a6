import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial

/// What `transcript verify` finds in one transcript: whether every line is chained to the one
/// before it (`prev`), which key signed which lines, and the first line that breaks.
package struct TranscriptVerification: Sendable {
    /// The lines one close line covers (1-based line numbers), and its verdict.
    package struct Closed: Sendable {
        package let command: String
        package let lines: [Int]
        /// The signing key's fingerprint, when the lines are signed.
        package let signer: String?
        /// Whether the signature is good (nil when unsigned).
        package let good: Bool?
        /// Why the lines are unsigned, or what is wrong with the signature.
        package let note: String?
    }

    package let path: String
    package let lineCount: Int
    /// Lines written before chaining existed (no `prev`): read, not checked.
    package let unchained: Int
    package let closed: [Closed]
    /// The first line that breaks the chain or the signatures, and why.
    package let firstBreak: (line: Int, reason: String)?

    /// Exit 0 material: an intact chain, every chained line closed, every signature good.
    package var intact: Bool { firstBreak == nil && closed.allSatisfy { $0.good != false } }

    /// Reads and checks the transcript at `path`; signatures are checked with the public keys in
    /// `keyring` (a GnuPG home), else the user's keyring.
    package static func verify(_ path: String, keyring: String? = nil) throws -> TranscriptVerification {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CeremonyError("cannot read the transcript \(quoted(path))")
        }
        var lines = [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.last?.isEmpty == true { lines.removeLast() }
        let hashes = lines.map { Digest.sha256Hex($0) }
        var breaks: [(Int, String)] = []
        var unchained = 0
        var covered = Set<Int>()
        var closed: [Closed] = []
        var chainStarted = false
        for (i, line) in lines.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                breaks.append((i + 1, "line \(i + 1) is not a JSON object"))
                continue
            }
            guard let prev = object["prev"] as? String else {
                if chainStarted {
                    breaks.append((i + 1, "line \(i + 1) has no prev, after chained lines"))
                } else {
                    unchained += 1
                }
                continue
            }
            chainStarted = true
            let expected = i == 0 ? "" : hashes[i - 1]
            if prev != expected {
                breaks.append(
                    i == 0
                        ? (1, "line 1 names a line before it: lines were removed from the start, or moved")
                        : (
                            i + 1,
                            "line \(i + 1) does not follow line \(i): line \(i) was changed, or lines were removed or "
                                + "moved there"
                        ))
            }
            guard let command = object["close"] as? String else { continue }
            let wanted = object["line_sha256"] as? [String] ?? []
            var numbers: [Int] = []
            for hash in wanted {
                guard let n = hashes.indices.first(where: { $0 < i && hashes[$0] == hash && !covered.contains($0) })
                else {
                    breaks.append(
                        (i + 1, "line \(i + 1) signs a line that is not in the file: it was changed or removed"))
                    break
                }
                covered.insert(n)
                numbers.append(n + 1)
            }
            closed.append(
                try closing(object, command: command, lines: numbers, all: lines, keyring: keyring))
        }
        // Every chained line must be closed by its command.
        for (i, line) in lines.enumerated() where !covered.contains(i) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                object["prev"] != nil, object["close"] == nil
            else { continue }
            // Changed in place: no closing line lists it as it is now, and the next line does not follow it.
            let changed = breaks.contains { $0.0 == i + 2 }
            let reason =
                changed
                ? "line \(i + 1) is listed by no closing line, and line \(i + 2) does not follow it: line \(i + 1) "
                    + "was changed, or the line after it (a signature line?) removed"
                : "line \(i + 1) is not covered by a closing line: its signature line was removed, or its command "
                    + "did not finish"
            breaks.append((i + 1, reason))
        }
        // The first line that breaks; at one line, what happened to it (found last) rather than to its successor.
        let first = breaks.enumerated().min { ($0.element.0, -$0.offset) < ($1.element.0, -$1.offset) }?.element
        return TranscriptVerification(
            path: path, lineCount: lines.count, unchained: unchained, closed: closed,
            firstBreak: first.map { (line: $0.0, reason: $0.1) })
    }

    private static func closing(
        _ object: [String: Any], command: String, lines: [Int], all: [[UInt8]], keyring: String?
    ) throws -> Closed {
        guard let signature = object["signature"] as? String, let signer = object["signer"] as? String else {
            return Closed(
                command: command, lines: lines, signer: nil, good: nil,
                note: object["unsigned"] as? String ?? "unsigned")
        }
        let signed: [UInt8] = lines.flatMap { n -> [UInt8] in all[n - 1] + [0x0A] }
        do throws(PGPError) {
            let checks = try PGPShares.verifyDetached(signature: signature, data: signed, homeDirectory: keyring)
            let mine = checks.first { $0.fingerprint == signer.uppercased() }
            guard let check = mine ?? checks.first else {
                return Closed(command: command, lines: lines, signer: signer, good: false, note: "no signature in it")
            }
            return Closed(
                command: command, lines: lines, signer: check.fingerprint, good: check.good, note: check.problem)
        } catch {
            return Closed(command: command, lines: lines, signer: signer, good: false, note: error.reason)
        }
    }
}
