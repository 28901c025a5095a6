import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn split and combine with PGP (real gpg, real OpenBao)")
struct SplitPGPTests {
    @Test("a 1-of-1 Vault key split among three holders (2 needed) unseals OpenBao through a pipe: combine | unseal -")
    func splitKeyUnsealsThroughAPipe() async throws {
        let gpg = try TestGPG()
        let holders = try ["alice", "bob", "carol"].map { try gpg.makeKey($0) }
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 1, threshold: 1)
        let dir = try TemporaryDirectory()
        let secret = try dir.write("vault-key.txt", text: keys[0] + "\n")
        let out = dir.file("shares")

        let s = try await Keyturn.launch(
            [
                "split", "--threshold", "2", "--pgp-keys", holders.map(\.armouredFile).joined(separator: ","),
                "--out-dir", out, secret,
            ], environment: gpg.environment)
        #expect(s.status == 0, "\(s.stderr)")
        let files = ["alice.asc.share", "bob.asc.share", "carol.asc.share"].map { "\(out)/\($0)" }
        for f in files {
            #expect(fileMode(f) == 0o600)
            #expect(String(decoding: readBytes(f) ?? [], as: UTF8.self).hasPrefix("-----BEGIN PGP MESSAGE-----"))
            #expect(!String(decoding: readBytes(f) ?? [], as: UTF8.self).contains(keys[0]))
        }
        // gpg -d gives a share in the --no-pgp form: its hex line, then the check line.
        let plain = try gpg.gpg(["--decrypt", files[1]]).stdoutText.split(separator: "\n")
        #expect(plain.count == 2 && plain[0].allSatisfy(\.isHexDigit) && plain[1].hasPrefix("keyturn-split v1 "))

        let c = try await Keyturn.launch(["combine", files[2], files[0]], environment: gpg.environment)
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdoutText == keys[0] + "\n")
        let u = try await Keyturn.launch(["unseal", "-a", server.address, "-"], stdin: c.stdout)
        #expect(u.status == 0, "\(u.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)

        // A holder whose key is not in this keyring cannot be combined here; the key is named.
        let other = try TestGPG()
        _ = try other.makeKey("mallory")
        expectOneLineError(
            try await Keyturn.launch(["combine", files[0], files[1]], environment: other.environment),
            mentioning: "not for you")
        // Bad key files are refused before the secret is read, and nothing is written.
        let bad = try await Keyturn.launch(
            [
                "split", "--threshold", "2", "--pgp-keys", "\(holders[0].armouredFile),\(holders[0].armouredFile)",
                "--out-dir", dir.file("bad"), secret,
            ], environment: gpg.environment)
        expectOneLineError(bad, mentioning: "same key")
        #expect(!FileManager.default.fileExists(atPath: dir.file("bad")))
    }
}
