import Foundation
import KeyturnTestSupport
import PGPShares
import Shamir
import Testing

@Suite("PGPShares over GPGME (real gpg, throwaway keys)")
struct PGPSharesTests {
    @Test("a public key file is inspected without importing it: fingerprint, user id, the key's bytes")
    func inspectsPublicKey() throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let scratch = try TemporaryDirectory("keyturn-scratch")
        let data = try #require(FileManager.default.contents(atPath: alice.armouredFile))
        let info = try PGPShares.inspectPublicKey([UInt8](data), name: alice.armouredFile, scratchHome: scratch.path)
        #expect(info.fingerprint.uppercased() == alice.fingerprint.uppercased())
        #expect(info.userID.contains("alice"))
        #expect(Data(info.binary).base64EncodedString() == alice.vaultBase64)
        // Vault's form (base64 of the binary key) is read as well.
        let vaultForm = try PGPShares.inspectPublicKey(
            Array(alice.vaultBase64.utf8), name: "alice.b64", scratchHome: scratch.path)
        #expect(vaultForm.fingerprint == info.fingerprint)
    }

    @Test("text that is not a key is refused as notPGP, naming the file")
    func refusesGarbage() throws {
        let scratch = try TemporaryDirectory("keyturn-scratch")
        let error = #expect(throws: PGPError.self) {
            try PGPShares.inspectPublicKey(Array("hello".utf8), name: "x.asc", scratchHome: scratch.path)
        }
        #expect(error?.code == .notPGP)
        #expect(error?.reason.contains("x.asc") == true)
    }

    @Test("a share encrypted to a key decrypts with it (loopback passphrase), and a wrong passphrase is told apart")
    func encryptDecryptRoundTrip() throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice", passphrase: "alice secret")
        let scratch = try TemporaryDirectory("keyturn-scratch")
        let data = try #require(FileManager.default.contents(atPath: alice.armouredFile))
        let info = try PGPShares.inspectPublicKey([UInt8](data), name: "alice", scratchHome: scratch.path)
        let share = Array(String(repeating: "ab", count: 33).utf8)
        let armoured = try share.withUnsafeBytes { try PGPShares.encrypt($0, to: info, scratchHome: scratch.path) }
        #expect(String(decoding: armoured, as: UTF8.self).hasPrefix("-----BEGIN PGP MESSAGE-----"))
        let good = Self.secret("alice secret")
        let plain = try armoured.withUnsafeBytes {
            try PGPShares.decrypt($0, homeDirectory: gpg.path, passphrase: good)
        }
        withExtendedLifetime(plain) { #expect(Array(plain.bytes) == share) }
        let bad = Self.secret("wrong")
        let error = #expect(throws: PGPError.self) {
            _ = try armoured.withUnsafeBytes { try PGPShares.decrypt($0, homeDirectory: gpg.path, passphrase: bad) }
        }
        #expect(error?.code == .wrongPassphrase)
    }

    /// A passphrase in a zeroing buffer.
    static func secret(_ text: String) -> SecretBuffer {
        let bytes = Array(text.utf8)
        let buffer = SecretBuffer(count: bytes.count)
        bytes.withUnsafeBytes { buffer.bytes.copyMemory(from: $0) }
        return buffer
    }

    @Test("ASCII armour round-trips any bytes; text without an armoured block decodes to nothing")
    func armour() {
        let bytes = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let text = Armor.encode(bytes)
        #expect(Armor.decode(text) == bytes)
        #expect(Armor.decode("no armour here") == nil)
        #expect(Armor.decode(text.replacingOccurrences(of: "-----END PGP MESSAGE-----", with: "")) == nil)
    }
}
