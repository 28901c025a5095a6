import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn init (real gpg, real OpenBao)")
struct InitTests {
    @Test("the ceremony: init -> three 0600 .key files + ceremony.json -> two operators unseal -> status exits 0")
    func ceremony() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let out = dir.file("secrets")

        let r = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", server.address, "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","), "--out-dir", out,
            ], environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        let files = ["alice.asc.key", "bob.asc.key", "carol.asc.key"].map { "\(out)/\($0)" }
        #expect(r.stdoutText.hasPrefix((files + ["\(out)/ceremony.json"]).joined(separator: "\n") + "\n"))
        #expect(
            r.stdoutText.contains("Initial Root Token: s."), "an unencrypted root token goes to the screen, not lost")
        for f in files {
            #expect(fileMode(f) == 0o600)
            #expect(String(decoding: readBytes(f) ?? [], as: UTF8.self).hasPrefix("-----BEGIN PGP MESSAGE-----"))
        }
        #expect(fileMode(out) == 0o700)
        let manifest = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(out)/ceremony.json") ?? [])) as? [String: Any])
        #expect(manifest["shares"] as? Int == 3 && manifest["threshold"] as? Int == 2)
        #expect(manifest["address"] as? String == server.address)
        let records = try #require(manifest["share_files"] as? [[String: Any]])
        #expect(records.map { $0["fingerprint"] as? String } == [alice, bob, carol].map(\.fingerprint))
        #expect((records[0]["user_id"] as? String)?.contains("alice@keyturn.test") == true)
        let sum = try Processes.run("/usr/bin/sha256sum", [files[1]]).stdoutText.split(separator: " ").first.map(
            String.init)
        #expect(records[1]["sha256"] as? String == sum)
        #expect(
            !String(decoding: readBytes("\(out)/ceremony.json") ?? [], as: UTF8.self).contains("root_token\" : \"s."))

        // gpg -d works on a share file too: the plaintext is the hex share.
        let plain = try gpg.gpg(["--decrypt", files[1]]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(plain.count == 66 && plain.allSatisfy(\.isHexDigit))

        let pass = try dir.write("alice.pass", text: "alice secret\n")
        var u = try await Keyturn.launch(
            ["unseal", "-a", server.address, files[0], "--passphrase-file", pass], environment: gpg.environment)
        #expect(u.status == 0, "\(u.stderr)")
        u = try await Keyturn.launch(["unseal", "-a", server.address, files[2]], environment: gpg.environment)
        #expect(u.status == 0, "\(u.stderr)")
        let s = try await Keyturn.launch(["status", "-a", server.address, "--wait", "30"])
        #expect(s.status == 0, "\(s.stdoutText)")

        let again = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", server.address, "--pgp-keys", alice.armouredFile, "--out-dir",
                dir.file("again"),
            ], environment: gpg.environment)
        expectOneLineError(again, status: 2, mentioning: "already initialised")
        #expect(!FileManager.default.fileExists(atPath: dir.file("again")))
    }

    @Test("--no-pgp prints the shares and root token on stdout and writes no file")
    func noPGP() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let r = try await Keyturn.launch([
            "init", "--timeout", "60", "-a", server.address, "--no-pgp", "--key-shares", "3", "--key-threshold", "2",
            "--format", "json", "--out-dir", dir.path,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any])
        #expect((json["keys"] as? [String])?.count == 3)
        #expect(json["root_token"] is String)
        #expect(dir.listing().isEmpty)
        #expect(try await server.sealStatus()["t"] as? Int == 2)
    }

    @Test("bad keys and settings are refused before the server is called, and leave no file")
    func badInput() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let bob = try gpg.makeKey("bob")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let two = try dir.write(
            "two.asc", try gpg.gpg(["--armor", "--export", alice.fingerprint, bob.fingerprint]).stdout)
        let secret = try dir.write(
            "secret.asc",
            try gpg.gpg([
                "--armor", "--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys", alice.fingerprint,
            ]).stdout)
        let garbage = try dir.write("garbage.asc", text: "not a key at all\n")
        let empty = try dir.write("empty.asc", [])
        // Revoked: import the revocation certificate gpg made with the key.
        let mallory = try gpg.makeKey("mallory")
        let rev = String(
            decoding: readBytes("\(gpg.path)/openpgp-revocs.d/\(mallory.fingerprint).rev") ?? [], as: UTF8.self
        )
        .replacingOccurrences(of: ":-----BEGIN", with: "-----BEGIN")
        try gpg.gpg(["--import"], stdin: Array(rev.utf8))
        let revoked = try dir.write("revoked.asc", try gpg.gpg(["--armor", "--export", mallory.fingerprint]).stdout)
        // Expired: made in 2020 with a one-day lifetime.
        try gpg.gpg([
            "--faked-system-time", "20200101T000000", "--pinentry-mode", "loopback", "--passphrase", "",
            "--quick-generate-key", "old <old@keyturn.test>", "rsa2048", "sign,encrypt", "1d",
        ])
        let expired = try dir.write("expired.asc", try gpg.gpg(["--armor", "--export", "old@keyturn.test"]).stdout)
        try FileManager.default.createDirectory(atPath: dir.file("taken"), withIntermediateDirectories: true)
        try dir.write("taken/alice.asc.key", text: "precious")

        let cases: [([String], String)] = [
            (["--pgp-keys", two], "holds 2 keys"),
            (["--pgp-keys", secret], "private key"),
            (["--pgp-keys", garbage], "PGP key"),
            (["--pgp-keys", empty], "not a PGP public key"),
            (["--pgp-keys", revoked], "revoked"),
            (["--pgp-keys", expired], "expired"),
            (["--pgp-keys", "\(alice.armouredFile),\(alice.armouredFile)"], "same key"),
            (["--pgp-keys", "\(alice.armouredFile),\(bob.armouredFile)", "--key-threshold", "3"], "threshold of 3"),
            (["--pgp-keys", "\(alice.armouredFile),\(bob.armouredFile)", "--key-shares", "3"], "--key-shares is 3"),
            (["--pgp-keys", dir.file("missing.asc")], "does not exist"),
            ([], "needs --pgp-keys"),
        ]
        for (args, fragment) in cases {
            let r = try await Keyturn.launch(
                ["init", "--timeout", "60", "-a", server.address, "--out-dir", dir.file("out")] + args,
                environment: gpg.environment)
            expectOneLineError(r, mentioning: fragment)
            #expect(!FileManager.default.fileExists(atPath: dir.file("out")), "after \(fragment)")
        }
        let taken = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", server.address, "--pgp-keys", alice.armouredFile, "--out-dir",
                dir.file("taken"),
            ], environment: gpg.environment)
        expectOneLineError(taken, mentioning: "already exists")
        #expect(readBytes(dir.file("taken/alice.asc.key")) == Array("precious".utf8))
        #expect(try await server.sealStatus()["initialized"] as? Bool == false, "nothing may reach the server")
    }

    @Test("if the files cannot be written after the server answered, the whole answer goes to stdout")
    func writeFailureKeepsTheAnswer() async throws {
        let gpg = try TestGPG()
        let alice = try gpg.makeKey("alice")
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("out"), withIntermediateDirectories: false)
        // The test hook removes the (checked, existing) directory between the server's answer
        // and the first write, so every write fails.
        let r = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", server.address, "--pgp-keys", alice.armouredFile, "--out-dir",
                dir.file("out"),
            ],
            environment: gpg.environment.merging(["KEYTURN_TEST_BEFORE_WRITE": "remove-out-dir"]) { $1 },
            // The hook is compiled into the test build only.
            binary: Keyturn.debugPath)
        #expect(r.status == 1)
        #expect(
            r.stderrLines.first?.contains("the node is initialised but the share files could not be written") == true,
            "\(r.stderr)")
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any], "stdout: \(r.stdoutText)")
        let shares = try #require(json["keys_base64"] as? [String])
        #expect(shares.count == 1)
        #expect(json["root_token"] is String)
        // And the saved answer still unseals: the share decrypts with Alice's key.
        let saved = try dir.write("saved.key", text: shares[0] + "\n")
        let u = try await Keyturn.launch(["unseal", "-a", server.address, saved], environment: gpg.environment)
        #expect(u.status == 0, "\(u.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
    }
}
