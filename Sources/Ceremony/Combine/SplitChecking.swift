import Foundation
import KeyturnFailure
import Shamir
import TLSMaterial

/// What `combine` checks of shares `keyturn split` wrote (SplitCheck): all of one split, at
/// least as many as it needs, each share's line intact (short secrets) or the result's MAC
/// (the digest). Shares without a check line (Vault's own keys) combine as before.
///
/// Against one holder who edits their own share and its check line (Shamir is linear: a changed
/// share moves the secret by a value the holder chooses), no share's line is taken on its own
/// word: every share must carry a check line when one does, every line must name the same split
/// (`id`, `k`, `n`) and the same kind of check, and that kind must be the one the split needed
/// for this secret's length and share count. So `check=none` (only when n = 255) or a line
/// checksum cannot switch off the digest that the other holders' lines still ask for.
struct SplitChecking {
    let check: SplitCheck?

    init(_ shares: [OpenShareFile], length: Int) throws {
        guard let marked = shares.first(where: { $0.check != nil }), let check = marked.check else {
            check = nil
            return
        }
        if let bare = shares.first(where: { $0.check == nil }) {
            throw CeremonyError(
                "\(quoted(bare.path)) has no check line but \(quoted(marked.path)) has one: a share of keyturn's split "
                    + "had its check line removed, or the shares are of two different splits; nothing was written",
                code: .mixedSplits)
        }
        if let other = shares.first(where: { $0.check?.id != check.id }) {
            throw CeremonyError(
                "\(quoted(marked.path)) and \(quoted(other.path)) are shares of two different splits",
                code: .mixedSplits)
        }
        let kind = Self.kind(of: check.check)
        if let other = shares.first(where: {
            $0.check?.threshold != check.threshold || $0.check?.shares != check.shares
                || Self.kind(of: $0.check?.check ?? "") != kind
        }) {
            throw CeremonyError(
                "\(quoted(marked.path)) and \(quoted(other.path)) disagree on their split's check line (k, n or the "
                    + "check): one was edited; nothing was written",
                code: .notTheSecret)
        }
        let needed =
            length < SplitDigest.minimumSecretLength ? "sha256" : check.shares == 255 ? "none" : "digest"
        guard kind == needed else {
            throw CeremonyError(
                "the shares' check line says check=\(kind), but a split of a \(length)-byte secret into "
                    + "\(check.shares) shares is checked by \(needed): a check line was edited; nothing was written",
                code: .notTheSecret)
        }
        guard shares.count >= check.threshold else {
            throw CeremonyError(
                "\(shares.count) share\(shares.count == 1 ? " was" : "s were") given, but this split needs "
                    + "\(check.threshold) of its \(check.shares); nothing was written",
                code: .tooFewShares, facts: ["threshold": String(check.threshold)])
        }
        self.check = check
        for share in shares where share.check?.check.hasPrefix("sha256:") == true {
            try Self.verifyLine(share)
        }
    }

    /// "digest", "none" or "sha256" (each share's line checksum differs; its kind does not).
    private static func kind(of check: String) -> String { check.hasPrefix("sha256:") ? "sha256" : check }

    /// A short secret's share: its line's checksum.
    private static func verifyLine(_ share: OpenShareFile) throws {
        let count = share.yHexLength + 2
        let buffer = SecretBuffer(count: count)
        let text = try share.text(at: 0, count: count, buffer: buffer.bytes)
        guard SplitCheck.lineChecksum(Array(text)) == share.check?.check else {
            throw CeremonyError(
                "\(quoted(share.path)) was changed since it was split: its checksum does not match",
                code: .notTheSecret)
        }
    }

    /// The digest's MAC, keyed with K read at x = 255, to be fed the recombined secret; nil
    /// when the shares carry no digest.
    func digest(_ shares: [OpenShareFile], length: Int) throws -> DigestCheck? {
        guard check?.check == "digest", length >= SplitDigest.minimumSecretLength else { return nil }
        let xs = shares.map(\.x)
        let key = SplitDigest.evaluate(try shares.map { try Self.yBytes($0, 0, SplitDigest.keyLength) }, xs: xs)
        let tagStart = length - SplitDigest.tagLength
        let tag = SplitDigest.evaluate(
            try shares.map { try Self.yBytes($0, tagStart, SplitDigest.tagLength) }, xs: xs)
        guard let gmac = key.withUnsafeBytes({ GMAC(key: $0) }) else {
            throw CeremonyError("OpenSSL cannot make a GMAC")
        }
        return DigestCheck(gmac: gmac, tag: tag)
    }

    /// `count` y-bytes of a share from `position`.
    private static func yBytes(_ share: OpenShareFile, _ position: Int, _ count: Int) throws -> [UInt8] {
        let buffer = SecretBuffer(count: 2 * count)
        let text = try share.text(at: 2 * position, count: 2 * count, buffer: buffer.bytes)
        let out = SecretBuffer(count: count)
        guard ShareHex.decode(text, into: out.bytes) else {
            throw CeremonyError("\(quoted(share.path)) is not a share: it holds characters that are not hex")
        }
        return Array(out.bytes)
    }
}

/// The MAC of the recombined secret and the tag it must match.
struct DigestCheck {
    let gmac: GMAC
    let tag: [UInt8]

    /// Throws unless the secret fed to `gmac` is the one the shares were split from.
    func verify() throws {
        guard SplitDigest.tag(gmac.finish()) == tag else {
            throw CeremonyError(
                "these shares do not recombine to the secret they were split from: one was changed, or they are "
                    + "fewer than the split needs; nothing was written",
                code: .notTheSecret)
        }
    }
}
