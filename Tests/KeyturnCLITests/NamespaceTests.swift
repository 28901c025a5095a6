import Foundation
import KeyturnTestSupport
import Testing

/// OpenBao's sealable namespaces (2.6+, tried on 2.7.2): each a ceremony of its own, with its
/// own holders, threshold and seal, reached with a token.
@Suite("sealable namespaces: create, status, unseal, seal, rekey, generate-root (real OpenBao 2.7.2)")
struct NamespaceTests {
    @Test(
        """
        one node: namespace create writes the holders' files (record names it); a second create is refused; \
        without a token nothing is sent; a namespace's share is refused for the cluster's unseal; two holders \
        unseal it; a rekey and a generate-root at its own threshold; recovery keys are refused; seal seals it alone
        """
    )
    func oneNode() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave"), erin = try gpg.makeKey("erin")
        let (server, root) = try await unsealedNodeWithToken()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let env = gpg.environment.merging(["VAULT_TOKEN": root]) { $1 }
        let a = ["-a", server.address]
        let ns = ["--namespace", "t1"]
        let gen1 = dir.file("gen1"), gen2 = dir.file("gen2")
        let holders = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")

        var r = try await Keyturn.launch(
            ["namespace", "create", "t1", "--pgp-keys", holders, "--key-threshold", "2", "--out-dir", gen1] + a,
            environment: gpg.environment)
        #expect(r.status == 1 && r.stderr.contains("needs a token"), "\(r.stderr)")
        r = try await Keyturn.launch(
            ["namespace", "create", "t1", "--pgp-keys", holders, "--key-threshold", "2", "--out-dir", gen1] + a,
            environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(gen1)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record["namespace"] as? String == "t1" && record["threshold"] as? Int == 2)
        #expect(fileMode("\(gen1)/bob.asc.key") == 0o600)
        r = try await Keyturn.launch(
            ["namespace", "create", "t1", "--pgp-keys", holders, "--out-dir", dir.file("again")] + a, environment: env)
        #expect(r.status == 2 && r.stderr.contains("exists already"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("again")))

        r = try await Keyturn.launch(["status"] + a + ns, environment: env)
        #expect(r.status == 2 && r.stdoutText.contains("2 of 3"), "\(r.stdoutText)\(r.stderr)")
        r = try await Keyturn.launch(["status"] + a + ns)
        #expect(r.status == 1 && r.stderr.contains("need a token"), "\(r.stderr)")
        // A namespace's share for the cluster's unseal: refused before it is sent.
        r = try await Keyturn.launch(["unseal", "\(gen1)/bob.asc.key"] + a, environment: env)
        #expect(r.status == 1 && r.stderr.contains("records shares of the namespace t1"), "\(r.stderr)")
        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(["unseal", "\(gen1)/\(who).asc.key"] + a + ns, environment: env)
            #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        }
        r = try await Keyturn.launch(["status"] + a + ns, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")

        // A rekey at the namespace's threshold, its record naming the namespace.
        r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "--pgp-keys", "\(dave.armouredFile),\(erin.armouredFile)",
                "--key-threshold", "2", "--out-dir", gen2, "--format", "json",
            ] + a + ns, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let started = try jsonObject(r)
        #expect(started["api"] as? String == "t1/sys/rotate/root/init")
        let nonce = try #require(started["nonce"] as? String)
        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(
                ["rekey", "submit", "--nonce", nonce, "--yes", "--out-dir", gen2, "\(gen1)/\(who).asc.key"] + a + ns,
                environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let record2 = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(gen2)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record2["namespace"] as? String == "t1" && record2["generation"] as? Int == 2)

        // Seal seals the namespace alone; the new holders unseal it.
        r = try await Keyturn.launch(["seal", "--yes"] + a + ns, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == false)
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(["unseal", "\(gen2)/\(who).asc.key"] + a + ns, environment: env)
            #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        }

        r = try await Keyturn.launch(
            ["generate-root", "start", "--pgp-key", bob.armouredFile, "--format", "json"] + a + ns, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let attempt = try #require(try jsonObject(r)["nonce"] as? String)
        for who in ["dave", "erin"] {
            r = try await Keyturn.launch(
                [
                    "generate-root", "submit", "--nonce", attempt, "--yes", "--out-dir", dir.file("root"),
                    "\(gen2)/\(who).asc.key",
                ] + a + ns, environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: dir.file("root/root-token.asc")))

        r = try await Keyturn.launch(
            ["rekey", "start", "--target", "recovery", "--pgp-keys", dave.armouredFile] + a + ns, environment: env)
        #expect(r.status != 0 && r.stderr.contains("no recovery keys"), "\(r.stderr)")
    }

    @Test(
        """
        three nodes: a namespace created on the active node; its holders unseal it on every node (standbys \
        forward to the active one and show it later); seal seals it on every node
        """
    )
    func threeNodes() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let cluster = try await OpenBaoCluster.start(3)
        defer { cluster.stop() }
        _ = try await cluster.initializeAndUnseal()
        let root = try #require(cluster.rootToken)
        let env = gpg.environment.merging(["VAULT_TOKEN": root]) { $1 }
        let all = cluster.addresses.flatMap { ["-a", $0] }
        let ns = ["--namespace", "t1"]
        let dir = try TemporaryDirectory()
        let holders = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")
        var r = try await Keyturn.launch(
            ["namespace", "create", "t1", "-a", cluster.addresses[0], "--pgp-keys", holders, "--out-dir", dir.path],
            environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(["unseal", dir.file("\(who).asc.key")] + all + ns, environment: env)
            #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
            #expect(!r.stderr.contains("restarted"), "\(r.stderr)")  // no node is behind: the active one keeps it
        }
        // doctor before a rekey of it: a standby that still shows it sealed is not a failure.
        r = try await Keyturn.launch(["doctor", "--for", "rekey"] + all + ns, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        r = try await Keyturn.launch(["status", "--wait", "90"] + all + ns, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        r = try await Keyturn.launch(["doctor"] + all + ns, environment: env)
        #expect(r.status == 0 && r.stdoutText.contains("checks for rekey of the namespace t1"), "\(r.stdoutText)")
        #expect(
            r.stdoutText.split(separator: "\n").filter { $0.contains(" namespace ") && $0.contains("unsealed") }.count
                == 3, "\(r.stdoutText)")
        r = try await Keyturn.launch(["seal", "--yes"] + all + ns, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        r = try await Keyturn.launch(["status", "--wait", "30", "--until", "sealed"] + all + ns, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
    }

    @Test(
        """
        a namespace's creation answered with a field of the wrong type (a proxy after the node acted): the whole \
        answer, its shares, on standard output, exit 2, no files; a holder's share from it unseals the namespace
        """
    )
    func unreadableAnswerIsKept() async throws {
        let gpg = try TestGPG()
        let (_, bob, carol) = try gpg.makeOperators()
        let (server, root) = try await unsealedNodeWithToken()
        defer { server.stop() }
        let proxy = try StubServer("mangle-proxy", ["127.0.0.1:\(server.port)", "POST /v1/sys/namespaces/t9"])
        let dir = try TemporaryDirectory()
        let env = gpg.environment.merging(["VAULT_TOKEN": root]) { $1 }
        let r = try await Keyturn.launch(
            [
                "namespace", "create", "t9", "-a", proxy.address, "--pgp-keys",
                "\(bob.armouredFile),\(carol.armouredFile)",
                "--key-threshold", "2", "--out-dir", dir.file("ns"),
            ], environment: env)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("comes only once"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("ns")))
        let answer = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any], "\(r.stdoutText)")
        let shares = try #require((answer["data"] as? [String: Any])?["key_shares"] as? [String])
        #expect(shares.count == 2)
        // The shares, from what was printed: each decrypted with its holder's key, they unseal it.
        for share in shares {
            let message = try #require(Data(hexString: share))
            let hex = try gpg.gpg(["--decrypt"], stdin: [UInt8](message)).stdoutText
            let u = try await Keyturn.launch(
                ["unseal", "-a", server.address, "--namespace", "t9", "-"], stdin: Array(hex.utf8), environment: env)
            #expect(u.status == 0, "\(u.stdoutText)\(u.stderr)")
        }
        let status = try await Keyturn.launch(["status", "-a", server.address, "--namespace", "t9"], environment: env)
        #expect(status.status == 0, "\(status.stdoutText)\(status.stderr)")
    }
}

extension Data {
    /// Bytes from hex text (nil when it is not hex).
    init?(hexString: String) {
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2, limitedBy: hexString.endIndex) ?? hexString.endIndex
            guard let byte = UInt8(hexString[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
