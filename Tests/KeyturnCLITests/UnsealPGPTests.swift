import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn unseal with PGP-encrypted shares (real gpg, real OpenBao)")
struct UnsealPGPTests {
    @Test(
        """
        shares from bao operator init -pgp-keys (Vault's base64) and armoured files unseal; wrong key, wrong \
        passphrase and no pinentry are told apart
        """
    )
    func pgpShares() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        // Initialised by OpenBao's own CLI, as operators do today: `bao operator init -pgp-keys`.
        let keyFiles = try [alice, bob, carol].map {
            try gpg.home.write("\($0.name).b64", text: $0.vaultBase64, mode: 0o644)
        }
        let initResult = try await Processes.launch(
            try #require(OpenBaoServer.binary),
            [
                "operator", "init", "-key-shares=3", "-key-threshold=2", "-pgp-keys=\(keyFiles.joined(separator: ","))",
                "-format=json",
            ], environment: ["BAO_ADDR": server.address, "HOME": gpg.path, "PATH": "/usr/bin:/bin"])
        #expect(initResult.status == 0, "\(initResult.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(initResult.stdout)) as? [String: Any])
        let keys = try #require(json["unseal_keys_b64"] as? [String])
        let dir = try TemporaryDirectory()
        let aliceFile = try dir.write("alice.asc.key", text: keys[0] + "\n", mode: 0o644)  // encrypted: may be readable
        let bobFile = try dir.write("bob.asc.key", text: keys[1] + "\n")
        let passFile = try dir.write("alice.pass", text: "alice secret\n")
        let wrongPass = try dir.write("wrong.pass", text: "not it\n")
        let env = gpg.environment

        // "Not your key": a keyring that holds only Mallory's key.
        let other = try TestGPG()
        _ = try other.makeKey("mallory")
        var r = try await Keyturn.launch(["unseal", "-a", server.address, bobFile], environment: other.environment)
        expectOneLineError(r, mentioning: "not for you")

        r = try await Keyturn.launch(
            ["unseal", "-a", server.address, aliceFile, "--passphrase-file", wrongPass], environment: env)
        expectOneLineError(r, mentioning: "wrong passphrase")

        // No passphrase option and no terminal (setsid -w): gpg-agent's pinentry cannot ask.
        var noTTY = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_")
        }
        noTTY.merge(env) { $1 }
        r = try await Processes.launch(
            "/usr/bin/setsid", ["-w", Keyturn.path, "unseal", "-a", server.address, aliceFile], environment: noTTY)
        expectOneLineError(r, mentioning: "no pinentry could ask")
        #expect(try await server.sealStatus()["progress"] as? Int == 0, "nothing may be sent after a failed decryption")

        r = try await Keyturn.launch(
            ["unseal", "-a", server.address, aliceFile, "--passphrase-file", passFile], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try await server.sealStatus()["progress"] as? Int == 1)

        // Bob's share re-encrypted as an armoured message (as gpg -e -a makes it), read from stdin.
        let bobHex = try gpg.gpg(["--decrypt"], stdin: Array(Data(base64Encoded: keys[1])!)).stdoutText
        let armoured = try gpg.encrypt(bobHex, to: bob)
        r = try await Keyturn.launch(
            ["unseal", "-a", server.address, "-", "--passphrase-file", try dir.write("empty.pass", text: "\n")],
            stdin: armoured, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("unsealed"))
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
    }
}
