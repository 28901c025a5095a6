import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn secure ca / cert / gossip (real OpenSSL, real OpenBao)")
struct SecureTests {
    @Test("OpenBao serves a keyturn-made certificate: status reaches it by IP and by name, openssl verifies it and shows the SANs; an mTLS listener takes a keyturn-made client certificate")
    func keyturnMadeTLS() async throws {
        let dir = try TemporaryDirectory()
        let ca = dir.file("ca")
        var r = try await Keyturn.launch(["secure", "ca", "--out-dir", ca, "--name", "test CA"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileMode("\(ca)/ca-key.pem") == 0o600)
        r = try await Keyturn.launch(["secure", "cert", "--ca-dir", ca, "--name", "vault", "--dns", "localhost", "--ip", "127.0.0.1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileMode("\(ca)/vault-key.pem") == 0o600)
        r = try await Keyturn.launch(["secure", "cert", "--ca-dir", ca, "--name", "operator", "--client-auth", "--out-dir", dir.file("client")])
        #expect(r.status == 0, "\(r.stderr)")

        let openssl = try #require(Processes.which("openssl"))
        let verify = try await Processes.launch(openssl, ["verify", "-CAfile", "\(ca)/ca.pem", "\(ca)/vault.pem"])
        #expect(verify.status == 0 && verify.stdoutText.contains(": OK"), "\(verify.stdoutText) \(verify.stderr)")
        let text = try await Processes.launch(openssl, ["x509", "-in", "\(ca)/vault.pem", "-noout", "-text"]).stdoutText
        #expect(text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"))
        #expect(text.contains("TLS Web Server Authentication"))
        let caText = try await Processes.launch(openssl, ["x509", "-in", "\(ca)/ca.pem", "-noout", "-text"]).stdoutText
        #expect(caText.contains("CA:TRUE, pathlen:0") && caText.contains("Certificate Sign"))

        let server = try await OpenBaoServer.start(.init(tlsCertFile: "\(ca)/vault.pem", tlsKeyFile: "\(ca)/vault-key.pem"))
        defer { server.stop() }
        for address in [server.address, "https://localhost:\(server.port)"] {
            let s = try await Keyturn.launch(["status", "-a", address, "--ca-cert", "\(ca)/ca.pem"])
            #expect(s.status == 2, "\(address): \(s.stdoutText) \(s.stderr)")
            #expect(s.stdoutText.contains("2.7.2"))
        }

        let mtls = try await OpenBaoServer.start(.init(tlsCertFile: "\(ca)/vault.pem", tlsKeyFile: "\(ca)/vault-key.pem", clientCAFile: "\(ca)/ca.pem"))
        defer { mtls.stop() }
        let ok = try await Keyturn.launch(["status", "-a", mtls.address, "--ca-cert", "\(ca)/ca.pem",
                                           "--client-cert", dir.file("client/operator.pem"), "--client-key", dir.file("client/operator-key.pem")])
        #expect(ok.status == 2, "\(ok.stdoutText) \(ok.stderr)")
        #expect(ok.stdoutText.contains("2.7.2"))
    }

    @Test("gossip keys are 32 random bytes in base64, different each time")
    func gossip() throws {
        let a = try Keyturn.run(["secure", "gossip"]), b = try Keyturn.run(["secure", "gossip"])
        #expect(a.status == 0)
        let key = try #require(Data(base64Encoded: a.stdoutText.trimmingCharacters(in: .newlines)))
        #expect(key.count == 32)
        #expect(a.stdoutText != b.stdoutText)
    }

    @Test("bad input is refused with one line and nothing written")
    func badInput() throws {
        let dir = try TemporaryDirectory()
        _ = try Keyturn.run(["secure", "ca", "--out-dir", dir.file("ca")])
        let cases: [([String], String)] = [
            (["secure", "cert", "--ca-dir", dir.file("missing"), "--name", "v", "--dns", "x"], "does not exist"),
            (["secure", "cert", "--ca-dir", dir.file("ca"), "--name", "v", "--ip", "300.1.2.3"], "not an IP address"),
            (["secure", "cert", "--ca-dir", dir.file("ca"), "--name", "v"], "at least one --dns or --ip"),
            (["secure", "cert", "--ca-dir", dir.file("ca"), "--name", "v", "--dns", "x", "--days", "0"], "--days"),
            (["secure", "ca", "--out-dir", dir.file("ca")], "already exists"),
        ]
        let before = dir.listing()
        for (args, fragment) in cases {
            expectOneLineError(try Keyturn.run(args), mentioning: fragment)
            #expect(dir.listing() == before, "files changed after \(args)")
        }
        try dir.write("ca/garbage.pem", text: "not pem")
        try FileManager.default.createDirectory(atPath: dir.file("bad"), withIntermediateDirectories: true)
        try dir.write("bad/ca.pem", text: "not pem")
        try dir.write("bad/ca-key.pem", text: "not pem")
        expectOneLineError(try Keyturn.run(["secure", "cert", "--ca-dir", dir.file("bad"), "--name", "v", "--dns", "x"]), mentioning: "not a PEM certificate")
    }
}
