import Foundation
import KeyturnFailure
import PGPShares
import Shamir
import TLSMaterial

/// A private CA on disk (`DIR/ca.pem`, `DIR/ca-key.pem`), and the server certificates it issues.
package enum CertificateAuthority {
    /// What `make` wrote.
    package struct Made {
        package let certificate: String
        /// `ca-key.pem`, or nil when the key was escrowed.
        package let key: String?
        /// The escrowed key's share files, one per operator.
        package let shares: [String]
    }

    /// Makes a CA (EC P-256). With escrow key files, the CA key never touches the disk: it is
    /// split among those operators (`threshold` of them recombine it with `keyturn combine`),
    /// each share encrypted to one of them as `split --pgp-keys` writes it.
    package static func make(
        outDir: String, name: String, days: Int, escrowKeyFiles: [String], threshold: Int?
    ) throws -> Made {
        let directory = try OutputDirectory(outDir)
        let keyPath = SecretFiles.join(outDir, "ca-key.pem"), certPath = SecretFiles.join(outDir, "ca.pem")
        try SecretFiles.requireAbsent(keyPath)
        try SecretFiles.requireAbsent(certPath)
        let operators = try OperatorKey.inspect(escrowKeyFiles)
        for file in escrowKeyFiles { try SecretFiles.requireAbsent(SplitRun.sharePath(outDir, keyFile: file)) }
        let key = try PrivateKey.generateP256()
        let cert = try Certificate.issue(
            CertificateRequest(commonName: name, days: days, isCA: true), key: key, issuer: nil)
        guard let threshold, !operators.isEmpty else {
            try PEMFiles.writeKeyAndCertificate(
                key: key, cert: cert, keyPath: keyPath, certPath: certPath, directory: directory)
            return Made(certificate: certPath, key: keyPath, shares: [])
        }
        var keyPEM = try key.pem()
        let certPEM = try cert.pem()
        defer { secureZero(&keyPEM) }
        let shares = try keyPEM.withUnsafeBytes { pem in
            try SplitRun(
                input: .memory(pem), outDir: outDir, threshold: threshold, shares: operators.count,
                keyFiles: escrowKeyFiles, random: OpenSSLRandom(),
                companions: [.init(path: certPath, contents: certPEM, mode: 0o644)]
            ).execute()
        }
        return Made(certificate: certPath, key: nil, shares: shares)
    }

    /// Issues a server certificate `NAME.pem` and key `NAME-key.pem` (0600) into `outDir` from
    /// the CA in `caDir`; returns their paths.
    package static func issue(
        caDir: String, request: CertificateRequest, outDir: String
    ) throws -> (certificate: String, key: String) {
        let caCertPath = SecretFiles.join(caDir, "ca.pem"), caKeyPath = SecretFiles.join(caDir, "ca-key.pem")
        let caCertPEM = try PEMFiles.read(caCertPath), caKeyPEM = try PEMFiles.read(caKeyPath)
        let caCert = try Certificate(pem: caCertPEM, name: caCertPath)
        let caKey = try PrivateKey(pem: caKeyPEM, name: caKeyPath)
        guard caCert.matches(caKey) else {
            throw CeremonyError("\(quoted(caDir + "/ca-key.pem")) is not the key of \(quoted(caDir + "/ca.pem"))")
        }
        let directory = try OutputDirectory(outDir)
        let name = request.commonName
        let keyPath = SecretFiles.join(outDir, "\(name)-key.pem"), certPath = SecretFiles.join(outDir, "\(name).pem")
        try SecretFiles.requireAbsent(keyPath)
        try SecretFiles.requireAbsent(certPath)
        let key = try PrivateKey.generateP256()
        let cert = try Certificate.issue(request, key: key, issuer: (caCert, caKey))
        try PEMFiles.writeKeyAndCertificate(
            key: key, cert: cert, keyPath: keyPath, certPath: certPath, directory: directory)
        return (certPath, keyPath)
    }
}
