import Foundation
import KeyturnFailure
import Shamir
import TLSMaterial

/// What `combine` checks of shares `keyturn split` wrote (SplitCheck): all of one split, at
/// least as many as it needs, each share's line intact (short secrets) or the result's MAC
/// (the digest). Shares without a check line (Vault's own keys) combine as before.
struct SplitChecking {
    let check: SplitCheck?

    init(_ shares: [OpenShareFile]) throws {
        guard let marked = shares.first(where: { $0.check != nil }), let check = marked.check else {
            check = nil
            return
        }
        if let other = shares.first(where: { $0.check?.id != check.id }) {
            throw CeremonyError(
                "\(quoted(marked.path)) and \(quoted(other.path)) are shares of two different splits",
                code: .mixedSplits)
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
