import PGPShares
import Testing

@Suite("one OpenPGP key under two names: a fingerprint and its key ID")
struct KeyIdentityTests {
    static let fingerprint = "0EFABD846BB7E7465E67ED0047CA96AAEF407B8B"

    @Test("a fingerprint matches itself and its key ID in either case; other keys, empty and short names do not")
    func sameKey() {
        let f = Self.fingerprint
        #expect(sameOpenPGPKey(f, f.lowercased()))
        #expect(sameOpenPGPKey(f, String(f.suffix(16))) && sameOpenPGPKey(String(f.suffix(16)).lowercased(), f))
        #expect(!sameOpenPGPKey(f, "035C41E2C411E3BE8D0E28D49CD1CF1B5C68F9CF"))
        #expect(!sameOpenPGPKey(f, ""), "an empty name would be a suffix of every fingerprint")
        #expect(!sameOpenPGPKey(f, String(f.suffix(8))), "a short key ID names many keys")
    }
}
