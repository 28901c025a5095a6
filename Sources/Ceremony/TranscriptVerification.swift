import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial

// What the evidence proves, against whom (the threat model; README "Security model" says the
// same for operators). The adversaries, as SPEC.md names them:
// - one holder: wants to be counted twice in a drill, or to deny or shift what they did;
// - the coordinator, who collects and merges the transcripts;
// - anyone who handles the files on their way to the auditor;
// - one share holder at `combine` (Combine/SplitChecking.swift);
// - a hostile or spoofed server (its answers are decoded with checked numbers).
// What each artifact proves, and what it cannot:
// - A transcript's chain (`prev`, the SHA-256 of the line before) proves order and that no line
//   was changed, inserted or removed inside it. It cannot prove completeness: lines cut off the
//   end leave a shorter, intact chain. Hence the head (the last line's SHA-256 and the line
//   count), which `transcript verify` prints and `--head` checks, and which the report prints
//   for the change ticket: published elsewhere, it catches a cut.
// - A closing line's signature proves that the key that made it vouched for exactly the lines it
//   lists. A line naming an operator's key (`key_fingerprint`) is vouched for only by that key's
//   signature: lines signed by another key are reported, not credited to the key they name.
//   Unsigned lines after signed ones are reported: anyone can append unsigned lines. A closing
//   line carries the closing fields only, so no edited closing line can pass for an event.
// - The chain is unkeyed: whoever handles the file can rewrite it whole and recompute every
//   `prev`. Only the signatures, and a head published before the file left its writer, stand
//   against that; an unsigned transcript proves nothing against its handlers.
// - A drill's attestation (Drill/Drill.swift) proves that the key that signed it checked its
//   share; the holder is that key, compared by its full fingerprint, never by a field they write.

/// What `transcript verify` finds in one transcript: whether every line is chained to the one
/// before it (`prev`), which key signed which lines, whether the lines each signature covers
/// name that key, and the first line that breaks. Linear in the transcript's size.
package struct TranscriptVerification: Sendable {
    /// The lines one close line covers (1-based line numbers), and its verdict.
    package struct Closed: Sendable {
        package let command: String
        package let lines: [Int]
        /// The signing key's fingerprint (the primary key of the key that signed), when signed.
        package let signer: String?
        /// Whether the signature is good (nil when unsigned).
        package let good: Bool?
        /// Why the lines are unsigned, or what is wrong with the signature.
        package let note: String?
    }

    /// Something an auditor must look at that is not a break in the chain: lines that name one
    /// key and are signed by another, unsigned lines after signed ones, a malformed closing line.
    package struct Anomaly: Sendable {
        /// The lines it concerns (1-based).
        package let lines: [Int]
        package let reason: String
    }

    package let path: String
    package let lineCount: Int
    /// SHA-256 (hex) of the last line, without its newline; "" for an empty transcript. With
    /// `lineCount`, the head an operator publishes so that a cut end can be told.
    package let head: String
    /// Lines written before chaining existed (no `prev`): read, not checked.
    package let unchained: Int
    package let closed: [Closed]
    package let anomalies: [Anomaly]
    /// The first line that breaks the chain or the signatures, and why.
    package let firstBreak: (line: Int, reason: String)?
    private let hashes: [String]
    /// Every line as parsed (nil where it is not a JSON object), for the report's events.
    package let parsed: [TranscriptLine?]

    /// Exit 0 material: an intact chain, every chained line closed, every signature good and
    /// by the key its lines name, no unsigned line after a signed one.
    package var intact: Bool { chainAndSignaturesHold && anomalies.isEmpty }

    /// The chain is intact and no signature is bad (what `--no-strict` asks).
    package var chainAndSignaturesHold: Bool { firstBreak == nil && closed.allSatisfy { $0.good != false } }

    /// The lines (1-based) that neither the chain nor a signature vouches for: from the first
    /// break on, every line under a signature that does not verify, and every line an anomaly
    /// names.
    package var unvouchedLines: Set<Int> {
        var out = Set<Int>()
        if let b = firstBreak, b.line <= lineCount { out.formUnion(b.line...lineCount) }
        for c in closed where c.good == false { out.formUnion(c.lines) }
        for a in anomalies { out.formUnion(a.lines) }
        return out
    }

    /// The line (1-based) whose SHA-256 is `head`, if any: where a published head stands now.
    package func line(withHash head: String) -> Int? {
        let wanted = head.lowercased()
        return hashes.lastIndex(of: wanted).map { $0 + 1 }
    }

    /// The fields a closing line has; any other field makes it malformed (an event's fields on
    /// a closing line would have a reader take it for what it is not).
    static let closingFields: Set<String> = [
        "close", "time", "version", "line_sha256", "signer", "signature", "unsigned", "prev",
    ]

    /// Reads and checks the transcript at `path`; signatures are checked with the public keys in
    /// `keyring` (a GnuPG home), else the user's keyring; `checkSignatures: false` (the fuzz
    /// targets: no gpg process per input) takes every signature as unchecked.
    package static func verify(
        _ path: String, keyring: String? = nil, checkSignatures: Bool = true
    ) throws -> TranscriptVerification {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CeremonyError("cannot read the transcript \(quoted(path))")
        }
        var lines = [UInt8](data).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
        if lines.last?.isEmpty == true { lines.removeLast() }
        var checker = TranscriptChecker(lines: lines, keyring: keyring, checkSignatures: checkSignatures)
        try checker.run()
        return TranscriptVerification(
            path: path, lineCount: lines.count, head: checker.hashes.last ?? "", unchained: checker.unchained,
            closed: checker.closed, anomalies: checker.anomalies, firstBreak: checker.firstBreak,
            hashes: checker.hashes, parsed: checker.objects)
    }
}
