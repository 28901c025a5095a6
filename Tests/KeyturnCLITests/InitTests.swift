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

@Suite("the whole ceremony on a three-node raft cluster")
struct ClusterCeremonyTests {
    @Test(
        """
        init on the leader; two operators (one with a passphrase) unseal the leader, then, once the followers \
        know they are initialised, the followers; status --wait exits 0
        """
    )
    func ceremony() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let dir = try TemporaryDirectory()
        let out = dir.file("secrets")
        let i = try await Keyturn.launch(
            [
                "init", "--timeout", "60", "-a", cluster.addresses[0], "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","), "--out-dir", out,
            ], environment: gpg.environment)
        #expect(i.status == 0, "\(i.stderr)")
        for f in ["alice.asc.key", "bob.asc.key", "carol.asc.key"] { #expect(fileMode("\(out)/\(f)") == 0o600) }
        #expect(FileManager.default.fileExists(atPath: "\(out)/ceremony.json"))
        let pass = try dir.write("alice.pass", text: "alice secret\n")
        let all = cluster.addresses.flatMap { ["-a", $0] }
        func turn(_ file: String, _ extra: [String] = []) async throws -> ProcessResult {
            try await Keyturn.launch(
                ["unseal", "--format", "json", "--timeout", "30"] + all + ["\(out)/\(file)"] + extra,
                environment: gpg.environment)
        }

        // First pass: the leader takes both shares; new followers do not know yet that the
        // cluster is initialised, and say so.
        var r = try await turn("alice.asc.key", ["--passphrase-file", pass])
        var nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "accepted", "\(r.stdoutText)")
        // Each follower either took the share or is not initialised yet (it has not found its
        // leader), and the exit code says whether every node took it.
        for follower in nodes.dropFirst() {
            let took = follower["result"] as? String == "accepted"
            #expect(took || (follower["error"] as? String)?.contains("is not initialised") == true, "\(follower)")
        }
        let everyNodeTook = nodes.allSatisfy { $0["result"] as? String == "accepted" }
        #expect(r.status == (everyNodeTook ? 0 : 2), "\(r.stdoutText)")
        r = try await turn("carol.asc.key")
        nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "unsealed", "\(r.stdoutText)")

        // Once the followers have found their leader, the same two operators turn their keys again.
        for follower in cluster.nodes.dropFirst() {
            try await follower.waitUntil(timeout: 60) { try await $0.sealStatus()["initialized"] as? Bool == true }
        }
        r = try await turn("alice.asc.key", ["--passphrase-file", pass])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        r = try await turn("carol.asc.key")
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        nodes = try statusNodes(r)
        #expect(nodes[0]["result"] as? String == "already unsealed")
        #expect(
            nodes.dropFirst().allSatisfy {
                ["unsealed", "joining", "already unsealed"].contains($0["result"] as? String ?? "")
            }, "\(r.stdoutText)")

        let s = try await Keyturn.launch(["status", "--wait", "90"] + all)
        #expect(s.status == 0, "\(s.stdoutText) \(s.stderr)")
        #expect(s.stdoutText.contains("active") && s.stdoutText.contains("standby"))
    }
}
