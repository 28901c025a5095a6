import Foundation
import KeyturnTestSupport
import Testing

/// The JSON document a `--format json` command printed.
func jsonObject(_ r: ProcessResult) throws -> [String: Any] {
    try #require(
        try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any],
        "stdout: \(r.stdoutText) stderr: \(r.stderr)")
}

/// A node initialised with 3 shares (threshold 2) and unsealed, with its root token and its
/// shares as 0600 hex files; with `legacyCeremonyEndpoints`, its listener serves Vault's
/// unauthenticated rekey and generate-root endpoints (OpenBao >= 2.5 turns them off).
func unsealedNode(
    legacyCeremonyEndpoints: Bool
) async throws -> (OpenBaoServer, [String], String, TemporaryDirectory, (hex: [String], base64: [String])) {
    let server = try await OpenBaoServer.start(
        .init(listenerExtra: legacyCeremonyEndpoints ? OpenBaoServer.Options.legacyCeremonyEndpoints : []))
    let (keys, rootToken) = try await server.initialize(shares: 3, threshold: 2)
    try await server.unseal(with: Array(keys.prefix(2)))
    let dir = try TemporaryDirectory()
    return (server, keys, rootToken, dir, try writeShareFiles(dir, hex: keys))
}

/// Seals a node with the root token (sys/seal), as an operator does before a maintenance.
func sealNode(_ server: OpenBaoServer, token: String) async throws {
    let (status, json) = try await server.call("PUT", "sys/seal", token: token)
    guard status == 204 || status == 200 else { throw HarnessError("sys/seal failed: \(status) \(json)") }
}

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
                "rekey", "start", "-a", server.address, "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)",
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
            ["rekey", "start", "-a", server.address, "--pgp-keys", dave.armouredFile, "--key-threshold", "1"],
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
                "rekey", "start", "-a", server.address, "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)",
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
            "rekey", "start", "-a", server.address, "--pgp-keys", dave.armouredFile, "--key-threshold", "1", "--format",
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

/// SHA-256 of bytes, hex (via sha256sum, independent of keyturn's own).
func sha256Hex(_ bytes: [UInt8]) -> String {
    guard let r = try? Processes.run("/usr/bin/sha256sum", [], stdin: bytes) else { return "" }
    return String(r.stdoutText.prefix(64))
}

@Suite("recovery keys on an auto-unseal node (OpenBao's static seal), and rekey across a raft cluster")
struct RecoveryAndClusterRekeyTests {
    @Test(
        """
        static seal: init with --recovery-pgp-keys writes recovery files and the node unseals itself; rekey \
        --target recovery; generate-root with the new recovery keys; an old one is refused
        """
    )
    func recoveryKeys() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let server = try await OpenBaoServer.start(
            .init(
                listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints, seal: OpenBaoServer.Options.staticSeal()))
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let env = gpg.environment
        let gen1 = dir.file("gen1"), gen2 = dir.file("gen2")
        var r = try await Keyturn.launch(
            [
                "init", "-a", server.address, "--recovery-pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","),
                "--recovery-threshold", "2", "--root-token-pgp-key", bob.armouredFile, "--out-dir", gen1,
                "--timeout", "60",
            ], environment: env)  // a loaded machine: the seal's first keys take time
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("auto-unseal"))
        for f in [
            "alice.asc.recovery.key", "bob.asc.recovery.key", "carol.asc.recovery.key", "root-token.asc",
            "ceremony.json",
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(gen1)/\(f)"), "\(f)")
        }
        #expect(try await server.sealStatus()["recovery_seal"] as? Bool == true)
        try await server.waitUntil(timeout: 120) { try await $0.sealStatus()["sealed"] as? Bool == false }
        let record1 = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(gen1)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record1["target"] as? String == "recovery" && record1["threshold"] as? Int == 2)

        // Rekey of the recovery keys, with Bob's and Carol's recovery files.
        r = try await Keyturn.launch(
            [
                "rekey", "start", "-a", server.address, "--target", "recovery", "--pgp-keys",
                "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--format", "json",
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let started = try jsonObject(r)
        #expect(started["api"] as? String == "sys/rekey-recovery-key/init")
        let nonce = try #require(started["nonce"] as? String)
        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(
                [
                    "rekey", "submit", "-a", server.address, "--target", "recovery", "--nonce", nonce,
                    "\(gen1)/\(who).asc.recovery.key", "--yes",
                    "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)", "--out-dir", gen2,
                ], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let record2 = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(gen2)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record2["target"] as? String == "recovery" && record2["generation"] as? Int == 2)
        #expect((record2["recovery_files"] as? [[String: Any]])?.count == 2)

        // generate-root with recovery keys: the old ones no longer count, the new ones do.
        func generate(_ files: [String], out: String) async throws -> ProcessResult {
            var r = try await Keyturn.launch(
                ["generate-root", "start", "-a", server.address, "--pgp-key", bob.armouredFile, "--format", "json"],
                environment: env)
            let nonce = try #require(try jsonObject(r)["nonce"] as? String)
            for f in files {
                r = try await Keyturn.launch(
                    ["generate-root", "submit", "-a", server.address, "--nonce", nonce, f, "--yes", "--out-dir", out],
                    environment: env)
            }
            return r
        }
        r = try await generate(
            ["\(gen1)/bob.asc.recovery.key", "\(gen1)/carol.asc.recovery.key"], out: dir.file("old"))
        expectOneLineError(r, status: 2, mentioning: "progress is lost")
        r = try await Keyturn.launch(["generate-root", "cancel", "-a", server.address])
        r = try await generate(
            ["\(gen2)/dave.asc.recovery.key", "\(gen2)/erin.asc.recovery.key"], out: dir.file("new"))
        #expect(r.status == 0, "\(r.stderr)")
        let token = try gpg.gpg(["--decrypt", dir.file("new") + "/root-token.asc"]).stdoutText.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(try await GenerateRootTests.tokenWorks(server, token))
    }

    @Test(
        """
        three-node raft cluster: rekey through any node's address; after every node restarts the new shares \
        unseal all three, an old one is refused
        """
    )
    func clusterRekey() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let cluster = try await OpenBaoCluster.start(3, listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints)
        defer { cluster.stop() }
        let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let env = gpg.environment
        // All three addresses, a follower first: the operation runs on the active node.
        let all = [cluster.addresses[2], cluster.addresses[1], cluster.addresses[0]].flatMap { ["-a", $0] }
        var r = try await Keyturn.launch(
            ["rekey", "start"] + all + [
                "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)", "--key-threshold", "2", "--format", "json",
            ], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let started = try jsonObject(r)
        #expect(started["address"] as? String == cluster.addresses[0])
        let nonce = try #require(started["nonce"] as? String)
        let out = dir.file("new")
        for file in [files.hex[1], files.hex[2]] {
            r = try await Keyturn.launch(
                ["rekey", "submit"] + all + [
                    "--nonce", nonce, file, "--yes", "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)",
                    "--out-dir", out,
                ], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for node in cluster.nodes { try await node.restart() }
        let every = cluster.addresses.flatMap { ["-a", $0] }
        // An old share goes to every node; at the threshold the new key refuses it everywhere.
        r = try await Keyturn.launch(["unseal"] + every + [files.hex[0]])
        r = try await Keyturn.launch(["unseal"] + every + ["\(out)/dave.asc.key"], environment: env)
        #expect(r.status == 2 && r.stderr.contains("refused the shares"), "\(r.stderr)")
        // The leader first (followers learn they are initialised from it), then everyone.
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal"] + every + ["\(out)/\(who).asc.key"], environment: env)
        }
        try await cluster.nodes[0].waitUntil(timeout: 120) { try await $0.sealStatus()["sealed"] as? Bool == false }
        for follower in cluster.nodes.dropFirst() {
            try await follower.waitUntil(timeout: 120) { try await $0.sealStatus()["initialized"] as? Bool == true }
        }
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal"] + every + ["\(out)/\(who).asc.key"], environment: env)
        }
        r = try await Keyturn.launch(["status"] + every + ["--wait", "240"])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
    }
}

@Suite("rekey submit on a terminal: what the operator signs off")
struct RekeyConfirmTests {
    /// Runs keyturn with `args` on a pty, answers `answer` to its question, returns the screen.
    static func onTerminal(
        _ args: [String], answer: String, environment: [String: String]
    ) async throws -> ProcessResult {
        let script = """
            import os, pty, signal, sys
            signal.alarm(60)
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(sys.argv[1], sys.argv[1:-1])
            out = b""
            while b"[y/N]" not in out:
                out += os.read(fd, 4096)
            os.write(fd, sys.argv[-1].encode() + b"\\n")
            while True:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        return try await Processes.launch(
            try #require(Processes.which("python3")), ["-c", script, Keyturn.path] + args + [answer],
            environment: cleanEnvironment(environment))
    }

    @Test(
        """
        the operation is shown (new shares, threshold, the new keys' fingerprints, progress) and only 'y' sends \
        the share
        """
    )
    func confirmOnTerminal() async throws {
        let gpg = try TestGPG()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, _, _, dir, files) = try await unsealedNode(legacyCeremonyEndpoints: true)
        defer { server.stop() }
        var r = try await Keyturn.launch(
            [
                "rekey", "start", "-a", server.address, "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--format", "json",
            ], environment: gpg.environment)
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        let submit = [
            "rekey", "submit", "-a", server.address, "--nonce", nonce, files.hex[0], "--out-dir", dir.file("new"),
        ]
        r = try await Self.onTerminal(submit, answer: "n", environment: gpg.environment)
        #expect(r.status == 1, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("new shares: 2, of which 2 unseal"), "\(r.stdoutText)")
        #expect(
            r.stdoutText.lowercased().contains(dave.fingerprint.lowercased())
                && r.stdoutText.lowercased().contains(erin.fingerprint.lowercased()), "\(r.stdoutText)")
        #expect(r.stdoutText.contains("progress: 0 of 2"))
        #expect(r.stdoutText.contains("not confirmed; nothing was sent"))
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
        #expect(try jsonObject(r)["progress"] as? Int == 0)
        r = try await Self.onTerminal(submit, answer: "y", environment: gpg.environment)
        #expect(r.status == 0, "\(r.stdoutText)")
        r = try await Keyturn.launch(["rekey", "status", "-a", server.address, "--format", "json"])
        #expect(try jsonObject(r)["progress"] as? Int == 1)
    }
}
