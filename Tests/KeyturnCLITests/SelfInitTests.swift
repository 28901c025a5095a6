import Foundation
import KeyturnTestSupport
import Testing

/// A cluster that never had an init ceremony: OpenBao >= 2.4's `initialize` stanza behind a
/// static seal. It comes up initialised and unsealed with no recovery keys (seal-status
/// `recovery_seal`, `t` = `n` = 0); the start of a recovery rekey completes at once there and
/// its answer holds the first recovery keys (OpenBao 2.7.2), an answer that comes only once.
@Suite("a self-initialised OpenBao (initialize stanza, no recovery keys)")
struct SelfInitTests {
    static let token = "keyturn-test-operator"

    /// A self-initialising node, once its operator token works.
    static func start() async throws -> OpenBaoServer {
        let server = try await OpenBaoServer.start(.init(seal: OpenBaoServer.Options.selfInitialising(token: token)))
        do {
            try await server.waitUntil(timeout: 60) {
                try await $0.call("GET", "auth/token/lookup-self", token: token).0 == 200
            }
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    @Test(
        """
        status says it has no recovery keys; init is refused with a hint; a file in the way refuses the recovery \
        rekey before anything is sent; rekey start --target recovery writes the first recovery keys from its one \
        answer (generation 1), and two holders' verification puts them in force
        """
    )
    func firstRecoveryKeys() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await Self.start()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let env = gpg.environment.merging(["VAULT_TOKEN": Self.token]) { $1 }

        var r = try await Keyturn.launch(["status", "-a", server.address], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdoutText.contains("no keys"), "\(r.stdoutText)")
        #expect(r.stderr.contains("has no recovery keys"), "\(r.stderr)")
        r = try await Keyturn.launch(["status", "-a", server.address, "--format", "json"], environment: env)
        let node = try #require((try jsonObject(r)["nodes"] as? [[String: Any]])?.first)
        #expect(node["recovery_keys"] as? Bool == false)

        r = try await Keyturn.launch(
            ["init", "-a", server.address, "--recovery-pgp-keys", alice.armouredFile, "--out-dir", dir.file("init")],
            environment: env)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("it initialised itself"), "\(r.stderr)")
        #expect(r.stderr.contains("rekey start --target recovery"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("init")))

        let keys = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")
        let out = dir.file("gen1")
        let start = [
            "rekey", "start", "-a", server.address, "--target", "recovery", "--pgp-keys", keys, "--key-threshold", "2",
            "--out-dir", out,
        ]
        // A file in the way: refused before the one-shot start is sent.
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = try dir.write("gen1/bob.asc.recovery.key", text: "an older file\n")
        r = try await Keyturn.launch(start, environment: env)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("bob.asc.recovery.key"), "\(r.stderr)")
        var status = try await server.sealStatus()
        #expect(status["t"] as? Int == 0)
        let running = try await server.call("GET", "sys/rotate/recovery/init", token: Self.token).1
        #expect((running["data"] as? [String: Any])?["started"] as? Bool == false, "\(running)")
        try FileManager.default.removeItem(atPath: dir.file("gen1/bob.asc.recovery.key"))

        r = try await Keyturn.launch(start, environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        for f in ["alice.asc.recovery.key", "bob.asc.recovery.key", "carol.asc.recovery.key", "ceremony.json"] {
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(f)"), "\(f)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(out)/rekey-plan.json"))
        let record = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes("\(out)/ceremony.json") ?? [])) as? [String: Any])
        #expect(record["generation"] as? Int == 1 && record["target"] as? String == "recovery")
        #expect(record["previous_sha256"] == nil)
        #expect(!r.stderr.contains("no previous ceremony.json"), "\(r.stderr)")
        #expect(r.stderr.contains("rekey verify --target recovery"), "\(r.stderr)")
        let nonce = try #require(
            r.stderr.components(separatedBy: "--nonce ").dropFirst().first?.split(separator: " ").first.map(String.init)
        )

        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(
                [
                    "rekey", "verify", "-a", server.address, "--target", "recovery", "--nonce", nonce,
                    "\(out)/\(who).asc.recovery.key",
                ], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(r.stderr.contains("new recovery keys are in force"), "\(r.stderr)")
        status = try await server.sealStatus()
        #expect(status["t"] as? Int == 2 && status["n"] as? Int == 3, "\(status)")
        r = try await Keyturn.launch(["status", "-a", server.address], environment: env)
        #expect(r.stdoutText.contains("2 of 3") && !r.stderr.contains("no recovery keys"), "\(r.stdoutText)\(r.stderr)")
    }

    @Test(
        """
        the start that gives the first recovery keys answered with a field of the wrong type (a proxy after the node \
        acted): the whole answer, with the keys, on standard output, exit 2
        """
    )
    func unreadableFirstKeys() async throws {
        let gpg = try TestGPG()
        let (_, bob, carol) = try gpg.makeOperators()
        let server = try await Self.start()
        defer { server.stop() }
        let proxy = try StubServer("mangle-proxy", ["127.0.0.1:\(server.port)", "PUT /v1/sys/rotate/recovery/init"])
        let dir = try TemporaryDirectory()
        let r = try await Keyturn.launch(
            [
                "rekey", "start", "--no-verify", "-a", proxy.address, "--target", "recovery", "--pgp-keys",
                "\(bob.armouredFile),\(carol.armouredFile)", "--key-threshold", "2", "--out-dir", dir.file("gen1"),
            ], environment: gpg.environment.merging(["VAULT_TOKEN": Self.token]) { $1 })
        #expect(r.status == 2 && r.stderr.contains("comes only once"), "\(r.stderr)")
        let answer = try #require(
            try JSONSerialization.jsonObject(with: Data(r.stdout)) as? [String: Any], "\(r.stdoutText)")
        #expect(((answer["data"] as? [String: Any])?["keys_base64"] as? [String])?.count == 2, "\(answer)")
        #expect(try await server.sealStatus()["n"] as? Int == 2)  // in force: the printed answer is their only copy
    }

    @Test(
        """
        the start that gives the first recovery keys, its answer cut after the node acted: with --no-verify keyturn \
        says the keys are in force and no one holds them; verified, that they await a verification no one can give, \
        and how to start again (which then works); the request dropped before the node saw it, that the start did \
        not take effect; exit 2, no files in each case
        """
    )
    func firstKeysAnswerCut() async throws {
        let gpg = try TestGPG()
        let (_, bob, carol) = try gpg.makeOperators()
        let keys = "\(bob.armouredFile),\(carol.armouredFile)"
        let env = gpg.environment.merging(["VAULT_TOKEN": Self.token]) { $1 }
        let dir = try TemporaryDirectory()
        for (mode, verify) in [("cut-proxy", false), ("cut-proxy", true), ("drop-proxy", true)] {
            let server = try await Self.start()
            defer { server.stop() }
            let proxy = try StubServer(mode, ["127.0.0.1:\(server.port)", "PUT /v1/sys/rotate/recovery/init"])
            let out = dir.file("gen-\(mode)-\(verify)")
            let start = [
                "rekey", "start", "--target", "recovery", "--pgp-keys", keys, "--key-threshold", "2", "--out-dir", out,
            ]
            var r = try await Keyturn.launch(
                start + ["-a", proxy.address] + (verify ? [] : ["--no-verify"]), environment: env)
            #expect(r.status == 2, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out), "\(r.stderr)")
            if !verify {
                #expect(
                    r.stderr.contains("the first recovery keys are now in force")
                        && r.stderr.contains("no one holds them"), "\(r.stderr)")
                #expect(try await server.sealStatus()["n"] as? Int == 2)
                continue
            }
            if mode == "drop-proxy" {
                #expect(r.stderr.contains("so the start did not take effect"), "\(r.stderr)")
                #expect(r.stderr.contains("hint: run the same keyturn rekey start again"), "\(r.stderr)")
            } else {
                #expect(r.stderr.contains("await a verification that no one can give"), "\(r.stderr)")
                #expect(r.stderr.contains("keyturn rekey cancel --target recovery"), "\(r.stderr)")
                r = try await Keyturn.launch(
                    ["rekey", "cancel", "--target", "recovery", "-a", server.address], environment: env)
                #expect(r.status == 0, "\(r.stderr)")
            }
            r = try await Keyturn.launch(start + ["-a", server.address], environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(FileManager.default.fileExists(atPath: "\(out)/bob.asc.recovery.key"), "\(r.stderr)")
        }
    }
}
