/// Whether two names of an OpenPGP key name the same key: a fingerprint and a key ID (its last 16
/// hex digits), as Vault and gpg spell them, in either case. Shorter than a key ID (or empty)
/// names nothing, so it matches nothing.
package func sameOpenPGPKey(_ a: String, _ b: String) -> Bool {
    let a = a.uppercased(), b = b.uppercased()
    guard min(a.count, b.count) >= 16 else { return false }
    return a.hasSuffix(b) || b.hasSuffix(a)
}
