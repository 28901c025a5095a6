import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn init --client-side-encryption and keyturn verify")
struct ClientSideAndVerifyTests {
    @Test(
        """
        shares encrypted by keyturn carry commitments; verify accepts the right file and catches a substituted \
        one or a wrong commitment; unseal refuses a share that fails its commitment
        """
    )
    func commitments() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let bob = try gpg.makeKey("bob")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let out = dir.file("secrets")
        let root = try gpg.makeKey("root")
        let r = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", server.address, "--pgp-keys",
                "\(alice.armouredFile),\(bob.armouredFile)", "--key-threshold", "2",
                "--client-side-encryption", "--root-token-pgp-key", root.armouredFile, "--out-dir", out,
            ], environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdoutText.contains("Initial Root Token"), "the root token was encrypted, so it is not printed")
        #expect(fileMode("\(out)/root-token.asc") == 0o600)
        let manifestText = String(decoding: readBytes("\(out)/ceremony.json") ?? [], as: UTF8.self)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(manifestText.utf8)) as? [String: Any])
        #expect(manifest["encryption"] as? String == "client")
        #expect((manifest["commitment_salt"] as? String)?.count == 32)
        let records = try #require(manifest["share_files"] as? [[String: Any]])
        #expect(records.allSatisfy { ($0["commitment"] as? String)?.count == 64 })

        let aliceFile = "\(out)/alice.asc.key", bobFile = "\(out)/bob.asc.key"
        var v = try await Keyturn.launch(["verify", aliceFile], environment: gpg.environment)
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdoutText.contains("matches the commitment"))

        // Bob's file under Alice's name: the recorded SHA-256 differs.
        let swapped = dir.file("swap")
        try FileManager.default.createDirectory(atPath: swapped, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: bobFile, toPath: "\(swapped)/alice.asc.key")
        try FileManager.default.copyItem(atPath: "\(out)/ceremony.json", toPath: "\(swapped)/ceremony.json")
        v = try await Keyturn.launch(["verify", "\(swapped)/alice.asc.key"], environment: gpg.environment)
        expectOneLineError(v, mentioning: "SHA-256 differs")

        // A manifest whose commitment for Alice is wrong: verify and unseal both refuse, and
        // nothing reaches the server.
        let aliceCommitment = try #require(records.first?["commitment"] as? String)
        let forged = try dir.write(
            "forged.json",
            text: manifestText.replacingOccurrences(of: aliceCommitment, with: String(repeating: "0", count: 64)))
        v = try await Keyturn.launch(["verify", aliceFile, "--manifest", forged], environment: gpg.environment)
        expectOneLineError(v, mentioning: "does not match the commitment")
        let u = try await Keyturn.launch(
            ["unseal", "-a", server.address, aliceFile, "--manifest", forged], environment: gpg.environment)
        expectOneLineError(u, mentioning: "does not match its commitment")
        #expect(try await server.sealStatus()["progress"] as? Int == 0)

        // With the real manifest (found beside the files) both shares unseal.
        for f in [aliceFile, bobFile] {
            let ok = try await Keyturn.launch(["unseal", "-a", server.address, f], environment: gpg.environment)
            #expect(ok.status == 0, "\(ok.stderr)")
        }
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
        // The root token decrypts with the root key.
        let token = try gpg.gpg(["--decrypt", "\(out)/root-token.asc"]).stdoutText
        #expect(token.hasPrefix("s."))
    }

    @Test("with server-side encryption verify says the share itself cannot be checked, and still exits 0")
    func serverSideVerify() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let r = try await Keyturn.launch(
            ["init", "--timeout", "60", "-a", server.address, "--pgp-keys", alice.armouredFile, "--out-dir", dir.path],
            environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("Initial Root Token: s."), "an unencrypted root token must not be lost")
        let v = try await Keyturn.launch(["verify", dir.file("alice.asc.key")], environment: gpg.environment)
        #expect(v.status == 0, "\(v.stderr)")
        #expect(v.stdoutText.contains("no commitments"))
        let other = try TestGPG()
        _ = try other.makeKey("mallory")
        expectOneLineError(
            try await Keyturn.launch(["verify", dir.file("alice.asc.key")], environment: other.environment),
            mentioning: "not for you")
    }
}

@Suite("keyturn init request body")
struct InitRequestTests {
    @Test(
        """
        recovery options and keys reach sys/init as Vault names them (no auto-unseal seal at hand: checked on the \
        request)
        """
    )
    func recoveryOptions() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice"), bob = try gpg.makeKey("bob"), carol = try gpg.makeKey("carol")
        let dir = try TemporaryDirectory()
        let stub = try StubServer("init", [dir.file("body.json")])
        let r = try await Keyturn.launch(
            [
                "init", "-a", stub.address, "--pgp-keys", alice.armouredFile, "--key-threshold", "1",
                "--recovery-shares", "2", "--recovery-threshold", "2", "--recovery-pgp-keys",
                "\(bob.armouredFile),\(carol.armouredFile)",
                "--out-dir", dir.file("out"),
            ], environment: gpg.environment)
        // The recovery keys, encrypted by the server, are written for their holders.
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdoutText.contains("bob.asc.recovery.key") && r.stdoutText.contains("carol.asc.recovery.key"),
            "\(r.stdoutText)")
        #expect(fileMode(dir.file("out/bob.asc.recovery.key")) == 0o600)
        let manifest = String(decoding: readBytes(dir.file("out/ceremony.json")) ?? [], as: UTF8.self)
        #expect(manifest.contains("recovery_files") && manifest.contains(carol.fingerprint))
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes(dir.file("body.json")) ?? [])) as? [String: Any])
        #expect(body["secret_shares"] as? Int == 1 && body["secret_threshold"] as? Int == 1)
        #expect(body["recovery_shares"] as? Int == 2 && body["recovery_threshold"] as? Int == 2)
        #expect((body["pgp_keys"] as? [String]) == [alice.vaultBase64])
        #expect((body["recovery_pgp_keys"] as? [String]) == [bob.vaultBase64, carol.vaultBase64])
        withExtendedLifetime(stub) {}
    }
}
