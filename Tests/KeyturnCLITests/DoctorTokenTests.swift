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
        _ = try Processes.run(
            Processes.which("gpg-connect-agent") ?? "/usr/bin/gpg-connect-agent", ["/bye"], environment: env)

        var r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "ok").contains { $0.contains("tina <tina@keyturn.test>") && $0.contains("is plugged in") },
            "\(r.stdoutText)")

        // Unplugged, and no agent runs: not asked (doctor starts no agent), and none is started.
        try token.remove()
        let home = { () -> [String: Date] in
            let names = (try? FileManager.default.subpathsOfDirectory(atPath: gpg.path)) ?? []
            return Dictionary(
                uniqueKeysWithValues: names.map {
                    (
                        $0,
                        (try? FileManager.default.attributesOfItem(atPath: "\(gpg.path)/\($0)")[.modificationDate])
                            as? Date ?? .distantPast
                    )
                })
        }
        let before = home()
        r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(home() == before, "doctor changed GNUPGHOME")
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "warn").contains { $0.contains(" token ") && $0.contains("no gpg-agent runs") }, "\(r.stdoutText)")
        let pgrep = Processes.which("pgrep") ?? "/usr/bin/pgrep"
        let agents = ["-f", "gpg-agent --homedir \(gpg.path) "]
        #expect(try Processes.run(pgrep, agents).status != 0, "doctor started gpg-agent")
        let connect = Processes.which("gpg-connect-agent") ?? "/usr/bin/gpg-connect-agent"

        _ = try Processes.run(connect, ["/bye"], environment: env)
        r = try await Keyturn.launch(doctor + ["--pgp-keys", token.key.armouredFile], environment: env)
        #expect(r.status == 1, "\(r.stdoutText)\(r.stderr)")
        let fails = lines(r, "fail")
        #expect(fails.count == 1, "\(r.stdoutText)")
        #expect(
            fails.contains { $0.contains("tina <tina@keyturn.test>") && $0.contains("is not plugged in") },
            "\(r.stdoutText)")
        #expect(r.stdoutText.contains("hint: plug in the YubiKey or smartcard that holds it"), "\(r.stdoutText)")

        // Not given: a card of this keyring that a share here may not be encrypted to.
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "warn").contains {
                $0.contains("card ") && $0.contains("1 key of this keyring") && $0.contains("not plugged in")
            },
            "\(r.stdoutText)")

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

        // A token the node does not know: the token's problem (exit 1), not the node's.
        r = try await Keyturn.launch(doctor, environment: gpg.environment.merging(["VAULT_TOKEN": "s.bogus"]) { $1 })
        #expect(r.status == 1, "\(r.stdoutText)\(r.stderr)")
        #expect(r.stdoutText.contains("checks for unseal of the namespace t1"), "\(r.stdoutText)")
        // A namespace without a seal of its own.
        #expect(try await server.call("POST", "sys/namespaces/plain", [:], token: root).0 == 200)
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--namespace", "plain", "--for", "seal"], environment: env)
        #expect(r.status == 2 && lines(r, "fail").contains { $0.contains("not sealable") }, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("this one shares the cluster's"), "\(r.stdoutText)")

        try await sealNode(server, token: root)
        r = try await Keyturn.launch(doctor, environment: env)
        #expect(
            r.stdoutText.contains("checks for unseal of the cluster (the namespace t1 needs it first)"),
            "\(r.stdoutText)")
        #expect(
            r.status == 2 && lines(r, "fail").contains { $0.contains(" seal ") && $0.contains("sealed") },
            "\(r.stdoutText)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }
}
