import Foundation
import KeyturnTestSupport
import Testing

/// `keyturn doctor` and a holder whose key is on a token (SoftHSM2 behind gnupg-pkcs11-scd as
/// gpg-agent's scdaemon, standing in for a YubiKey): the token plugged in, and unplugged.
@Suite("doctor: a token-held key's card (SoftHSM2, real gpg-agent, real OpenBao)")
struct DoctorTokenTests {
    func lines(_ r: ProcessResult, _ level: String) -> [String] {
        r.stdoutText.split(separator: "\n").map(String.init).filter { $0.hasPrefix(level + " ") }
    }

    @Test(
        """
        before an unseal: the token that holds a holder's key plugged in is an ok line; unplugged, a fail line with \
        a hint for the key given with --pgp-keys (exit 1, a local problem) and a warning for a key of the keyring \
        not given; the PIN is never asked for; the node is unchanged
        """,
        .enabled(if: SoftToken.available, "needs softhsm2, gnupg-pkcs11-scd and opensc (Scripts/test installs them)"))
    func tokenPlugged() async throws {
        let gpg = try TestGPG()
        let token = try SoftToken(gpg: gpg)
        let env = token.environment
        let (server, root) = try await unsealedNodeWithToken()
        defer { server.stop() }
        try await sealNode(server, token: root)
        let logins = try token.countLogins()
        let doctor = ["doctor", "-a", server.address, "--for", "unseal"]

        var r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "ok").contains { $0.contains(" token ") && $0.contains("\(token.key.fingerprint) is plugged in") },
            "\(r.stdoutText)")

        try token.remove()
        r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(r.status == 1, "\(r.stdoutText)\(r.stderr)")
        let fails = lines(r, "fail")
        #expect(fails.count == 1, "\(r.stdoutText)")
        #expect(
            fails.contains { $0.contains("tina <tina@keyturn.test>") && $0.contains("is not plugged in") },
            "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: plug in the YubiKey or smartcard that holds it"), "\(r.stdoutText)")

        // Not given: a key of this keyring that a share here may not be encrypted to.
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "warn").contains { $0.contains(" token ") && $0.contains("not plugged in") }, "\(r.stdoutText)")

        // Before init nobody decrypts here: no token line.
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--for", "init", "--pgp-keys", token.key.armouredFile], environment: env)
        #expect(!r.stdoutText.contains(" token "), "\(r.stdoutText)")
        try token.insert()
        let tried = String(decoding: readBytes(logins) ?? [], as: UTF8.self).split(separator: "\n").count
        #expect(tried == 0, "doctor logged in to the token \(tried) times")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }
}

/// `keyturn doctor` and the gpg-agent that is running: the one gpg starts, and one of another
/// version left running across an upgrade (a stub on the agent's socket: no old agent is
/// installed here).
@Suite("doctor: the running gpg-agent's version (real gpg; a stub stands in for an old agent)")
struct DoctorAgentTests {
    @Test(
        """
        the agent gpg starts is an ok line with its version; an agent of another version on the socket is a warning \
        with the restart hint
        """
    )
    func agentVersion() async throws {
        let gpg = try TestGPG()
        let env = gpg.environment
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let version = try gpg.gpg(["--version"]).stdoutText.split(separator: "\n").first?.split(separator: " ").last
        let tools = ["gpgconf", "gpg-connect-agent"].map { Processes.which($0) ?? "/usr/bin/\($0)" }
        _ = try Processes.run(tools[1], ["/bye"], environment: env)
        var r = try await Keyturn.launch(["doctor", "-a", dead, "--for", "unseal"], environment: env)
        let agentLine = { (r: ProcessResult) in r.stdoutText.split(separator: "\n").first { $0.contains(" gpg-agent ") }
        }
        #expect(agentLine(r)?.hasPrefix("ok ") == true, "\(r.stdoutText)")
        #expect(agentLine(r)?.contains("gpg-agent \(version ?? "?") running") == true, "\(r.stdoutText)")

        _ = try Processes.run(tools[0], ["--kill", "gpg-agent"], environment: env)
        let socket = try Processes.run(tools[0], ["--list-dirs", "agent-socket"], environment: env).stdoutText
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let old = try StubServer("old-agent", [socket, "2.1.11"])
        r = try await Keyturn.launch(["doctor", "-a", dead, "--for", "unseal"], environment: env)
        #expect(agentLine(r)?.hasPrefix("warn ") == true, "\(r.stdoutText)")
        #expect(
            agentLine(r)?.contains("gpg-agent 2.1.11 is running, gpg is \(version ?? "?")") == true, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: restart it (gpgconf --kill gpg-agent)"), "\(r.stdoutText)")
        withExtendedLifetime(old) {}
    }
}

/// `keyturn doctor --namespace`: a sealable namespace's own seal on the node and the token's
/// capabilities on its paths, each made to fail for real; doctor changes nothing.
@Suite("doctor --namespace: a sealable namespace's ceremony (real OpenBao 2.7.2)")
struct DoctorNamespaceTests {
    func lines(_ r: ProcessResult, _ level: String) -> [String] {
        r.stdoutText.split(separator: "\n").map(String.init).filter { $0.hasPrefix(level + " ") }
    }

    @Test(
        """
        before the namespace exists: ready to be created (exit 0), and an unseal of it fails with the create hint; \
        created and sealed: an unseal passes, a rekey fails with the unseal hint, a create fails; a token without \
        update on its unseal path fails; unsealed: its own rotate API and the token's capabilities on it pass; the \
        cluster sealed fails; without a token nothing is sent
        """
    )
    func namespace() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let (server, root) = try await unsealedNodeWithToken()
        defer { server.stop() }
        let dir = try TemporaryDirectory()
        let env = gpg.environment.merging(["VAULT_TOKEN": root]) { $1 }
        let doctor = ["doctor", "-a", server.address, "--namespace", "t1"]
        let ns = ["-a", server.address, "--namespace", "t1"]

        var r = try await Keyturn.launch(doctor, environment: gpg.environment)
        #expect(r.status == 1 && r.stderr.contains("needs a token; nothing was sent"), "\(r.stderr)")
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(r.stdoutText.contains("checks for init of the namespace t1"), "\(r.stdoutText)")
        #expect(lines(r, "ok").contains { $0.contains("t1 does not exist yet") }, "\(r.stdoutText)")
        #expect(lines(r, "ok").contains { $0.contains("allowed on sys/namespaces/t1") }, "\(r.stdoutText)")
        r = try await Keyturn.launch(doctor + ["--for", "unseal"], environment: env)
        #expect(r.status == 2 && lines(r, "fail").contains { $0.contains("t1 does not exist") }, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: keyturn namespace create t1"), "\(r.stdoutText)")

        let holders = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")
        r = try await Keyturn.launch(
            ["namespace", "create", "t1", "--pgp-keys", holders, "--key-threshold", "2", "--out-dir", dir.path]
                + ns
                .prefix(2), environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(r.stdoutText.contains("checks for unseal of the namespace t1"), "\(r.stdoutText)")
        #expect(lines(r, "ok").contains { $0.contains("t1: shamir seal, 2 of 3 shares, sealed") }, "\(r.stdoutText)")
        r = try await Keyturn.launch(doctor + ["--for", "rekey"], environment: env)
        #expect(r.status == 2 && lines(r, "fail").contains { $0.contains("sealed") }, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: unseal it first: keyturn unseal --namespace t1"), "\(r.stdoutText)")
        r = try await Keyturn.launch(doctor + ["--for", "init"], environment: env)
        #expect(r.status == 2 && lines(r, "fail").contains { $0.contains("t1 exists already") }, "\(r.stdoutText)")

        // A token that may read the namespace's seal but not unseal it.
        let policy = "path \"sys/namespaces/t1/seal-status\" { capabilities = [\"read\"] }"
        #expect(try await server.call("PUT", "sys/policies/acl/ns-reader", ["policy": policy], token: root).0 == 204)
        let made = try await server.call("POST", "auth/token/create", ["policies": ["ns-reader"]], token: root).1
        let reader = try #require((made["auth"] as? [String: Any])?["client_token"] as? String, "\(made)")
        r = try await Keyturn.launch(doctor, environment: gpg.environment.merging(["VAULT_TOKEN": reader]) { $1 })
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "fail").contains {
                $0.contains("capabilities") && $0.contains("update on sys/namespaces/t1/unseal")
            },
            "\(r.stdoutText)")

        for who in ["bob", "carol"] {
            r = try await Keyturn.launch(["unseal", dir.file("\(who).asc.key")] + ns, environment: env)
            #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        }
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(r.stdoutText.contains("checks for rekey of the namespace t1"), "\(r.stdoutText)")
        #expect(
            lines(r, "ok").contains {
                $0.contains("endpoints") && $0.contains("t1/sys/rotate/root/init with the token: on")
            },
            "\(r.stdoutText)")
        #expect(lines(r, "ok").contains { $0.contains("allowed on t1/sys/rotate/root/init") }, "\(r.stdoutText)")
        r = try await Keyturn.launch(doctor + ["--format", "json"], environment: env)
        #expect(try jsonObject(r)["namespace"] as? String == "t1", "\(r.stdoutText)")

        try await sealNode(server, token: root)
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(
            r.status == 2 && lines(r, "fail").contains { $0.contains(" seal ") && $0.contains("sealed") },
            "\(r.stdoutText)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }
}
