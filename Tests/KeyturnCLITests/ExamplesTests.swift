import Foundation
import KeyturnTestSupport
import Testing

/// The repository's Examples/ directory.
let examplesDirectory: String = repositoryRoot.appendingPathComponent("Examples").path

/// This test process's environment without VAULT_/BAO_ variables, plus `extra`.
func cleanEnvironment(_ extra: [String: String]) -> [String: String] {
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VAULT_") && !$0.key.hasPrefix("BAO_") }
    env.merge(extra) { $1 }
    return env
}

@Suite("Examples/ run as documented")
struct ExamplesTests {
    @Test("every example script is valid bash")
    func syntax() async throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: examplesDirectory).filter {
            $0.hasSuffix(".sh")
        }
        #expect(scripts.count >= 3)
        for s in scripts {
            let r = try await Processes.launch("/bin/bash", ["-n", "\(examplesDirectory)/\(s)"])
            #expect(r.status == 0, "\(s): \(r.stderr)")
        }
    }

    @Test("ci-smoke.sh: a throwaway node, init --no-pgp, unseal through a pipe, status")
    func ciSmoke() async throws {
        let r = try await Processes.launch(
            "/bin/bash", ["\(examplesDirectory)/ci-smoke.sh"],
            environment: cleanEnvironment(["KEYTURN": Keyturn.path, "BAO": try #require(OpenBaoServer.binary)]))
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.contains("ci smoke test passed"))
    }

    @Test("the GitHub Actions workflow is valid YAML and runs ci-smoke.sh")
    func workflow() async throws {
        let script =
            """
            import sys, yaml; w = yaml.safe_load(open(sys.argv[1])); steps = w['jobs']['smoke']['steps']; \
            print(any('Examples/ci-smoke.sh' in s.get('run', '') for s in steps))
            """
        let r = try await Processes.launch(
            try #require(Processes.which("python3")), ["-c", script, "\(examplesDirectory)/github-actions-smoke.yml"])
        #expect(r.status == 0 && r.stdoutText.hasPrefix("True"), "\(r.stdoutText) \(r.stderr)")
    }

    @Test(
        """
        unseal-after-restart.sh: the first operator leaves the node sealed (exit 2), the second unseals it (0), a \
        third run sees it unsealed
        """
    )
    func unsealRunbook() async throws {
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let (keys, _) = try await server.initialize(shares: 3, threshold: 2)
        let dir = try TemporaryDirectory()
        let env = cleanEnvironment(["KEYTURN": Keyturn.path, "VAULT_ADDR": server.address])
        let script = "\(examplesDirectory)/unseal-after-restart.sh"
        var r = try await Processes.launch(
            "/bin/bash", [script, try dir.write("alice.key", text: keys[0] + "\n"), "1"], environment: env)
        #expect(r.status == 2, "\(r.stdoutText) \(r.stderr)")
        r = try await Processes.launch(
            "/bin/bash", [script, try dir.write("bob.key", text: keys[1] + "\n"), "30"], environment: env)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        r = try await Processes.launch("/bin/bash", [script, dir.file("bob.key")], environment: env)
        #expect(r.status == 0 && r.stdoutText.contains("already unsealed"))
    }

    @Test(
        """
        cert-expiry-check.sh is silent when all is well and reports (exit 2) inside the window; the cron line and \
        the systemd unit run the same check
        """
    )
    func certificateJobs() async throws {
        let dir = try TemporaryDirectory()
        _ = try await Keyturn.launch(["secure", "ca", "--out-dir", dir.path])
        _ = try await Keyturn.launch([
            "secure", "cert", "--ca-dir", dir.path, "--name", "vault", "--ip", "127.0.0.1", "--days", "60",
        ])
        let server = try await OpenBaoServer.start(
            .init(tlsCertFile: dir.file("vault.pem"), tlsKeyFile: dir.file("vault-key.pem")))
        defer { server.stop() }
        let env = cleanEnvironment([
            "KEYTURN": Keyturn.path, "VAULT_ADDR": server.address, "VAULT_CACERT": dir.file("ca.pem"),
        ])
        let script = "\(examplesDirectory)/cert-expiry-check.sh"
        var r = try await Processes.launch("/bin/bash", [script, "30"], environment: env)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stdoutText.isEmpty, "cron mails any output")
        r = try await Processes.launch("/bin/bash", [script, "90"], environment: env)
        #expect(r.status == 2)
        #expect(
            r.stdoutText.contains("certificate check failed") && r.stdoutText.contains("expires in"), "\(r.stdoutText)")

        // The cron line: five time fields, a user, then the script.
        let cron = String(decoding: readBytes("\(examplesDirectory)/cert-expiry-check.cron") ?? [], as: UTF8.self)
        let job = try #require(
            cron.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.contains("=") && !$0.isEmpty })
        let fields = job.split(separator: " ")
        #expect(fields.count >= 7 && fields[6].hasSuffix("cert-expiry-check.sh"), "\(job)")

        // The systemd unit: its ExecStart, with its EnvironmentFile's variables pointed here.
        let unit = String(
            decoding: readBytes("\(examplesDirectory)/systemd/keyturn-cert-check.service") ?? [], as: UTF8.self)
        #expect(unit.contains("[Service]") && unit.contains("EnvironmentFile=/etc/keyturn/keyturn.env"))
        let exec = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        var args = exec.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        #expect(args.first == "/usr/local/bin/keyturn")
        args.removeFirst()
        let envFile = String(decoding: readBytes("\(examplesDirectory)/systemd/keyturn.env") ?? [], as: UTF8.self)
        #expect(envFile.contains("VAULT_ADDR=") && envFile.contains("VAULT_CACERT="))
        r = try await Keyturn.launch(
            args, environment: ["VAULT_ADDR": server.address, "VAULT_CACERT": dir.file("ca.pem")])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
    }
}

@Suite("the keys' life runbooks (Examples/operator-leaves.sh, Examples/new-root-token.sh) against real OpenBao")
struct KeysLifeRunbookTests {
    @Test(
        """
        an operator leaves: start --verify, two submits, two verifies; put the three new shares in force; a new \
        root token comes back to Alice's key
        """
    )
    func runbooks() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let dave = try gpg.makeKey("dave")
        let server = try await OpenBaoServer.start(.init(listenerExtra: OpenBaoServer.Options.legacyCeremonyEndpoints))
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let gen1 = dir.file("gen1"), gen2 = dir.file("gen2")
        var r = try await Keyturn.launch(
            [
                "init", "-a", server.address, "--timeout", "60", "--pgp-keys",
                [alice, bob, carol].map(\.armouredFile).joined(separator: ","),
                "--key-threshold", "2", "--client-side-encryption", "--out-dir", gen1,
            ], environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        for who in ["bob", "carol"] {
            _ = try await Keyturn.launch(
                ["unseal", "-a", server.address, "\(gen1)/\(who).asc.key"], environment: gpg.environment)
        }
        let env = cleanEnvironment(
            ["KEYTURN": Keyturn.path, "VAULT_ADDR": server.address].merging(gpg.environment) { $1 })
        let leaves = "\(examplesDirectory)/operator-leaves.sh", root = "\(examplesDirectory)/new-root-token.sh"
        let newKeys = "\(bob.armouredFile),\(carol.armouredFile),\(dave.armouredFile)"

        r = try await Processes.launch("/bin/bash", [leaves, "start", newKeys, "2"], environment: env)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        let nonce = try #require(
            r.stdoutText.split(separator: "\n").first { $0.hasPrefix("nonce") }?.split(separator: " ").last.map(
                String.init))
        for who in ["bob", "carol"] {
            r = try await Processes.launch(
                "/bin/bash", [leaves, "submit", nonce, "\(gen1)/\(who).asc.key", newKeys, gen2], environment: env)
            #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        }
        let verification = try #require(
            r.stderr.split(separator: " ").first { $0.count == 36 && $0.contains("-") }.map(String.init), "\(r.stderr)")
        for who in ["bob", "dave"] {
            r = try await Processes.launch(
                "/bin/bash", [leaves, "verify", verification, "\(gen2)/\(who).asc.key"], environment: env)
            #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        }
        #expect(try await server.sealStatus()["n"] as? Int == 3)
        #expect(r.stderr.contains("verification complete"))

        r = try await Processes.launch("/bin/bash", [root, "start", alice.armouredFile], environment: env)
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        let grNonce = try #require(
            r.stdoutText.split(separator: "\n").first { $0.hasPrefix("nonce") }?.split(separator: " ").last.map(
                String.init))
        for who in ["carol", "dave"] {
            r = try await Processes.launch(
                "/bin/bash", [root, "submit", grNonce, "\(gen2)/\(who).asc.key", dir.file("token")], environment: env)
            #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        }
        let token = try gpg.gpg([
            "--pinentry-mode", "loopback", "--passphrase", alice.passphrase, "--decrypt",
            dir.file("token") + "/root-token.asc",
        ]).stdoutText
        #expect(try await GenerateRootTests.tokenWorks(server, token.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
