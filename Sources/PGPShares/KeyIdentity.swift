/// Whether two names of an OpenPGP key name the same key: a fingerprint and a key ID (its last 16
/// hex digits), as Vault and gpg spell them, in either case. Shorter than a key ID (or empty)
/// names nothing, so it matches nothing.
package func sameOpenPGPKey(_ a: String, _ b: String) -> Bool {
    let a = a.uppercased(), b = b.uppercased()
    guard min(a.count, b.count) >= 16 else { return false }
    return a.hasSuffix(b) || b.hasSuffix(a)
}

/// A full OpenPGP fingerprint in one canonical spelling (upper-case hex, no spaces): 40 digits
/// (v4) or 64 (v5, v6); nil for anything else, a key ID or a short ID included. What counts a
/// holder once: two spellings of one key compare equal, and nothing shorter names a holder.
package func canonicalFingerprint(_ name: String) -> String? {
    let digits = name.uppercased().filter { $0 != " " }
    guard digits.count == 40 || digits.count == 64, digits.allSatisfy({ $0.isHexDigit && $0.isASCII }) else {
        return nil
    }
    return digits
}
