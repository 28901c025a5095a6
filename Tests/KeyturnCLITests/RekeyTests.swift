import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn rekey against real OpenBao (both APIs, real gpg)")
struct RekeyTests {
    @Test(
        """
        legacy API on one node: keyturn init's holders rekey to two new ones; after a restart the new shares \
        unseal and an old one is refused
        """
    )
    func legacyRekeyOneNode() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let server = try await OpenBaoServer.start(.init(listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints))
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let env = gpg.environment
        let gen1 = dir.file("gen1"), gen2 = dir.file("gen2")
        var r = try await Keyturn.launch(
            [
                "init", "-a", server.address, "--timeout", "60", "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","),
                "--key-threshold", "2", "--client-side-encryption", "--out-dir", gen1,
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(["unseal", "-a", server.address, "\(gen1)/\(who).asc.key"], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }

        r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "-a", server.address, "--pgp-keys",
                "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--format", "json",
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let started = try jsonObject(r)
        let nonce = try #require(started["nonce"] as? String)
        #expect(started["api"] as? String == "sys/rekey/init")
        #expect(started["n"] as? Int == 2 && started["t"] as? Int == 2)
        #expect(
            (started["pgp_fingerprints"] as? [String])?.map { $0.uppercased() }
                == [dave.fingerprint, erin.fingerprint].map { $0.uppercased() })

        // A second start while one runs: refused, naming the running nonce.
        r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "-a", server.address, "--pgp-keys", dave.armouredFile,
                "--key-threshold", "1",
            ],
            environment: env)
        expectOneLineError(r, status: 2, mentioning: "already running")
        #expect(r.stderr.contains(nonce))

        let newKeys = ["--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)", "--out-dir", gen2]
        r = try await Keyturn.launch(
            ["rekey", "submit", "-a", server.address, "--nonce", nonce, "\(gen1)/bob.asc.key", "--yes"] + newKeys,
            environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("share accepted: 1 of 2"))

        // The wrong nonce: refused before anything is sent; the progress stays at 1.
        r = try await Keyturn.launch(
            ["rekey", "submit", "-a", server.address, "--nonce", "not-the-nonce", "\(gen1)/carol.asc.key", "--yes"]
                + newKeys, environment: env)
        expectOneLineError(r, status: 2, mentioning: "has nonce \(nonce), not not-the-nonce")
        #expect(r.stderr.contains("nothing was sent"))
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
        #expect(try jsonObject(r)["progress"] as? Int == 1)
        // No terminal and no --yes: nothing is sent either.
        r = try await Keyturn.launch(
            ["rekey", "submit", "-a", server.address, "--nonce", nonce, "\(gen1)/carol.asc.key"] + newKeys,
            environment: env)
        expectOneLineError(r, mentioning: "no terminal to confirm on")
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
        #expect(try jsonObject(r)["progress"] as? Int == 1, "a refused submit changed the progress")

        r = try await Keyturn.launch(
            ["rekey", "submit", "-a", server.address, "--nonce", nonce, "\(gen1)/carol.asc.key", "--yes"] + newKeys,
            environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("\(gen2)/dave.asc.key") && r.stdoutText.contains("\(gen2)/ceremony.json"))
        for f in ["dave.asc.key", "erin.asc.key", "ceremony.json"] {
            #expect(
                try FileManager.default.attributesOfItem(atPath: "\(gen2)/\(f)")[.posixPermissions] as? Int == 0o600,
                "\(f)")
        }
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(gen2)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record["generation"] as? Int == 2)
        #expect(record["previous_sha256"] as? String == sha256Hex(readBytes("\(gen1)/ceremony.json") ?? []))
        #expect(record["threshold"] as? Int == 2 && record["shares"] as? Int == 2)
        let holders = (record["share_files"] as? [[String: Any]])?.compactMap { $0["user_id"] as? String }
        #expect(holders == ["dave <dave@keyturn.test>", "erin <erin@keyturn.test>"])
        // The new files decrypt with gpg -d, as init's do.
        let hex = try gpg.gpg(["--decrypt", "\(gen2)/dave.asc.key"]).stdoutText
        #expect(hex.count == 66 && hex.allSatisfy(\.isHexDigit))

        try await server.restart()
        // An old share: counted, then at the threshold the server finds the key does not open.
        r = try await Keyturn.launch(["unseal", "-a", server.address, "\(gen1)/bob.asc.key"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(["unseal", "-a", server.address, "\(gen2)/dave.asc.key"], environment: env)
        #expect(r.status == 2)
        #expect(r.stderr.contains("refused the shares"), "\(r.stderr)")
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal", "-a", server.address, "\(gen2)/\(who).asc.key"], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
    }

    @Test(
        """
        OpenBao's authenticated rotate: a token from VAULT_TOKEN starts it, one from --token-file completes it; \
        without a token the refusal names what is missing
        """
    )
    func authenticatedRotate() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, _, rootToken, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: false)
        defer { server.stop() }
        let env = gpg.environment

        // Neither API: the legacy endpoints are off (OpenBao >= 2.5) and no token was given.
        var r = try await Keyturn.launch(["rekey", "status", "-a", server.address])
        expectOneLineError(r, status: 2, mentioning: "without a token")
        #expect(r.stderr.contains("VAULT_TOKEN") && r.stderr.contains("disable_unauthed_rekey_endpoints = false"))
        // A token file others can read is refused; a bad token names the refusal.
        let loose = try dir.write("loose.token", text: rootToken + "\n", mode: 0o644)
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--token-file", loose])
        expectOneLineError(r, mentioning: "readable by group or others")
        #expect(!r.stderr.contains(rootToken))
        r = try await Keyturn.launch(
            ["rekey", "status", "-a", server.address], environment: ["VAULT_TOKEN": "s.not-a-token"])
        expectOneLineError(r, status: 2, mentioning: "refused the token")

        r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "-a", server.address, "--pgp-keys",
                "\(dave.armouredFile),\(erin.armouredFile)",
                "--format", "json",
            ],
            environment: env.merging(["VAULT_TOKEN": rootToken]) { $1 })
        #expect(r.status == 0, "\(r.stderr)")
        let started = try jsonObject(r)
        #expect(started["api"] as? String == "sys/rotate/root/init")
        let nonce = try #require(started["nonce"] as? String)
        let tokenFile = try dir.write("root.token", text: rootToken + "\n")
        let out = dir.file("new")
        for file in files.hex.prefix(2) {
            r = try await Keyturn.launch(
                [
                    "rekey", "submit", "-a", server.address, "--token-file", tokenFile, "--nonce", nonce, file, "--yes",
                    "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)", "--out-dir", out,
                ], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(!r.stdoutText.contains(rootToken) && !r.stderr.contains(rootToken))
        }
        #expect(FileManager.default.fileExists(atPath: "\(out)/erin.asc.key"))
        try await server.restart()
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal", "-a", server.address, "\(out)/\(who).asc.key"], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
        #expect(try await server.sealStatus()["n"] as? Int == 2)
    }
}
