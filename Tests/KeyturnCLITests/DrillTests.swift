import Foundation
import KeyturnTestSupport
import Testing

@Suite("the quorum drill: verify --attest and keyturn drill (real gpg, real OpenBao)")
struct DrillTests {
    /// keyturn init of `server` with client-side encryption (commitments), threshold 2.
    static func initialise(
        _ server: OpenBaoServer, to keys: [TestGPG.Key], into dir: String, _ gpg: TestGPG
    ) async throws -> ProcessResult {
        try await Keyturn.launch(
            [
                "init", "-a", server.address, "--key-threshold", "2", "--client-side-encryption", "--out-dir", dir,
                "--pgp-keys", keys.map(\.armouredFile).joined(separator: ","),
            ],
            environment: gpg.environment)
    }

    @Test(
        """
        two attestations of a 2-of-3 ceremony: exit 0; one: exit 2; the same holder twice counts once; another \
        record, a stale one and an edited one do not count, and say why; no secret in any attestation
        """
    )
    func drill() async throws {
        let c = try await EvidenceAttackTests.ceremony()
        let (gpg, dir, gen1, token) = (c.gpg, c.dir, c.gen1, c.rootToken)
        var r: ProcessResult
        let pass = try dir.write("alice.pass", text: "alice secret\n")
        func attest(_ who: String, _ name: String, _ extra: [String] = []) async throws -> String {
            let file = dir.file(name)
            let r = try await Keyturn.launch(
                ["verify", "\(gen1)/\(who).asc.key", "--attest", file] + extra, environment: gpg.environment)
            #expect(r.status == 0, "\(r.stderr)")
            return file
        }
        let bobs = try await attest("bob", "bob.att")
        let carols = try await attest("carol", "carol.att")
        let alices = try await attest("alice", "alice.att", ["--passphrase-file", pass])
        let bobAgain = try await attest("bob", "bob-again.att")
        let manifest = "\(gen1)/ceremony.json"
        func drill(
            _ files: [String], _ extra: [String] = [], manifest: String = manifest
        ) async throws
            -> ProcessResult
        {
            try await Keyturn.launch(["drill", "--manifest", manifest] + extra + files, environment: gpg.environment)
        }

        r = try await drill([bobs, carols])
        #expect(r.status == 0 && r.stdoutText.contains("quorum holds: 2 of 3 holders"), "\(r.stdoutText) \(r.stderr)")
        r = try await drill([alices, bobs, carols])
        #expect(r.status == 0 && r.stdoutText.contains("3 of 3"), "\(r.stdoutText)")
        r = try await drill([bobs])
        #expect(r.status == 2 && r.stdoutText.contains("quorum NOT proven: 1 of 3"), "\(r.stdoutText)")
        r = try await drill([bobs, bobAgain])
        #expect(r.status == 2 && r.stdoutText.contains("the same holder again: counted once"), "\(r.stdoutText)")

        // Edited after signing: the time moved forward.
        var edited = String(decoding: try #require(readBytes(carols)), as: UTF8.self)
        edited = edited.replacingOccurrences(of: "\"time\" : \"20", with: "\"time\" : \"21")
        let editedFile = try dir.write("edited.att", text: edited)
        r = try await drill([bobs, editedFile])
        #expect(r.status == 2 && r.stdoutText.contains("edited.att: carol"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("signature: bad signature"), "\(r.stdoutText)")

        // Another record (the same ceremony.json, changed, and without commitments).
        let manifestBytes = try #require(readBytes(manifest))
        var other = try #require(try JSONSerialization.jsonObject(with: Data(manifestBytes)) as? [String: Any])
        other["commitment_salt"] = nil
        other["address"] = "https://elsewhere:8200"
        let otherFile = try dir.write("other.json", [UInt8](try JSONSerialization.data(withJSONObject: other)))
        r = try await drill([bobs, carols], manifest: otherFile)
        #expect(r.status == 2 && r.stdoutText.contains("another ceremony record"), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("has no commitments"), "\(r.stdoutText)")

        // Stale: older than --max-age (here a few seconds).
        try await Task.sleep(nanoseconds: 3_000_000_000)
        r = try await drill([bobs, carols], ["--max-age", "0.00002"])
        #expect(r.status == 2 && r.stdoutText.contains("stale"), "\(r.stdoutText)")

        // No form of a share, and not the root token, in any attestation.
        var secrets = [token]
        for who in ["alice", "bob", "carol"] {
            secrets += try shareForms(gpg, "\(gen1)/\(who).asc.key", passphrase: who == "alice" ? "alice secret" : "")
        }
        for file in [alices, bobs, carols, bobAgain] {
            let text = String(decoding: readBytes(file) ?? [], as: UTF8.self)
            for secret in secrets { #expect(!text.contains(secret), "a secret is in \(file)") }
        }
    }

    @Test(
        """
        a holder whose key signs with a subkey of its own (a YubiKey's usual layout): the attestation counts and \
        transcript verify names the holder's primary key
        """
    )
    func signingSubkey() async throws {
        let gpg = try TestGPG()
        let erin = try gpg.makeKey("erin")
        let bob = try gpg.makeKey("bob")
        // From now on gpg signs erin's data with this subkey, and the signature names the subkey.
        _ = try gpg.gpg([
            "--pinentry-mode", "loopback", "--passphrase", "", "--quick-add-key", erin.fingerprint, "rsa2048", "sign",
            "never",
        ])
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let gen1 = dir.file("gen1")
        var r = try await Self.initialise(server, to: [erin, bob], into: gen1, gpg)
        #expect(r.status == 0, "\(r.stderr)")
        for who in ["erin", "bob"] {
            r = try await Keyturn.launch(
                [
                    "verify", "\(gen1)/\(who).asc.key", "--attest", dir.file("\(who).att"), "--transcript",
                    dir.file("\(who).jsonl"),
                ],
                environment: gpg.environment)
            #expect(r.status == 0, "\(r.stderr)")
        }
        r = try await Keyturn.launch(
            ["drill", "--manifest", "\(gen1)/ceremony.json", dir.file("erin.att"), dir.file("bob.att")],
            environment: gpg.environment)
        #expect(r.status == 0 && r.stdoutText.contains("quorum holds: 2 of 2"), "\(r.stdoutText) \(r.stderr)")
        r = try await Keyturn.launch(["transcript", "verify", dir.file("erin.jsonl")], environment: gpg.environment)
        #expect(r.status == 0 && r.stdoutText.contains("signed by \(erin.fingerprint): good"), "\(r.stdoutText)")
    }
}
