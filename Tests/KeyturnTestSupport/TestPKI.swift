import Foundation

/// Throwaway TLS material made with the `openssl` CLI: a private CA, a server certificate
/// with the SANs asked for, and a client certificate for mutual TLS (all EC P-256).
public final class TestPKI: @unchecked Sendable {
    public let directory: TemporaryDirectory
    public var caCert: String { directory.file("ca.pem") }
    public var serverCert: String { directory.file("server.pem") }
    public var serverKey: String { directory.file("server-key.pem") }
    public var clientCert: String { directory.file("client.pem") }
    public var clientKey: String { directory.file("client-key.pem") }
    /// A directory holding only the CA, hashed for OpenSSL's CApath lookup.
    public var caDirectory: String { directory.file("cas") }

    /// Makes the CA, a server certificate for `sans` (e.g. `IP:127.0.0.1`, `DNS:localhost`)
    /// and a client certificate.
    public init(sans: [String] = ["IP:127.0.0.1", "DNS:localhost"]) throws {
        directory = try TemporaryDirectory("keyturn-pki")
        let d = directory
        try openssl([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d.file("ca-key.pem"), "-out", d.file("ca.pem"), "-days", "30",
            "-subj", "/CN=keyturn test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try issue(
            name: "server", subject: "/CN=vault.test", days: 30,
            extensions: "subjectAltName=\(sans.joined(separator: ","))\nextendedKeyUsage=serverAuth\n")
        try issue(name: "client", subject: "/CN=operator", days: 30, extensions: "extendedKeyUsage=clientAuth\n")
        try FileManager.default.createDirectory(atPath: d.file("cas"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: d.file("ca.pem"), toPath: d.file("cas/ca.pem"))
        try openssl(["rehash", d.file("cas")])
    }

    private func issue(name: String, subject: String, days: Int, extensions: String) throws {
        let d = directory
        try openssl([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", d.file("\(name)-key.pem"), "-out", d.file("\(name).csr"), "-subj", subject,
        ])
        try d.write("\(name).ext", text: extensions)
        let args = [
            "x509", "-req", "-in", d.file("\(name).csr"), "-CA", d.file("ca.pem"), "-CAkey", d.file("ca-key.pem"),
            "-CAcreateserial", "-out", d.file("\(name).pem"), "-extfile", d.file("\(name).ext"), "-days", String(days),
        ]
        try openssl(args)
    }

    @discardableResult
    private func openssl(_ args: [String]) throws -> ProcessResult {
        let r = try Processes.run(Processes.which("openssl") ?? "/usr/bin/openssl", args)
        guard r.status == 0 else { throw HarnessError("openssl \(args.first ?? "") failed: \(r.stderr)") }
        return r
    }
}
