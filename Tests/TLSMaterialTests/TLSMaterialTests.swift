import Foundation
import Shamir
import TLSMaterial
import Testing

@Suite("TLS material over OpenSSL")
struct TLSMaterialTests {
    /// A CA and a server certificate it signed.
    static func chain() throws -> (ca: Certificate, caKey: PrivateKey, cert: Certificate, key: PrivateKey) {
        let caKey = try PrivateKey.generateP256()
        let ca = try Certificate.issue(
            CertificateRequest(commonName: "test CA", days: 30, isCA: true), key: caKey, issuer: nil)
        let key = try PrivateKey.generateP256()
        let cert = try Certificate.issue(
            CertificateRequest(commonName: "node", dnsNames: ["node.test"], ipAddresses: ["127.0.0.1"], days: 10),
            key: key, issuer: (ca, caKey))
        return (ca, caKey, cert, key)
    }

    @Test("a certificate issued by a CA verifies against it, carries its SANs, and matches its own key only")
    func issueAndVerify() throws {
        let (ca, caKey, cert, key) = try Self.chain()
        try cert.verify(against: ca)
        #expect(cert.subjectAltNames.contains("DNS:node.test") || cert.subjectAltNames.contains("node.test"))
        #expect(cert.matches(key))
        #expect(!cert.matches(caKey))
        #expect(cert.notAfter > Date().addingTimeInterval(9 * 86400))
    }

    @Test("a certificate does not verify against another CA, and says why")
    func otherCARefused() throws {
        let (_, _, cert, _) = try Self.chain()
        let (otherCA, _, _, _) = try Self.chain()
        let error = #expect(throws: TLSMaterialError.self) { try cert.verify(against: otherCA) }
        #expect(error?.code == .untrusted)
        #expect(error?.reason.isEmpty == false)
    }

    @Test("keys and certificates round-trip through PEM; garbage is refused naming the file")
    func pemRoundTrip() throws {
        let (_, _, cert, key) = try Self.chain()
        let again = try Certificate(pem: try cert.pem(), name: "node.pem")
        #expect(again.subject == cert.subject && again.serial == cert.serial)
        let keyAgain = try PrivateKey(pem: try key.pem(), name: "node-key.pem")
        #expect(cert.matches(keyAgain))
        let error = #expect(throws: TLSMaterialError.self) {
            try Certificate(pem: Array("not pem".utf8), name: "bad.pem")
        }
        #expect(error?.reason.contains("bad.pem") == true)
    }

    @Test("SHA-256 of known inputs")
    func digest() {
        #expect(Digest.sha256Hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Digest.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("OpenSSL's random source fills buffers with bytes that differ between draws")
    func randomSource() throws {
        let random = OpenSSLRandom()
        var a = [UInt8](repeating: 0, count: 64), b = [UInt8](repeating: 0, count: 64)
        try a.withUnsafeMutableBytes { try random.fill($0) }
        try b.withUnsafeMutableBytes { try random.fill($0) }
        #expect(a != b)
        #expect(a != [UInt8](repeating: 0, count: 64))
    }
}
