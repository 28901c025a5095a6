import Foundation
import KeyturnTestSupport
import Testing

@Suite("keys on a token: SoftHSM2 behind gnupg-pkcs11-scd as gpg-agent's scdaemon, real OpenBao")
struct TokenTests {
    @Test(
        """
        verify, unseal and rekey submit decrypt through the token; the token unplugged ends at once (exit 1, the \
        key named, nothing sent); a wrong PIN and a blocked PIN each have their own message, the PIN is tried once; \
        the token's key signs the transcript
        """,
        .enabled(if: SoftToken.available, "needs softhsm2, gnupg-pkcs11-scd and opensc (Scripts/test installs them)"))
    func token() async throws {
        let gpg = try TestGPG()
        let bob = try gpg.makeKey("bob")
        let dave = try gpg.makeKey("dave")
        // Last: it restarts the agent with the token's environment.
        let token = try SoftToken(gpg: gpg)
        let env = token.environment
        let dir = try TemporaryDirectory()
        let pin = try dir.write("pin", text: token.pin + "\n")
        let badPin = try dir.write("bad-pin", text: "9999\n")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let a = ["-a", server.address]
        var r = try await Keyturn.launch(
            [
                "init", "--key-threshold", "2", "--client-side-encryption", "--out-dir", dir.file("gen1"), "--pgp-keys",
                "\(token.key.armouredFile),\(bob.armouredFile)",
            ] + a, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let root = try rootToken(printedBy: r)
        let tina = dir.file("gen1/tina.asc.key")
        r = try await Keyturn.launch(["verify", tina, "--passphrase-file", pin], environment: env)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")

        // Unplugged: before, keyturn (and gpg itself) waited for ever.
        try token.remove()
        let started = Date()
        r = try await Keyturn.launch(["unseal", tina, "--passphrase-file", pin] + a, environment: env)
        #expect(Date().timeIntervalSince(started) < 30)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("the token that holds tina <tina@keyturn.test>"), "\(r.stderr)")
        #expect(r.stderr.contains("is not present") && r.stderr.contains("insert the token that holds it"))
        #expect(try await server.sealStatus()["progress"] as? Int == 0)

        try token.insert()
        // Every login that reaches the token is counted: a wrong PIN is tried once, not three
        // times (a YubiKey would be blocked).
        let logins = try token.countLogins()
        r = try await Keyturn.launch(["unseal", tina, "--passphrase-file", badPin] + a, environment: env)
        #expect(r.status == 1 && r.stderr.contains("wrong PIN for the token that holds tina"), "\(r.stderr)")
        #expect(try await server.sealStatus()["progress"] as? Int == 0)
        let tried = String(decoding: readBytes(logins) ?? [], as: UTF8.self).split(separator: "\n").count
        #expect(tried == 1, "the PIN was tried \(tried) times")

        try token.blockPIN()
        r = try await Keyturn.launch(["unseal", tina, "--passphrase-file", pin] + a, environment: env)
        #expect(r.status == 1 && r.stderr.contains("the PIN of the token that holds tina"), "\(r.stderr)")
        #expect(r.stderr.contains("is blocked") && r.stderr.contains("PUK or admin PIN"), "\(r.stderr)")
        #expect(try await server.sealStatus()["progress"] as? Int == 0)
        try token.unblockPIN()

        token.stopAgent()
        let log = dir.file("tina.jsonl")
        r = try await Keyturn.launch(
            ["unseal", tina, "--passphrase-file", pin, "--transcript", log] + a, environment: env)
        #expect(r.status == 0 && r.stdoutText.contains("1/2"), "\(r.status) \(r.stdoutText) \(r.stderr)")
        // The transcript's lines are signed by the key on the token too.
        r = try await Keyturn.launch(["transcript", "verify", log], environment: env)
        #expect(r.status == 0 && r.stdoutText.contains("signed by \(token.key.fingerprint): good"), "\(r.stdoutText)")
        r = try await Keyturn.launch(["unseal", dir.file("gen1/bob.asc.key")] + a, environment: env)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")

        // A rekey: the token's holder submits through it.
        var tokenEnv = env
        tokenEnv["VAULT_TOKEN"] = root
        r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "--out-dir", dir.file("gen2"), "--pgp-keys",
                "\(bob.armouredFile),\(dave.armouredFile)",
            ]
                + a, environment: tokenEnv)
        #expect(r.status == 0, "\(r.stderr)")
        let nonce = try #require(nonceLine(r.stdoutText))
        for share in [tina, dir.file("gen1/bob.asc.key")] {
            r = try await Keyturn.launch(
                [
                    "rekey", "submit", "--yes", "--nonce", nonce, "--passphrase-file", pin, "--out-dir",
                    dir.file("gen2"),
                    share,
                ] + a, environment: tokenEnv)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(fileMode(dir.file("gen2/dave.asc.key")) == 0o600)
    }
}
