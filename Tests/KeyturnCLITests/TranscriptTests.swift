import Foundation
import KeyturnTestSupport
import Testing

@Suite("the ceremony transcript (--transcript)")
struct TranscriptTests {
    @Test(
        """
        every command of a ceremony appends JSON lines with the documented fields to one 0600 file; no form of any \
        share, \
        OTP or token is in it
        """
    )
    func ceremonyTranscript() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start(.init(listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints))
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let log = dir.file("ceremony.log")
        let env = gpg.environment
        let keys = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")
        let t = ["--transcript", log]
        func run(_ args: [String], stdin: [UInt8]? = nil) async throws -> ProcessResult {
            try await Keyturn.launch(args + t, stdin: stdin, environment: env)
        }
        var r = try await run([
            "init", "-a", server.address, "--timeout", "60", "--pgp-keys", keys, "--key-threshold", "2",
            "--client-side-encryption", "--out-dir", dir.file("gen1"),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try FileManager.default.attributesOfItem(atPath: log)[.posixPermissions] as? Int == 0o600)
        r = try await run(["verify", dir.file("gen1/bob.asc.key")])
        #expect(r.status == 0, "\(r.stderr)")
        r = try await run(["status", "-a", server.address])
        for who in ["bob", "carol"] {
            r = try await run(["unseal", "-a", server.address, dir.file("gen1/\(who).asc.key")])
            #expect(r.status == 0, "\(r.stderr)")
        }
        // A failure is recorded too.
        r = try await run(["unseal", "-a", server.address, dir.file("no-such.key")])
        #expect(r.status == 1)
        r = try await run([
            "generate-root", "start", "-a", server.address, "--out-dir", dir.file("gr"), "--format", "json",
        ])
        let nonce = try #require(try jsonObject(r)["nonce"] as? String)
        for who in ["bob", "carol"] {
            r = try await run([
                "generate-root", "submit", "-a", server.address, "--nonce", nonce, dir.file("gen1/\(who).asc.key"),
                "--yes", "--out-dir", dir.file("gr"),
            ])
            #expect(r.status == 0, "\(r.stderr)")
        }
        r = try await run([
            "generate-root", "decode", "--otp-file", dir.file("gr/generate-root.otp"),
            dir.file("gr/generate-root.encoded"),
        ])
        let token = r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.hasPrefix("s."))
        r = try await run(
            ["split", "--threshold", "2", "--shares", "3", "--no-pgp", "--out-dir", dir.file("split"), "-"],
            stdin: Array(token.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        r = try await run(["combine", dir.file("split/share-1.share"), dir.file("split/share-3.share")])
        #expect(r.stdoutText == token)

        let text = String(decoding: readBytes(log) ?? [], as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count >= 12, "\(text)")
        var commands = Set<String>()
        for line in lines {
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            #expect(obj["prev"] is String, "prev missing in \(line)")
            // Each command's lines end with a closing line (TranscriptSignatureTests checks them).
            if obj["close"] != nil {
                #expect(obj["line_sha256"] is [String], "\(line)")
                continue
            }
            for field in ["time", "version", "command", "result"] {
                #expect(obj[field] is String, "\(field) missing in \(line)")
            }
            commands.insert(obj["command"] as? String ?? "")
        }
        #expect(
            commands.isSuperset(of: [
                "init", "verify", "status", "unseal", "generate-root start", "generate-root submit",
                "generate-root decode", "split", "combine",
            ]), "\(commands)")
        let unseal = lines.first { $0.contains("\"command\":\"unseal\"") && $0.contains("accepted") } ?? ""
        #expect(
            unseal.contains(server.address) && unseal.contains("\"progress\":\"1/2\"")
                && unseal.contains("\"share_file_sha256\""), "\(unseal)")
        #expect(
            unseal.contains("\"key_fingerprint\":\"\(bob.fingerprint)\"") || unseal.contains(carol.fingerprint),
            "\(unseal)")
        #expect(
            lines.contains { $0.contains("\"result\":\"failed\"") && $0.contains(#"no-such.key\" does not exist"#) })

        // No form of any secret: the shares (decrypted from their files), the OTP, both tokens.
        var secrets = [
            token,
            String(decoding: readBytes(dir.file("gr/generate-root.otp")) ?? [], as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines),
        ]
        for who in ["bob", "carol"] { secrets += try shareForms(gpg, dir.file("gen1/\(who).asc.key")) }
        for split in ["share-1.share", "share-2.share", "share-3.share"] {
            // The share's line (the check line after it holds no secret).
            secrets.append(
                String(decoding: readBytes(dir.file("split/\(split)")) ?? [], as: UTF8.self).split(separator: "\n")
                    .map(String.init)[0])
        }
        for s in secrets where s.count >= 16 { #expect(!text.contains(s), "a secret is in the transcript") }

        // A transcript others can read is refused before anything happens.
        let loose = try dir.write("loose.log", text: "", mode: 0o644)
        r = try await Keyturn.launch(["status", "-a", server.address, "--transcript", loose])
        expectOneLineError(r, mentioning: "readable by group or others")
    }
}

@Suite("seal migration on a three-node raft cluster (OpenBao's static seal standing in for a KMS)")
struct SealMigrationTests {
    @Test(
        """
        Shamir -> static with unseal --migrate on every node (status shows migration); a restart then unseals by \
        itself; static -> Shamir; the shares unseal it again
        """
    )
    func migrateBothWays() async throws {
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        let keys = try await cluster.initializeAndUnseal(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let files = try writeShareFiles(dir, hex: keys)
        let all = cluster.addresses.flatMap { ["-a", $0] }
        let sealKey = OpenBaoServer.Options.newStaticSealKey()

        func migrate(to seal: String?) async throws {
            // Followers first, the leader last.
            for node in cluster.nodes.reversed() { try await node.restart(seal: seal) }
            var r = try await Keyturn.launch(["status"] + all + ["--format", "json"])
            #expect(r.status == 2)
            for node in try statusNodes(r) { #expect(node["migration"] as? Bool == true, "\(node)") }
            r = try await Keyturn.launch(["status"] + all)
            #expect(r.stdoutText.contains("true, migration"), "\(r.stdoutText)")
            async let a = Keyturn.launch(["unseal", "--migrate", "--wait", "300"] + all + [files.hex[0]])
            async let b = Keyturn.launch(["unseal", "--migrate", "--wait", "300"] + all + [files.hex[1]])
            let (ra, rb) = try await (a, b)
            // Each holder's report may call a node "behind" (exit 2) when, on a loaded machine,
            // followers seal again during the migration and the other holder's share starts a new
            // attempt there (a known false "behind", issue 26's note); what counts is that every
            // node ends unsealed, below. Any other failure still fails.
            for r in [ra, rb] {
                #expect(
                    r.status == 0 || (r.status == 2 && r.stdoutText.contains("behind")), "\(r.stdoutText) \(r.stderr)")
            }
            r = try await Keyturn.launch(["status", "--wait", "240"] + all)
            #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        }

        try await migrate(to: OpenBaoServer.Options.staticSeal(key: sealKey))
        var r = try await Keyturn.launch(["status"] + all + ["--format", "json"])
        for node in try statusNodes(r) {
            #expect(node["type"] as? String == "static" && node["migration"] as? Bool == false, "\(node)")
        }
        // Auto-unseal now: a restart needs no operator.
        for node in cluster.nodes { try await node.restart() }
        r = try await Keyturn.launch(["status", "--wait", "240"] + all)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")

        // Back to Shamir: the seal stanza marked disabled, the shares (recovery keys meanwhile) migrate it.
        try await migrate(to: OpenBaoServer.Options.staticSeal(key: sealKey, disabled: true))
        for node in cluster.nodes.reversed() { try await node.restart(seal: nil) }
        r = try await Keyturn.launch(["status"] + all + ["--format", "json"])
        for node in try statusNodes(r) {
            #expect(node["type"] as? String == "shamir" && node["sealed"] as? Bool == true, "\(node)")
        }
        async let a = Keyturn.launch(["unseal", "--wait", "300"] + all + [files.hex[0]])
        async let b = Keyturn.launch(["unseal", "--wait", "300"] + all + [files.hex[2]])
        let (ra, rb) = try await (a, b)
        #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr) \(rb.stderr)")
        r = try await Keyturn.launch(["status", "--wait", "240"] + all)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
    }
}
