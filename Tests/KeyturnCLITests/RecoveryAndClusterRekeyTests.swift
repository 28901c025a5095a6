import Foundation
import KeyturnTestSupport
import Testing

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
        --target recovery --backup, the kept shares retrieved and deleted; generate-root with the new recovery keys; \
        an old one is refused
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
                "rekey", "start", "--no-verify", "-a", server.address, "--target", "recovery", "--pgp-keys",
                "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--format", "json", "--backup",
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

        // The server kept the new recovery shares (Vault's sys/rekey/recovery-key-backup): they
        // decrypt to what the completing submit wrote; once deleted, there is nothing to retrieve.
        let rootToken = try gpg.gpg(["--decrypt", "\(gen1)/root-token.asc"]).stdoutText.trimmingCharacters(
            in: .whitespacesAndNewlines)
        var tokenEnv = env
        tokenEnv["VAULT_TOKEN"] = rootToken
        let kept = dir.file("kept")
        r = try await Keyturn.launch(
            ["rekey", "backup", "retrieve", "-a", server.address, "--target", "recovery", "--out-dir", kept],
            environment: tokenEnv)
        #expect(r.status == 0, "\(r.stderr)")
        func decrypted(_ dir: String) throws -> Set<String> {
            let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
                $0.hasSuffix(".recovery.key")
            }
            return Set(try files.map { try gpg.gpg(["--decrypt", "\(dir)/\($0)"]).stdoutText })
        }
        #expect(try decrypted(kept).count == 2 && decrypted(kept) == decrypted(gen2))
        r = try await Keyturn.launch(
            ["rekey", "backup", "delete", "-a", server.address, "--target", "recovery"], environment: tokenEnv)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(
            [
                "rekey", "backup", "retrieve", "-a", server.address, "--target", "recovery", "--out-dir",
                dir.file("none"),
            ],
            environment: tokenEnv)
        #expect(r.status == 2, "\(r.stderr)")

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
            ["rekey", "start", "--no-verify"] + all + [
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
        // Not one with the x-coordinate (the last byte) of Dave's new share: OpenBao would refuse
        // that pair as a duplicate part instead (x-coordinates are random: 1 run in 255).
        let daveShare = try gpg.gpg(["--decrypt", "\(out)/dave.asc.key"]).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let old = try #require(keys.indices.first { keys[$0].suffix(2) != daveShare.suffix(2) })
        r = try await Keyturn.launch(["unseal"] + every + [files.hex[old]])
        r = try await Keyturn.launch(["unseal"] + every + ["\(out)/dave.asc.key"], environment: env)
        #expect(r.status == 2 && r.stderr.contains("refused the shares"), "\(r.stderr)")
        // The leader first (followers learn they are initialised from it), then everyone.
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal"] + every + ["\(out)/\(who).asc.key"], environment: env)
        }
        try await cluster.nodes[0].waitUntil(timeout: 120) { try await $0.sealStatus()["sealed"] as? Bool == false }
        for follower in cluster.nodes.dropFirst() {
            try await follower.waitUntilJoined(leader: cluster.nodes[0].address)
        }
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal"] + every + ["\(out)/\(who).asc.key"], environment: env)
        }
        r = try await Keyturn.launch(["status"] + every + ["--wait", "240"])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
    }
}
