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
        var holder = "\(s.userID) (\(s.fingerprint))"
        func refused(_ reason: String) -> Verdict {
            Verdict(file: file, holder: holder, counted: false, reason: reason)
        }
        guard let bytes = try? Attestation.signedBytes(s),
            let checks = try? PGPShares.verifyDetached(
                signature: attestation.signature, data: bytes, homeDirectory: keyring),
            let check = checks.first
        else { return refused("its signature cannot be read") }
        guard check.good else { return refused("signature: \(check.problem ?? "not good")") }
        // The holder is the key that signed (its primary key), never a name the file gives: a
        // holder who re-signs with their fingerprint spelled another way, or another user id,
        // is still one holder, and a statement naming someone else's key is not theirs.
        guard let signer = canonicalFingerprint(check.fingerprint) else {
            return refused("signed by \(check.fingerprint), which is not a full fingerprint")
        }
        guard canonicalFingerprint(s.fingerprint) == signer else {
            return refused("signed by \(signer), not by the holder it names")
        }
        guard let entry = record.shareFiles.first(where: { canonicalFingerprint($0.fingerprint) == signer }) else {
            return refused("the record lists no holder with the key \(signer)")
        }
        holder = "\(entry.userID) (\(signer))"
        guard s.userID == entry.userID, s.shareFile == entry.file else {
            return refused(
                "it names \(quoted(s.userID)) and the file \(quoted(s.shareFile)), but the record lists the key "
                    + "\(signer) as \(quoted(entry.userID)) holding \(quoted(entry.file))")
        }
        guard s.manifestSHA256 == digest else {
            return refused("it attests a share of another ceremony record (generation \(s.generation)), not this one")
        }
        guard let time = ISO8601DateFormatter().date(from: s.time) else { return refused("its time cannot be read") }
        let age = now.timeIntervalSince(time)
        guard age >= -Self.clockSkew else {
            return refused(
                "it is dated \(Self.days(-age)) in the future: a clock is wrong, or it was made to stay fresh")
        }
        guard age <= maxAge else {
            return refused("stale: made \(Self.days(age)) ago, more than \(Self.days(maxAge))")
        }
        return Verdict(file: file, holder: holder, counted: true, reason: "\(s.proved), \(Self.days(max(0, age))) ago")
    }

    /// How far ahead of this machine's clock an attestation may be dated (the holder's clock
    /// may run a little fast); past that it is not counted, or it would stay fresh for ever.
    package static let clockSkew: TimeInterval = 300

    /// "12 minutes", "5 hours", "3 days": a duration as a person reads it.
    package static func days(_ seconds: TimeInterval) -> String {
        func unit(_ n: Int, _ name: String) -> String { "\(n) \(name)\(n == 1 ? "" : "s")" }
        // A date from a file can be any distance away: beyond a million days it is just "more".
        guard seconds.isFinite, seconds < 86_400 * 1_000_000 else { return "more than a million days" }
        switch seconds {
        case ..<60: return unit(max(0, Int(seconds)), "second")
        case ..<3600: return unit(Int(seconds / 60), "minute")
        case ..<86_400: return unit(Int(seconds / 3600), "hour")
        default: return unit(Int((seconds / 86_400).rounded()), "day")
        }
    }
}
