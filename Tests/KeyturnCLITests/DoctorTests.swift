import Foundation
import KeyturnTestSupport
import Testing

/// `keyturn doctor`: each check made to fail for real (an expired key, a revoked key, an
/// unreachable node, a sealed node, a listener without the old API and no token, a token
/// without the capability), and a clean room passing; doctor changes nothing.
@Suite("doctor: the checklist before a ceremony (real OpenBao, real gpg keys)")
struct DoctorTests {
    /// The lines of a text report whose first word is `level`.
    func lines(_ r: ProcessResult, _ level: String) -> [String] {
        r.stdoutText.split(separator: "\n").map(String.init).filter { $0.hasPrefix(level + " ") }
    }

    @Test(
        """
        before init: a reachable uninitialised node and good keys pass (exit 0, JSON the same); an expired key, a \
        revoked key and an unreachable node are each a fail line with a hint (exit 2; the keys alone exit 1); the \
        node is still uninitialised
        """
    )
    func beforeInit() async throws {
        let gpg = try TestGPG()
        let (alice, bob, carol) = try gpg.makeOperators()
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let env = gpg.environment
        let good = [alice, bob, carol].map(\.armouredFile).joined(separator: ",")

        var r = try await Keyturn.launch(["doctor", "-a", server.address, "--pgp-keys", good], environment: env)
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(r.stdoutText.contains("checks for init"), "\(r.stdoutText)")
        #expect(lines(r, "fail").isEmpty, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("not initialised: ready for init"), "\(r.stdoutText)")
        #expect(lines(r, "ok").filter { $0.contains(" key ") }.count == 3, "\(r.stdoutText)")
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--pgp-keys", good, "--format", "json"], environment: env)
        #expect(r.status == 0, "\(r.stderr)")
        let json = try jsonObject(r)
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(json["ceremony"] as? String == "init" && json["exit"] as? Int == 0)
        #expect(checks.allSatisfy { $0["result"] as? String != "fail" }, "\(checks)")
        #expect(
            Set(checks.compactMap { $0["check"] as? String }).isSuperset(of: ["reachable", "seal", "clock", "key"]))

        // Three problems planted.
        let expired = try gpg.makeExpiredKey("olga"), revoked = try gpg.makeRevokedKey("rex")
        let dead = "http://127.0.0.1:\(try freeLoopbackPort())"
        let planted = [alice.armouredFile, expired, revoked].joined(separator: ",")
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "-a", dead, "--for", "init", "--pgp-keys", planted], environment: env)
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")
        let fails = lines(r, "fail")
        #expect(fails.count == 3, "\(r.stdoutText)")
        #expect(fails.contains { $0.contains(dead) && $0.contains("reachable") }, "\(fails)")
        #expect(fails.contains { $0.contains("olga.asc") && $0.contains("expired") }, "\(fails)")
        #expect(fails.contains { $0.contains("rex.asc") && $0.contains("revoked") }, "\(fails)")
        #expect(r.stdoutText.components(separatedBy: "hint: ").count - 1 >= 3, "\(r.stdoutText)")
        #expect(r.stderr.contains("3 fail"), "\(r.stderr)")
        // Only the keys at fault: a local problem.
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--for", "init", "--pgp-keys", planted], environment: env)
        #expect(r.status == 1, "\(r.stdoutText)\(r.stderr)")
        #expect(try await server.sealStatus()["initialized"] as? Bool == false)
    }

    @Test(
        """
        before a rekey on OpenBao 2.7.2: without a token the listener's old API is off (fail, with the listener \
        setting); a root token passes; a token without the capability fails; a sealed node fails for rekey and \
        passes for unseal
        """
    )
    func beforeRekey() async throws {
        let (server, root) = try await unsealedNodeWithToken()
        defer { server.stop() }

        var r = try await Keyturn.launch(["doctor", "-a", server.address, "--for", "rekey"])
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "fail").contains { $0.contains("endpoints") && $0.contains("sys/rekey/init: off") },
            "\(r.stdoutText)")
        #expect(r.stdoutText.contains("disable_unauthed_rekey_endpoints = false"), "\(r.stdoutText)")
        #expect(lines(r, "fail").contains { $0.contains("token") && $0.contains("none given") }, "\(r.stdoutText)")

        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--for", "rekey"], environment: ["VAULT_TOKEN": root])
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(lines(r, "ok").contains { $0.contains("capabilities") }, "\(r.stdoutText)")

        // A token whose policy reads sys/health and nothing else.
        let policy = "path \"sys/health\" { capabilities = [\"read\"] }"
        #expect(try await server.call("PUT", "sys/policies/acl/reader", ["policy": policy], token: root).0 == 204)
        let made = try await server.call("POST", "auth/token/create", ["policies": ["reader"]], token: root).1
        let reader = try #require((made["auth"] as? [String: Any])?["client_token"] as? String, "\(made)")
        r = try await Keyturn.launch(
            ["doctor", "-a", server.address, "--for", "generate-root"], environment: ["VAULT_TOKEN": reader])
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "fail").contains {
                $0.contains("capabilities") && $0.contains("update on sys/generate-root-token/attempt")
            }, "\(r.stdoutText)")

        #expect(try await server.call("PUT", "sys/seal", token: root).0 == 204)
        r = try await Keyturn.launch(["doctor", "-a", server.address, "--for", "rekey"])
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")
        #expect(lines(r, "fail").contains { $0.contains("seal") && $0.contains("sealed") }, "\(r.stdoutText)")
        r = try await Keyturn.launch(["doctor", "-a", server.address])
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(r.stdoutText.contains("checks for unseal"), "\(r.stdoutText)")
        #expect(try await server.sealStatus()["sealed"] as? Bool == true)
    }

    @Test(
        """
        TLS: a certificate from an unknown CA fails (exit 2), the right CA verifies it; 29 days left is a warning \
        within --warn-days 30 (exit 0) and ok within 7
        """
    )
    func tls() async throws {
        let pki = try TestPKI()
        let server = try await OpenBaoServer.start(.init(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey))
        defer { server.stop() }
        var r = try await Keyturn.launch(["doctor", "-a", server.address])
        #expect(r.status == 2, "\(r.stdoutText)\(r.stderr)")
        #expect(lines(r, "fail").contains { $0.contains(" tls ") }, "\(r.stdoutText)")
        #expect(r.stdoutText.contains("--ca-cert"), "\(r.stdoutText)")
        r = try await Keyturn.launch(["doctor", "-a", server.address, "--ca-cert", pki.caCert])
        #expect(r.status == 0, "\(r.stdoutText)\(r.stderr)")
        #expect(
            lines(r, "warn").contains { $0.contains("tls") && $0.contains("expires in 29 days") }, "\(r.stdoutText)")
        r = try await Keyturn.launch(["doctor", "-a", server.address, "--ca-cert", pki.caCert, "--warn-days", "7"])
        #expect(lines(r, "ok").contains { $0.contains("tls") && $0.contains("chain and name verified") })
    }

    @Test("a server's field with a newline and a forged line after it stays on its own line in doctor's report")
    func forgedLine() async throws {
        let stub = try StubServer("forged-row")
        let r = try await Keyturn.launch(["doctor", "-a", stub.address, "--for", "unseal"])
        let lines = r.stdoutText.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("http://127.0.0.1:8201") }, "\(r.stdoutText)")
        #expect(
            lines.contains { $0.hasPrefix("ok   ") && $0.contains("2.7.2\\nhttp://127.0.0.1:8201") }, "\(r.stdoutText)")
    }
}
