import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn secure ca / cert / gossip (real OpenSSL, real OpenBao)")
struct SecureTests {
    @Test(
        """
        OpenBao serves a keyturn-made certificate: status reaches it by IP and by name, openssl verifies it and \
        shows the SANs; an mTLS listener takes a keyturn-made client certificate
        """
    )
    func keyturnMadeTLS() async throws {
        let dir = try TemporaryDirectory()
        let ca = dir.file("ca")
        var r = try await Keyturn.launch(["secure", "ca", "--out-dir", ca, "--name", "test CA"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileMode("\(ca)/ca-key.pem") == 0o600)
        r = try await Keyturn.launch([
            "secure", "cert", "--ca-dir", ca, "--name", "vault", "--dns", "localhost", "--ip", "127.0.0.1",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(fileMode("\(ca)/vault-key.pem") == 0o600)
        r = try await Keyturn.launch([
            "secure", "cert", "--ca-dir", ca, "--name", "operator", "--client-auth", "--out-dir", dir.file("client"),
        ])
        #expect(r.status == 0, "\(r.stderr)")

        let openssl = try #require(Processes.which("openssl"))
        let verify = try await Processes.launch(openssl, ["verify", "-CAfile", "\(ca)/ca.pem", "\(ca)/vault.pem"])
        #expect(verify.status == 0 && verify.stdoutText.contains(": OK"), "\(verify.stdoutText) \(verify.stderr)")
        let text = try await Processes.launch(openssl, ["x509", "-in", "\(ca)/vault.pem", "-noout", "-text"]).stdoutText
        #expect(text.contains("DNS:localhost") && text.contains("IP Address:127.0.0.1"))
        #expect(text.contains("TLS Web Server Authentication"))
        let caText = try await Processes.launch(openssl, ["x509", "-in", "\(ca)/ca.pem", "-noout", "-text"]).stdoutText
        #expect(caText.contains("CA:TRUE, pathlen:0") && caText.contains("Certificate Sign"))

        let server = try await OpenBaoServer.start(
            .init(tlsCertFile: "\(ca)/vault.pem", tlsKeyFile: "\(ca)/vault-key.pem"))
        defer { server.stop() }
        for address in [server.address, "https://localhost:\(server.port)"] {
            let s = try await Keyturn.launch(["status", "-a", address, "--ca-cert", "\(ca)/ca.pem"])
            #expect(s.status == 2, "\(address): \(s.stdoutText) \(s.stderr)")
            #expect(s.stdoutText.contains("2.7.2"))
        }

        let mtls = try await OpenBaoServer.start(
            .init(tlsCertFile: "\(ca)/vault.pem", tlsKeyFile: "\(ca)/vault-key.pem", clientCAFile: "\(ca)/ca.pem"))
        defer { mtls.stop() }
        let ok = try await Keyturn.launch([
            "status", "-a", mtls.address, "--ca-cert", "\(ca)/ca.pem",
            "--client-cert", dir.file("client/operator.pem"), "--client-key", dir.file("client/operator-key.pem"),
        ])
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
        expectOneLineError(
            try Keyturn.run(["secure", "cert", "--ca-dir", dir.file("bad"), "--name", "v", "--dns", "x"]),
            mentioning: "not a PEM certificate")
    }
}

@Suite("keyturn secure check and config")
struct SecureCheckConfigTests {
    /// A CA and a server certificate for 127.0.0.1 made by keyturn in `dir`.
    func material(
        _ dir: TemporaryDirectory, days: Int = 365, name: String = "vault", dns: [String] = []
    ) async throws -> String {
        let ca = dir.file("ca")
        if !FileManager.default.fileExists(atPath: "\(ca)/ca.pem") {
            _ = try await Keyturn.launch(["secure", "ca", "--out-dir", ca])
        }
        let r = try await Keyturn.launch(
            ["secure", "cert", "--ca-dir", ca, "--name", name, "--ip", "127.0.0.1", "--days", String(days)]
                + dns.flatMap { ["--dns", $0] })
        #expect(r.status == 0, "\(r.stderr)")
        return ca
    }

    @Test(
        """
        check: valid (0), expiring within the window (2), wrong CA (2), name not in the SANs (2), expired (2), \
        each with its reason
        """
    )
    func check() async throws {
        let dir = try TemporaryDirectory()
        let ca = try await material(dir)
        let server = try await OpenBaoServer.start(
            .init(tlsCertFile: "\(ca)/vault.pem", tlsKeyFile: "\(ca)/vault-key.pem"))
        defer { server.stop() }
        var r = try await Keyturn.launch([
            "secure", "check", "-a", server.address, "--ca-cert", "\(ca)/ca.pem", "--format", "json",
        ])
        #expect(r.status == 0, "\(r.stdoutText) \(r.stderr)")
        let node = try #require(try statusNodes(r).first)
        #expect(node["subject"] as? String == "CN=vault")
        #expect((node["sans"] as? [String])?.contains("IP Address:127.0.0.1") == true)
        #expect((node["days_left"] as? Int ?? 0) >= 360)
        #expect(node["verified"] as? Bool == true)

        r = try await Keyturn.launch([
            "secure", "check", "-a", server.address, "--ca-cert", "\(ca)/ca.pem", "--warn-days", "400",
        ])
        #expect(r.status == 2)
        #expect(r.stderr.contains("expires in"), "\(r.stderr)")

        let other = try TemporaryDirectory()
        _ = try await Keyturn.launch(["secure", "ca", "--out-dir", other.path])
        r = try await Keyturn.launch(["secure", "check", "-a", server.address, "--ca-cert", "\(other.path)/ca.pem"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("not signed by a trusted CA"), "\(r.stderr)")
        #expect(r.stdoutText.contains("CN=vault"), "the certificate is still shown")

        r = try await Keyturn.launch([
            "secure", "check", "-a", "https://localhost:\(server.port)", "--ca-cert", "\(ca)/ca.pem",
        ])
        #expect(r.status == 2)
        #expect(r.stderr.contains("not for this name"), "\(r.stderr)")

        // An expired certificate from the same CA, made with Python's cryptography package.
        let script = """
            import datetime, sys
            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.x509.oid import NameOID
            import ipaddress
            ca_cert = x509.load_pem_x509_certificate(open(sys.argv[1] + "/ca.pem", "rb").read())
            ca_key = serialization.load_pem_private_key(open(sys.argv[1] + "/ca-key.pem", "rb").read(), None)
            key = ec.generate_private_key(ec.SECP256R1())
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old")]))
                .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
                .sign(ca_key, hashes.SHA256()))
            open(sys.argv[2] + "/old.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
            open(sys.argv[2] + "/old-key.pem", "wb").write(pem)
            """
        let made = try await Processes.launch(try #require(Processes.which("python3")), ["-c", script, ca, dir.path])
        #expect(made.status == 0, "\(made.stderr)")
        let expired = try await OpenBaoServer.start(
            .init(tlsCertFile: dir.file("old.pem"), tlsKeyFile: dir.file("old-key.pem")))
        defer { expired.stop() }
        r = try await Keyturn.launch(["secure", "check", "-a", expired.address, "--ca-cert", "\(ca)/ca.pem"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("expired"), "\(r.stderr)")
    }

    @Test(
        """
        config writes the listener stanza and Consul settings for matching files, and refuses a wrong key or a \
        foreign chain, writing nothing
        """
    )
    func config() async throws {
        let dir = try TemporaryDirectory()
        let ca = try await material(dir)
        _ = try await material(dir, name: "other")
        let gossip = try dir.write("gossip.key", Array(try await Keyturn.launch(["secure", "gossip"]).stdout))
        var r = try await Keyturn.launch([
            "secure", "config", "--tls-cert", "\(ca)/vault.pem", "--tls-key", "\(ca)/vault-key.pem",
            "--ca-cert", "\(ca)/ca.pem", "--gossip-key", gossip, "--out-dir", dir.file("conf"),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let hcl = String(decoding: readBytes(dir.file("conf/vault-listener.hcl")) ?? [], as: UTF8.self)
        let certPath = URL(fileURLWithPath: "\(ca)/vault.pem").standardizedFileURL.path
        #expect(hcl.contains("listener \"tcp\"") && hcl.contains("tls_cert_file = \"\(certPath)\""), "\(hcl)")
        let consul = try #require(
            try JSONSerialization.jsonObject(with: Data(readBytes(dir.file("conf/consul-tls.json")) ?? []))
                as? [String: Any])
        #expect((consul["encrypt"] as? String)?.count == 44)
        #expect(fileMode(dir.file("conf/consul-tls.json")) == 0o600)

        r = try await Keyturn.launch([
            "secure", "config", "--tls-cert", "\(ca)/vault.pem", "--tls-key", "\(ca)/other-key.pem",
            "--ca-cert", "\(ca)/ca.pem", "--out-dir", dir.file("bad1"),
        ])
        expectOneLineError(r, mentioning: "is not the private key")
        let foreign = try TemporaryDirectory()
        _ = try await Keyturn.launch(["secure", "ca", "--out-dir", foreign.path])
        r = try await Keyturn.launch([
            "secure", "config", "--tls-cert", "\(ca)/vault.pem", "--tls-key", "\(ca)/vault-key.pem",
            "--ca-cert", "\(foreign.path)/ca.pem", "--out-dir", dir.file("bad2"),
        ])
        expectOneLineError(r, mentioning: "does not chain to")
        #expect(
            !FileManager.default.fileExists(atPath: dir.file("bad1"))
                && !FileManager.default.fileExists(atPath: dir.file("bad2")))
    }
}
