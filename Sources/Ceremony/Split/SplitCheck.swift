import Foundation
import Shamir
import TLSMaterial

/// The line `keyturn split` writes after each share (the share itself stays Vault's format on
/// the line before it), so that `combine` tells the secret from garbage: which split the share
/// belongs to, how many shares that split needs, and how the result is checked.
///
/// `check=digest` (secrets of 20 bytes or more): as SLIP-0039's digest share, each byte's
/// polynomial also passes through the reserved x = 255 (no share has it), where it holds
/// D = K (16 random bytes) || random || the first 4 bytes of GMAC(K, secret) (AES-128-GCM). Any
/// threshold of shares gives the secret (Vault's algorithm, at x = 0) and D (at x = 255);
/// fewer shares, shares of two splits, or a changed share give a secret whose MAC does not
/// match, but for a chance of 2^-32. Only 20 byte positions are constrained, so the split costs
/// one pass of GMAC over the secret (about 25 ms for 64 MiB, on another core in combine).
/// Like SLIP-0039, someone with threshold-1 shares can test a
/// guess of the whole secret against the 4-byte tag: harmless for keys, not for a short
/// password, which is why shorter secrets get no digest.
/// `check=sha256:HEX` (secrets under 20 bytes): the first 8 bytes of the SHA-256 of this
/// share's line, which catches a changed share but not a forged one.
/// `check=none` (255 shares of a longer secret: every x-coordinate is a share's, none is left
/// for the digest): the split and its threshold are still checked.
package struct SplitCheck: Sendable, Equatable {
    package static let prefix = "keyturn-split v1 "
    /// 16 random bytes, in hex: the same on every share of one split.
    package var id: String
    package var threshold: Int
    package var shares: Int
    /// "digest", "none", or "sha256:" and 16 hex digits.
    package var check: String

    package init(id: String, threshold: Int, shares: Int, check: String) {
        self.id = id
        self.threshold = threshold
        self.shares = shares
        self.check = check
    }

    /// The line, without its newline.
    package var line: String { "\(Self.prefix)id=\(id) k=\(threshold) n=\(shares) check=\(check)" }

    /// Parses a line written by `line`; nil for anything else.
    package static func parse(_ text: Substring) -> SplitCheck? {
        guard text.hasPrefix(prefix) else { return nil }
        var fields: [Substring: Substring] = [:]
        for part in text.dropFirst(prefix.count).split(separator: " ") {
            guard let eq = part.firstIndex(of: "=") else { return nil }
            fields[part[..<eq]] = part[part.index(after: eq)...]
        }
        guard let id = fields["id"], id.count == 32, ShareHex.decode(String(id)) != nil,
            let k = fields["k"].flatMap({ Int($0) }), let n = fields["n"].flatMap({ Int($0) }), k >= 2, n >= k,
            let check = fields["check"], check == "digest" || check == "none" || check.hasPrefix("sha256:")
        else { return nil }
        return SplitCheck(id: String(id), threshold: k, shares: n, check: String(check))
    }

    /// The checksum of a share's line (its hex text, without the newline), for short secrets.
    package static func lineChecksum(_ hexLine: [UInt8]) -> String {
        "sha256:" + String(Digest.sha256Hex(hexLine).prefix(16))
    }
}

/// The digest point's arithmetic: where the polynomials pass at x = 255, and the tag.
package enum SplitDigest {
    /// The reserved x-coordinate.
    package static let x: UInt8 = 255
    package static let keyLength = 16
    package static let tagLength = 4
    /// Secrets shorter than this get a line checksum instead (see SplitCheck).
    package static let minimumSecretLength = 20

    /// Lagrange weights that evaluate, at `target`, the polynomial through the points with
    /// x-coordinates `xs` (the first `threshold` shares suffice; all of them may be given).
    package static func weights(_ xs: [UInt8], at target: UInt8) -> [UInt8] {
        xs.indices.map { j in
            var w: UInt8 = 1
            for (m, xm) in xs.enumerated() where m != j {
                w = GF256.multiply(w, GF256.multiply(target ^ xm, GF256.inverse(xs[j] ^ xm)))
            }
            return w
        }
    }

    /// Makes each position's polynomial pass through `values[p]` at x = 255 without changing
    /// its value at 0: f = g + c·x with c = (D - g(255)) / 255. `ys` holds share j's y-byte of
    /// `position` at `j * stride + position`; `xs` are all the shares' x-coordinates.
    package static func constrain(
        _ ys: UnsafeMutableRawBufferPointer, stride: Int, positions: [Int], values: [UInt8], xs: [UInt8],
        threshold: Int
    ) {
        let w = weights(Array(xs.prefix(threshold)), at: x)
        let inverse = GF256.inverse(x)
        for (p, position) in positions.enumerated() {
            var at255: UInt8 = 0
            for j in 0..<threshold { at255 ^= GF256.multiply(w[j], ys[j * stride + position]) }
            let c = GF256.multiply(values[p] ^ at255, inverse)
            for (j, xj) in xs.enumerated() { ys[j * stride + position] ^= GF256.multiply(c, xj) }
        }
    }

    /// The values at x = 255 of the positions whose y-bytes are in `ys` (one array per share,
    /// same order as `xs`, one byte per position).
    package static func evaluate(_ ys: [[UInt8]], xs: [UInt8]) -> [UInt8] {
        let w = weights(xs, at: x)
        guard let count = ys.first?.count else { return [] }
        return (0..<count).map { p in
            var v: UInt8 = 0
            for (j, y) in ys.enumerated() { v ^= GF256.multiply(w[j], y[p]) }
            return v
        }
    }

    /// The tag for a secret whose GMAC under the key is `mac`.
    package static func tag(_ mac: [UInt8]) -> [UInt8] { Array(mac.prefix(tagLength)) }
}
