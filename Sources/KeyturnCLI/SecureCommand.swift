import ArgumentParser
import Foundation
import TLSMaterial

/// `keyturn secure`: the TLS side of the ceremony.
struct Secure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the TLS material a cluster's listener serves: a private CA, certificates, a gossip key.",
        subcommands: [SecureCA.self, SecureCert.self, SecureGossip.self])
}

/// Reads a PEM file, naming it in errors.
func readPEMFile(_ path: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else { throw CLIError("\(path) does not exist") }
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    return [UInt8](data)
}

/// Writes a key (0600) and its certificate (0644) together, never overwriting.
func writeKeyAndCertificate(key: PrivateKey, cert: Certificate, keyPath: String, certPath: String, directory: OutputDirectory) throws {
    let keyPEM: [UInt8], certPEM: [UInt8]
    do throws(TLSMaterialError) { keyPEM = try key.pem(); certPEM = try cert.pem() } catch { throw CLIError(error.reason) }
    try directory.create()
    let keyFile = try PendingFile(path: keyPath)
    try keyPEM.withUnsafeBytes { try keyFile.write($0) }
    let certFile = try PendingFile(path: certPath, mode: 0o644)
    try certPEM.withUnsafeBytes { try certFile.write($0) }
    try FileBatch.publish([keyFile, certFile], directory: directory.path)
    directory.keep()
}

/// `keyturn secure ca`.
struct SecureCA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Make a private CA: DIR/ca.pem and DIR/ca-key.pem (EC P-256, key 0600).")

    @Option(help: ArgumentHelp("Directory for ca.pem and ca-key.pem (created 0700).", valueName: "dir"))
    var outDir: String

    @Option(help: ArgumentHelp("The CA's common name.", valueName: "name"))
    var name = "keyturn CA"

    @Option(help: ArgumentHelp("Validity in days.", valueName: "n"))
    var days = 3650

    func validate() throws {
        guard days > 0 else { throw ValidationError("--days must be positive") }
    }

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let directory = try OutputDirectory(outDir)
        let keyPath = SecretFiles.join(outDir, "ca-key.pem"), certPath = SecretFiles.join(outDir, "ca.pem")
        try SecretFiles.requireAbsent(keyPath)
        try SecretFiles.requireAbsent(certPath)
        let key: PrivateKey, cert: Certificate
        do throws(TLSMaterialError) {
            key = try PrivateKey.generateP256()
            cert = try Certificate.issue(CertificateRequest(commonName: name, days: days, isCA: true), key: key, issuer: nil)
        } catch { throw CLIError(error.reason) }
        try writeKeyAndCertificate(key: key, cert: cert, keyPath: keyPath, certPath: certPath, directory: directory)
        Terminal.stdoutLine(certPath)
        Terminal.stdoutLine(keyPath)
    }
}

/// `keyturn secure cert`.
struct SecureCert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Issue a server certificate NAME.pem and key NAME-key.pem (0600) from the CA in --ca-dir.")

    @Option(help: ArgumentHelp("Directory holding ca.pem and ca-key.pem.", valueName: "dir"))
    var caDir: String

    @Option(help: ArgumentHelp("Name of the files, and the certificate's common name.", valueName: "name"))
    var name: String

    @Option(parsing: .singleValue, help: ArgumentHelp("A DNS name the certificate is for (repeat, or comma-separated).", valueName: "name"))
    var dns: [String] = []

    @Option(parsing: .singleValue, help: ArgumentHelp("An IP address the certificate is for (repeat, or comma-separated).", valueName: "address"))
    var ip: [String] = []

    @Option(help: ArgumentHelp("Validity in days.", valueName: "n"))
    var days = 365

    @Option(help: ArgumentHelp("Directory for the certificate and key (default: the CA's).", valueName: "dir"))
    var outDir: String?

    @Flag(help: "Also allow the certificate as a TLS client (for mutual TLS).")
    var clientAuth = false

    var dnsNames: [String] { dns.flatMap { $0.split(separator: ",").map(String.init) } }
    var ipAddresses: [String] { ip.flatMap { $0.split(separator: ",").map(String.init) } }

    func validate() throws {
        guard days > 0 else { throw ValidationError("--days must be positive") }
        guard !name.isEmpty, !name.contains("/") else { throw ValidationError("--name must be a plain file name") }
        if dnsNames.isEmpty && ipAddresses.isEmpty && !clientAuth {
            throw ValidationError("a server certificate needs at least one --dns or --ip")
        }
        for address in ipAddresses {
            var v4 = in_addr(), v6 = in6_addr()
            guard inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1 else {
                throw ValidationError("'\(address)' is not an IP address")
            }
        }
    }

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let caCertPath = SecretFiles.join(caDir, "ca.pem"), caKeyPath = SecretFiles.join(caDir, "ca-key.pem")
        let caCertPEM = try readPEMFile(caCertPath), caKeyPEM = try readPEMFile(caKeyPath)
        let caCert: Certificate, caKey: PrivateKey
        do throws(TLSMaterialError) {
            caCert = try Certificate(pem: caCertPEM, name: caCertPath)
            caKey = try PrivateKey(pem: caKeyPEM, name: caKeyPath)
        } catch { throw CLIError(error.reason) }
        guard caCert.matches(caKey) else { throw CLIError("\(caDir)/ca-key.pem is not the key of \(caDir)/ca.pem") }
        let dir = outDir ?? caDir
        let directory = try OutputDirectory(dir)
        let keyPath = SecretFiles.join(dir, "\(name)-key.pem"), certPath = SecretFiles.join(dir, "\(name).pem")
        try SecretFiles.requireAbsent(keyPath)
        try SecretFiles.requireAbsent(certPath)
        let key: PrivateKey, cert: Certificate
        do throws(TLSMaterialError) {
            key = try PrivateKey.generateP256()
            cert = try Certificate.issue(
                CertificateRequest(commonName: name, dnsNames: dnsNames, ipAddresses: ipAddresses, days: days, clientAuth: clientAuth),
                key: key, issuer: (caCert, caKey))
        } catch { throw CLIError(error.reason) }
        try writeKeyAndCertificate(key: key, cert: cert, keyPath: keyPath, certPath: certPath, directory: directory)
        Terminal.stdoutLine(certPath)
        Terminal.stdoutLine(keyPath)
    }
}

/// `keyturn secure gossip`.
struct SecureGossip: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip", abstract: "Print a fresh 32-byte base64 key for Consul's gossip 'encrypt' setting.")

    func run() throws {
        var key = [UInt8](repeating: 0, count: 32)
        defer { secureZeroArray(&key) }
        do { try key.withUnsafeMutableBytes { try SecureRandom.fill($0) } } catch { throw CLIError("the random number generator failed") }
        Terminal.stdoutLine(Data(key).base64EncodedString())
    }
}
