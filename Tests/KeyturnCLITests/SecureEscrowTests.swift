import Foundation
import KeyturnTestSupport
import Testing

@Suite("keyturn secure ca --split-to (CA key escrow)")
struct SecureEscrowTests {
    @Test(
        """
        the CA key is split among operators, never written; two of three recombine a key that still signs \
        certificates the CA verifies
        """
    )
    func escrow() async throws {
        let gpg = try TestGPG()
        let holders = try ["alice", "bob", "carol"].map { try gpg.makeKey($0) }
        let dir = try TemporaryDirectory()
        let ca = dir.file("ca")
        let r = try await Keyturn.launch(
            [
                "secure", "ca", "--out-dir", ca, "--split-to", holders.map(\.armouredFile).joined(separator: ","),
                "--threshold", "2",
            ], environment: gpg.environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(ca)/ca-key.pem"))
        #expect(FileManager.default.fileExists(atPath: "\(ca)/ca.pem"))
        for h in ["alice", "bob", "carol"] { #expect(fileMode("\(ca)/\(h).asc.share") == 0o600) }

        // Two holders recombine the key into a new CA directory beside the certificate.
        let restored = dir.file("restored")
        try FileManager.default.createDirectory(atPath: restored, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(ca)/ca.pem", toPath: "\(restored)/ca.pem")
        let c = try await Keyturn.launch(
            ["combine", "--output", "\(restored)/ca-key.pem", "\(ca)/bob.asc.share", "\(ca)/carol.asc.share"],
            environment: gpg.environment)
        #expect(c.status == 0, "\(c.stderr)")
        #expect(
            String(decoding: readBytes("\(restored)/ca-key.pem") ?? [], as: UTF8.self).hasPrefix(
                "-----BEGIN PRIVATE KEY-----"))
        let cert = try await Keyturn.launch([
            "secure", "cert", "--ca-dir", restored, "--name", "vault", "--ip", "127.0.0.1",
        ])
        #expect(cert.status == 0, "\(cert.stderr)")
        let verify = try await Processes.launch(
            try #require(Processes.which("openssl")), ["verify", "-CAfile", "\(ca)/ca.pem", "\(restored)/vault.pem"])
        #expect(verify.status == 0, "\(verify.stdoutText) \(verify.stderr)")
    }
}
