import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn status over TLS")
struct StatusTLSTests {
    @Test("a private CA works with --ca-cert, --ca-path and VAULT_CACERT, and fails clearly without")
    func privateCA() async throws {
        let pki = try TestPKI()
        let server = try await OpenBaoServer.start(.init(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey))
        defer { server.stop() }
        #expect(server.address.hasPrefix("https://127.0.0.1:"))
        let byIP = server.address, byName = "https://localhost:\(server.port)"

        for r in [
            try await Keyturn.launch(["status", "-a", byIP, "--ca-cert", pki.caCert]),
            try await Keyturn.launch(["status", "-a", byName, "--ca-path", pki.caDirectory]),
            try await Keyturn.launch(["status", "-a", byIP], environment: ["VAULT_CACERT": pki.caCert]),
            try await Keyturn.launch(["status", "-a", byIP], environment: ["BAO_CACERT": pki.caCert]),
        ] {
            #expect(r.status == 2, "uninitialised node expected: \(r.stdoutText) \(r.stderr)")
            #expect(r.stdoutText.contains("2.7.2"))
        }
        let untrusted = try await Keyturn.launch(["status", "-a", byIP])
        #expect(untrusted.status == 1)
        #expect(untrusted.stderrLines.first?.contains("not signed by a trusted CA") == true, "\(untrusted.stderr)")
        #expect(untrusted.stderrLines.last?.contains("--ca-cert") == true)
        let skip = try await Keyturn.launch(["status", "-a", byIP, "--tls-skip-verify"])
        #expect(skip.status == 2)
        #expect(skip.stderr.contains("keyturn: warning: TLS verification is disabled"))
    }

    @Test("--tls-server-name verifies a certificate issued to a name while connecting to an IP")
    func serverNameOverride() async throws {
        let pki = try TestPKI(sans: ["DNS:vault.test"])
        let server = try await OpenBaoServer.start(.init(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey))
        defer { server.stop() }
        let mismatch = try await Keyturn.launch(["status", "-a", server.address, "--ca-cert", pki.caCert])
        #expect(mismatch.status == 1)
        #expect(mismatch.stderrLines.first?.contains("not for this name") == true, "\(mismatch.stderr)")
        #expect(mismatch.stderr.contains("--tls-server-name"))
        let ok = try await Keyturn.launch([
            "status", "-a", server.address, "--ca-cert", pki.caCert, "--tls-server-name", "vault.test",
        ])
        #expect(ok.status == 2, "\(ok.stdoutText) \(ok.stderr)")
        let env = try await Keyturn.launch(
            ["status", "-a", server.address, "--ca-cert", pki.caCert],
            environment: ["VAULT_TLS_SERVER_NAME": "vault.test"])
        #expect(env.status == 2, "\(env.stderr)")
    }

    @Test("an mTLS listener works with a client certificate and fails clearly without one")
    func mutualTLS() async throws {
        let pki = try TestPKI()
        let server = try await OpenBaoServer.start(
            .init(tlsCertFile: pki.serverCert, tlsKeyFile: pki.serverKey, clientCAFile: pki.caCert))
        defer { server.stop() }
        let ok = try await Keyturn.launch([
            "status", "-a", server.address, "--ca-cert", pki.caCert, "--client-cert", pki.clientCert, "--client-key",
            pki.clientKey,
        ])
        #expect(ok.status == 2, "\(ok.stdoutText) \(ok.stderr)")
        #expect(ok.stdoutText.contains("2.7.2"))
        let env = try await Keyturn.launch(
            ["status", "-a", server.address],
            environment: [
                "VAULT_CACERT": pki.caCert, "VAULT_CLIENT_CERT": pki.clientCert, "VAULT_CLIENT_KEY": pki.clientKey,
            ])
        #expect(env.status == 2, "\(env.stderr)")
        let without = try await Keyturn.launch(["status", "-a", server.address, "--ca-cert", pki.caCert])
        #expect(without.status == 1)
        #expect(without.stderrLines.first?.contains("requires a client certificate") == true, "\(without.stderr)")
        #expect(without.stderr.contains("--client-cert"))
    }

    @Test("bad TLS settings are refused before anything is sent")
    func badLocalSettings() throws {
        let dir = try TemporaryDirectory()
        let cases: [([String], String)] = [
            (["--ca-cert", dir.file("missing.pem")], "does not exist"),
            (["--ca-path", dir.file("missing")], "is not a directory"),
            (["--client-cert", dir.file("c.pem")], "needs its key"),
            (["--client-key", dir.file("k.pem")], "needs its certificate"),
            (["--client-cert", dir.file("c.pem"), "--client-key", dir.file("k.pem")], "does not exist"),
            (["--timeout", "0"], "--timeout"),
            (["--format", "yaml"], "unknown output format"),
            (["-a", "ftp://x"], "is not a node address"),
            (["-a", "127.0.0.1:8200"], "is not a node address"),
        ]
        for (args, fragment) in cases {
            expectOneLineError(try Keyturn.run(["status"] + args), mentioning: fragment)
        }
        expectOneLineError(
            try Keyturn.run(["status"], environment: ["VAULT_SKIP_VERIFY": "maybe"]), mentioning: "VAULT_SKIP_VERIFY")
    }
}

@Suite("keyturn status against faults a real server cannot produce")
struct StatusFaultTests {
    @Test(
        "garbage, a wrong shape, a 500, a redirect, a cut reply and silence each give exit 1 and one clear line",
        arguments: [
            ("garbage", "not JSON"), ("shape", "without 'initialized'"), ("error", "the stub says no"),
            ("redirect", "does not follow redirects"), ("truncate", "closed the connection"),
            ("silent", "did not answer within 1 s"),
        ])
    func fault(_ mode: String, _ fragment: String) throws {
        let stub = try StubServer(mode)
        let t0 = Date()
        let r = try Keyturn.run(["status", "-a", stub.address, "--timeout", "1"])
        #expect(r.status == 1, "\(r.stdoutText) \(r.stderr)")
        #expect(r.stderrLines.first?.hasPrefix("keyturn: error: \(stub.address)") == true, "\(r.stderr)")
        #expect(r.stderrLines.first?.contains(fragment) == true, "\(r.stderr)")
        #expect(r.stderrLines.count <= 2)
        // It does not hang (that a silent node costs one timeout, not three, is shown below
        // from the stub's side, where a loaded machine cannot blur it).
        #expect(Date().timeIntervalSince(t0) < 30)
        let json = try statusNodes(
            try Keyturn.run(["status", "-a", stub.address, "--timeout", "1", "--format", "json"]))
        #expect((json[0]["error"] as? String)?.contains(fragment) == true)
        withExtendedLifetime(stub) {}
    }

    @Test("a silent node costs one timeout and does not hide a healthy one")
    func silentNodeAmongOthers() async throws {
        let dir = try TemporaryDirectory()
        let asked = dir.file("stub-requests")
        let stub = try StubServer("silent", [asked])
        let server = try await OpenBaoServer.start()
        defer { server.stop() }
        let r = try await Keyturn.launch([
            "status", "-a", stub.address, "-a", server.address, "--timeout", "5", "--format", "json",
        ])
        // One timeout, not three in a row: the silent node got all three of its requests
        // (seal-status, health, leader) at once, well within the first one's 5 s timeout.
        let times = String(decoding: readBytes(asked) ?? [], as: UTF8.self).split(separator: "\n").compactMap {
            Double($0.split(separator: " ").first ?? "")
        }
        #expect(times.count == 3, "\(times)")
        #expect((times.max() ?? 0) - (times.min() ?? 0) < 4, "\(times)")
        #expect(r.status == 1)
        let nodes = try statusNodes(r)
        #expect(nodes[0]["reachable"] as? Bool == false)
        #expect(nodes[1]["version"] as? String == "2.7.2")
        withExtendedLifetime(stub) {}
    }
}
