import Foundation
import KeyturnTestSupport
import Testing

/// RekeyTests, continued: a verified rekey, and cancel, a wrong share and an unreachable node.
extension RekeyTests {
    @Test(
        """
        --verify: the old shares stay in force until a threshold of new holders verified; then only the new ones \
        unseal
        """
    )
    func verifiedRekey() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, _, rootToken, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        let env = gpg.environment
        let newKeys = ["--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)"]

        // A verified rekey that is completed, then the node is sealed before anyone verified:
        // the old shares still unseal it (and the server drops the unverified rekey).
        func completedRekey(_ out: String) async throws -> String {
            var r = try await Keyturn.launch(
                ["rekey", "start", "-a", server.address, "--verify", "--key-threshold", "2", "--format", "json"]
                    + newKeys, environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            let nonce = try #require(try jsonObject(r)["nonce"] as? String)
            for file in files.hex.prefix(2) {
                r = try await Keyturn.launch(
                    ["rekey", "submit", "-a", server.address, "--nonce", nonce, file, "--yes", "--out-dir", out]
                        + newKeys, environment: env)
                #expect(r.status == 0, "\(r.stderr)")
            }
            #expect(r.stderr.contains("keyturn rekey verify --nonce"))
            r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
            return try #require(try jsonObject(r)["verification_nonce"] as? String)
        }
        _ = try await completedRekey(dir.file("unverified"))
        #expect(try await server.sealStatus()["n"] as? Int == 3, "the old keys are in force until verification")
        try await sealNode(server, token: rootToken)
        var r = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[0]])
        r = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[1]])
        #expect(r.status == 0 && r.stdoutText.contains("unsealed"), "\(r.stdoutText) \(r.stderr)")

        let out = dir.file("verified")
        let verification = try await completedRekey(out)
        r = try await Keyturn.launch(
            ["rekey", "verify", "-a", server.address, "--nonce", "wrong", "\(out)/dave.asc.key"], environment: env)
        expectOneLineError(r, status: 2, mentioning: "not wrong")
        r = try await Keyturn.launch(
            ["rekey", "verify", "-a", server.address, "--nonce", verification, "\(out)/dave.asc.key"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try await server.sealStatus()["n"] as? Int == 3)
        r = try await Keyturn.launch(
            ["rekey", "verify", "-a", server.address, "--nonce", verification, "\(out)/erin.asc.key"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("verification complete"))
        #expect(try await server.sealStatus()["n"] as? Int == 2)

        try await sealNode(server, token: rootToken)
        r = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[0]])
        r = try await Keyturn.launch(["unseal", "-a", server.address, files.hex[1]])
        #expect(r.status == 2 && r.stderr.contains("refused the shares"), "\(r.stderr)")
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal", "-a", server.address, "\(out)/\(who).asc.key"], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
    }

    @Test(
        """
        cancel mid-way discards the progress; a wrong share at the threshold says the progress is lost; an \
        unreachable node exits 2
        """
    )
    func cancelWrongShareUnreachable() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave")
        let (server, _, _, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        // A well-formed share of another key: 33 bytes, so only the server can tell.
        let stranger = try dir.write("stranger.key", text: String(repeating: "ab", count: 33) + "\n")
        let env = gpg.environment
        let start = [
            "rekey", "start", "--no-verify", "-a", server.address, "--pgp-keys", dave.armouredFile, "--key-threshold",
            "1", "--format",
            "json",
        ]

        var r = try await Keyturn.launch(start, environment: env)
        var nonce = try #require(try jsonObject(r)["nonce"] as? String)
        r = try await Keyturn.launch(
            [
                "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[0], "--yes", "--out-dir",
                dir.file("a"),
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(["rekey", "cancel", "-a", server.address])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(
            [
                "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[1], "--yes", "--out-dir",
                dir.file("a"),
            ], environment: env)
        expectOneLineError(r, status: 2, mentioning: "no rekey is running")

        r = try await Keyturn.launch(start, environment: env)
        nonce = try #require(try jsonObject(r)["nonce"] as? String)
        r = try await Keyturn.launch(
            [
                "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[0], "--yes", "--out-dir",
                dir.file("b"),
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(
            ["rekey", "submit", "-a", server.address, "--nonce", nonce, stranger, "--yes", "--out-dir", dir.file("b")],
            environment: env)
        expectOneLineError(r, status: 2, mentioning: "progress is lost")
        #expect(
            !FileManager.default.fileExists(atPath: dir.file("b")),
            "no file and no directory after a failed completing submit")

        r = try await Keyturn.launch(["rekey", "status", "-a", "http://127.0.0.1:\(try freeLoopbackPort())"])
        expectOneLineError(r, status: 2, mentioning: "unreachable")
    }
}
