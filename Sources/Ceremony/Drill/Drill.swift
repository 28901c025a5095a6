import Foundation
import KeyturnFailure
import PGPShares
import TLSMaterial

/// The quorum drill: counts the fresh, valid attestations of distinct holders of one ceremony
/// record, to show that a quorum still holds its shares without unsealing anything.
package struct Drill: Sendable {
    /// One attestation's verdict.
    package struct Verdict: Sendable {
        package let file: String
        package let holder: String?
        /// Whether it counts towards the quorum.
        package let counted: Bool
        package let reason: String
    }

    package let verdicts: [Verdict]
    package let holders: Int
    package let threshold: Int
    /// Distinct holders with a counted attestation.
    package let proven: Int
    /// Whether the record has commitments (what an attestation proves depends on it).
    package let commitments: Bool

    package var quorumHolds: Bool { proven >= threshold }

    /// Checks `attestations` against the record at `manifest`: each signature (with the keys in
    /// `keyring`, else the user's), the record it names, its holder, its age.
    package static func run(
        manifest: String, attestations: [String], maxAge: TimeInterval, now: Date = Date(), keyring: String? = nil
    ) throws -> Drill {
        let record = try CeremonyRecord.load(manifest)
        let digest = Digest.sha256Hex(FileManager.default.contents(atPath: manifest).map { [UInt8]($0) } ?? [])
        var verdicts: [Verdict] = []
        var proven = Set<String>()
        for file in attestations {
            let verdict = check(file, record: record, digest: digest, maxAge: maxAge, now: now, keyring: keyring)
            var counted = verdict.counted
            if counted, let holder = verdict.holder, !proven.insert(holder).inserted {
                counted = false
                verdicts.append(
                    Verdict(file: file, holder: holder, counted: false, reason: "the same holder again: counted once"))
                continue
            }
            verdicts.append(Verdict(file: file, holder: verdict.holder, counted: counted, reason: verdict.reason))
        }
        return Drill(
            verdicts: verdicts, holders: record.shareFiles.count, threshold: record.threshold, proven: proven.count,
            commitments: record.commitmentSalt != nil)
    }

    private static func check(
        _ file: String, record: CeremonyRecord, digest: String, maxAge: TimeInterval, now: Date, keyring: String?
    ) -> Verdict {
        guard let data = FileManager.default.contents(atPath: file),
            let attestation = try? JSONDecoder().decode(Attestation.self, from: data)
        else { return Verdict(file: file, holder: nil, counted: false, reason: "not a keyturn attestation") }
        let s = attestation.statement
        let holder = "\(s.userID) (\(s.fingerprint))"
        guard let bytes = try? Attestation.signedBytes(s),
            let checks = try? PGPShares.verifyDetached(
                signature: attestation.signature, data: bytes, homeDirectory: keyring),
            let check = checks.first
        else { return Verdict(file: file, holder: holder, counted: false, reason: "its signature cannot be read") }
        guard check.good else {
            return Verdict(
                file: file, holder: holder, counted: false, reason: "signature: \(check.problem ?? "not good")")
        }
        guard check.fingerprint == s.fingerprint.uppercased() else {
            return Verdict(
                file: file, holder: holder, counted: false,
                reason: "signed by \(check.fingerprint), not by the holder it names")
        }
        guard s.manifestSHA256 == digest else {
            return Verdict(
                file: file, holder: holder, counted: false,
                reason: "it attests a share of another ceremony record (generation \(s.generation)), not this one")
        }
        guard
            record.shareFiles.contains(where: {
                $0.fingerprint.uppercased() == s.fingerprint.uppercased() && $0.file == s.shareFile
            })
        else {
            return Verdict(
                file: file, holder: holder, counted: false, reason: "the record lists no such holder and file")
        }
        guard let time = ISO8601DateFormatter().date(from: s.time) else {
            return Verdict(file: file, holder: holder, counted: false, reason: "its time cannot be read")
        }
        let age = now.timeIntervalSince(time)
        guard age <= maxAge else {
            return Verdict(
                file: file, holder: holder, counted: false,
                reason: "stale: made \(Self.days(age)) ago, more than \(Self.days(maxAge))")
        }
        return Verdict(file: file, holder: holder, counted: true, reason: "\(s.proved), \(Self.days(age)) ago")
    }

    /// "12 minutes", "5 hours", "3 days": a duration as a person reads it.
    package static func days(_ seconds: TimeInterval) -> String {
        func unit(_ n: Int, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s")" }
        switch seconds {
        case ..<60: return unit(max(0, Int(seconds)), "second")
        case ..<3600: return unit(Int(seconds / 60), "minute")
        case ..<86_400: return unit(Int(seconds / 3600), "hour")
        default: return unit(Int((seconds / 86_400).rounded()), "day")
        }
    }
}
