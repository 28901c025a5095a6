import ArgumentParser
import Ceremony
import Foundation
import PGPShares
import Shamir
import TLSMaterial
import VaultClient

/// `keyturn secure`: the TLS side of the ceremony.
struct Secure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the TLS material a cluster's listener serves: a private CA, certificates, a gossip key.",
        subcommands: [SecureCA.self, SecureCert.self, SecureGossip.self, SecureConfig.self, SecureCheck.self])
}

/// Reads a PEM file, naming it in errors.
func readPEMFile(_ path: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else { throw KeyturnError("\(path) does not exist") }
    guard let data = FileManager.default.contents(atPath: path) else { throw KeyturnError("cannot read \(path)") }
    return [UInt8](data)
}

/// Writes a key (0600) and its certificate (0644) together, never overwriting.
func writeKeyAndCertificate(
    key: PrivateKey, cert: Certificate, keyPath: String, certPath: String, directory: OutputDirectory
) throws {
    let keyPEM: [UInt8], certPEM: [UInt8]
    do throws(TLSMaterialError) { keyPEM = try key.pem(); certPEM = try cert.pem() } catch {
        throw KeyturnError(error.reason)
    }
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

    @Option(
        name: .customLong("split-to"), parsing: .singleValue,
        help: ArgumentHelp(
            "Escrow: split the CA's private key among these operators' PGP keys (as keyturn split does) instead of "
                + "writing ca-key.pem.",
            valueName: "files"))
    var splitTo: [String] = []

    @Option(help: ArgumentHelp("With --split-to: how many operators recombine the key.", valueName: "k"))
    var threshold: Int?

    var escrowKeys: [String] { splitTo.flatMap { $0.split(separator: ",").map(String.init) } }

    func validate() throws {
        guard days > 0 else { throw ValidationError("--days must be positive") }
        if !escrowKeys.isEmpty {
            guard let threshold else { throw ValidationError("--split-to needs --threshold") }
            do throws(ShamirError) { try Shamir.validate(shares: escrowKeys.count, threshold: threshold) } catch {
                throw ValidationError(error.reason)
            }
        } else if threshold != nil {
            throw ValidationError("--threshold goes with --split-to")
        }
    }

    func run() throws {
        SecretHygiene.disableCoreDumps()
        let directory = try OutputDirectory(outDir)
        let keyPath = SecretFiles.join(outDir, "ca-key.pem"), certPath = SecretFiles.join(outDir, "ca.pem")
        try SecretFiles.requireAbsent(keyPath)
        try SecretFiles.requireAbsent(certPath)
        let operators = try OperatorKey.inspect(escrowKeys)
        let sharePaths = escrowKeys.map {
            SecretFiles.join(outDir, URL(fileURLWithPath: $0).lastPathComponent + ".share")
        }
        for p in sharePaths { try SecretFiles.requireAbsent(p) }
        let key: PrivateKey, cert: Certificate
        do throws(TLSMaterialError) {
            key = try PrivateKey.generateP256()
            cert = try Certificate.issue(
                CertificateRequest(commonName: name, days: days, isCA: true), key: key, issuer: nil)
        } catch { throw KeyturnError(error.reason) }
        guard let threshold, !operators.isEmpty else {
            try writeKeyAndCertificate(key: key, cert: cert, keyPath: keyPath, certPath: certPath, directory: directory)
            Terminal.stdoutLine(certPath)
            Terminal.stdoutLine(keyPath)
            return
        }
        // Escrow: the key never touches the disk; a quorum of operators holds it.
        var keyPEM: [UInt8], certPEM: [UInt8]
        do throws(TLSMaterialError) { keyPEM = try key.pem(); certPEM = try cert.pem() } catch {
            throw KeyturnError(error.reason)
        }
        defer { secureZeroArray(&keyPEM) }
        var shares: [[UInt8]]
        do throws(ShamirError) {
            shares = try Shamir.split(keyPEM, shares: operators.count, threshold: threshold, random: OpenSSLRandom())
        } catch {
            throw KeyturnError(error.reason)
        }
        defer { for i in shares.indices { secureZeroArray(&shares[i]) } }
        try directory.create()
        let scratch = try ScratchGnuPGHome()
        var pending: [PendingFile] = []
        for (i, op) in operators.enumerated() {
            var text = ShareFileText.line(shares[i])
            defer { secureZeroArray(&text) }
            let armoured: [UInt8]
            do {
                armoured = try text.withUnsafeBytes {
                    try PGPShares.encrypt($0, to: op.info, scratchHome: scratch.path)
                }
            } catch {
                throw KeyturnError(
                    "cannot encrypt the share for \(op.file): \((error as? PGPError)?.reason ?? "\(error)")")
            }
            let file = try PendingFile(path: sharePaths[i])
            try armoured.withUnsafeBytes { try file.write($0) }
            pending.append(file)
        }
        let certFile = try PendingFile(path: certPath, mode: 0o644)
        try certPEM.withUnsafeBytes { try certFile.write($0) }
        pending.append(certFile)
        try FileBatch.publish(pending, directory: outDir)
        directory.keep()
        Terminal.stdoutLine(certPath)
        for p in sharePaths { Terminal.stdoutLine(p) }
        Terminal.stderrLine(
            "keyturn: the CA key is split among \(operators.count) operators (any \(threshold) recombine it with "
                + "keyturn combine); no ca-key.pem was written"
        )
    }
}

/// `keyturn secure cert`.
struct SecureCert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Issue a server certificate NAME.pem and key NAME-key.pem (0600) from the CA in --ca-dir.")

    @Option(help: ArgumentHelp("Directory holding ca.pem and ca-key.pem.", valueName: "dir"))
    var caDir: String

    @Option(help: ArgumentHelp("Name of the files, and the certificate's common name.", valueName: "name"))
    var name: String

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp("A DNS name the certificate is for (repeat, or comma-separated).", valueName: "name"))
    var dns: [String] = []

    @Option(
        parsing: .singleValue,
        help: ArgumentHelp("An IP address the certificate is for (repeat, or comma-separated).", valueName: "address"))
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
        } catch { throw KeyturnError(error.reason) }
        guard caCert.matches(caKey) else { throw KeyturnError("\(caDir)/ca-key.pem is not the key of \(caDir)/ca.pem") }
        let dir = outDir ?? caDir
        let directory = try OutputDirectory(dir)
        let keyPath = SecretFiles.join(dir, "\(name)-key.pem"), certPath = SecretFiles.join(dir, "\(name).pem")
        try SecretFiles.requireAbsent(keyPath)
        try SecretFiles.requireAbsent(certPath)
        let key: PrivateKey, cert: Certificate
        do throws(TLSMaterialError) {
            key = try PrivateKey.generateP256()
            cert = try Certificate.issue(
                CertificateRequest(
                    commonName: name, dnsNames: dnsNames, ipAddresses: ipAddresses, days: days, clientAuth: clientAuth),
                key: key, issuer: (caCert, caKey))
        } catch { throw KeyturnError(error.reason) }
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
        do { try key.withUnsafeMutableBytes { try SecureRandom.fill($0) } } catch {
            throw KeyturnError("the random number generator failed")
        }
        Terminal.stdoutLine(Data(key).base64EncodedString())
    }
}

/// `keyturn secure check`: what each node's listener serves, and whether it will do for long.
struct SecureCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the certificate each node serves: chain, name and expiry (exit 2 on a problem, for cron).",
        discussion: """
            Connects to every node, verifies the certificate it serves against --ca-cert (or \
            the system's CAs) and the name, and prints subject, SANs, issuer and expiry. Exit 2 \
            if verification fails or a certificate expires within --warn-days; 1 if a node \
            cannot be reached.
            """)

    @OptionGroup(title: "Connection options") var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Warn (exit 2) when a certificate expires within this many days.", valueName: "days"))
    var warnDays = 30

    func run() async throws {
        let conn = try connection.resolve()
        var rows: [[String]] = [], documents: [JSONValue] = [], status = ExitStatus.success
        var problems: [KeyturnError] = []
        for client in conn.clients {
            var doc: [String: JSONValue] = ["address": .string(client.address)]
            do {
                let served = try await client.servedCertificate()
                let cert = try Certificate(
                    pem: Array(served.leafPEM.utf8), name: "the certificate of \(client.address)")
                let daysLeft = Int(cert.notAfter.timeIntervalSinceNow / 86400)
                var problem: String?
                if let e = served.verificationError {
                    problem = Output.shortReason(e.reason, address: client.address)
                    problems.append(KeyturnError(e.reason, hint: e.hint))
                } else if daysLeft < warnDays {
                    problem = cert.notAfter < Date() ? "expired" : "expires in \(daysLeft) days (within \(warnDays))"
                    problems.append(
                        KeyturnError(
                            "\(client.address)'s certificate \(problem!)", hint: "renew it: keyturn secure cert ..."))
                }
                if problem != nil, status == .success { status = .serverFailure }
                let expiry = ISO8601DateFormatter().string(from: cert.notAfter)
                rows.append([
                    client.address, cert.subject, cert.subjectAltNames.joined(separator: " "), cert.issuer, expiry,
                    problem ?? "ok",
                ])
                doc.merge([
                    "subject": .string(cert.subject), "sans": .array(cert.subjectAltNames.map(JSONValue.string)),
                    "issuer": .string(cert.issuer), "serial": .string(cert.serial),
                    "not_before": .string(ISO8601DateFormatter().string(from: cert.notBefore)),
                    "not_after": .string(expiry), "days_left": .number(Double(daysLeft)),
                    "verified": .bool(served.verificationError == nil),
                    "error": problem.map(JSONValue.string) ?? .null,
                ]) { $1 }
            } catch {
                let reason = (error as? VaultError)?.reason ?? (error as? TLSMaterialError)?.reason ?? "\(error)"
                rows.append([client.address, "-", "-", "-", "-", Output.shortReason(reason, address: client.address)])
                doc["error"] = .string(reason)
                problems.append(KeyturnError(reason, hint: (error as? VaultError)?.hint))
                status = .localFailure
            }
            documents.append(.object(doc))
        }
        if conn.format == .json {
            Terminal.stdoutLine(Output.nodesDocument(documents))
        } else {
            Terminal.stdoutLine(Output.table(["ADDRESS", "SUBJECT", "SANS", "ISSUER", "NOT AFTER", "STATUS"], rows))
            problems.forEach(Terminal.report)
        }
        throw ExitCode(status.rawValue)
    }
}

/// `keyturn secure config`: the listener settings that use a checked certificate and key.
struct SecureConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract:
            "Check that a key, certificate and CA belong together, then write Vault's listener stanza and Consul's "
            + "TLS settings."
    )

    @Option(help: ArgumentHelp("The server certificate (PEM).", valueName: "file"))
    var tlsCert: String

    @Option(help: ArgumentHelp("Its private key (PEM).", valueName: "file"))
    var tlsKey: String

    @Option(help: ArgumentHelp("The CA that signed it (PEM).", valueName: "file"))
    var caCert: String

    @Option(help: ArgumentHelp("A file holding Consul's gossip key (from keyturn secure gossip).", valueName: "file"))
    var gossipKey: String?

    @Option(help: ArgumentHelp("Directory for vault-listener.hcl and consul-tls.json.", valueName: "dir"))
    var outDir: String

    func run() throws {
        let certPEM = try readPEMFile(tlsCert), keyPEM = try readPEMFile(tlsKey), caPEM = try readPEMFile(caCert)
        let cert: Certificate, key: PrivateKey, ca: Certificate
        do throws(TLSMaterialError) {
            cert = try Certificate(pem: certPEM, name: tlsCert)
            key = try PrivateKey(pem: keyPEM, name: tlsKey)
            ca = try Certificate(pem: caPEM, name: caCert)
        } catch { throw KeyturnError(error.reason) }
        guard cert.matches(key) else {
            throw KeyturnError(
                "\(tlsKey) is not the private key of \(tlsCert)",
                hint: "pass the key that was made with this certificate")
        }
        do throws(TLSMaterialError) { try cert.verify(against: ca) } catch {
            throw KeyturnError("\(tlsCert) does not chain to \(caCert): \(error.reason)")
        }
        var gossip: String?
        if let gossipKey {
            let text = String(decoding: try readPEMFile(gossipKey), as: UTF8.self).trimmingCharacters(
                in: .whitespacesAndNewlines)
            guard let raw = Data(base64Encoded: text), raw.count == 32 else {
                throw KeyturnError(
                    "\(gossipKey) does not hold a 32-byte base64 gossip key",
                    hint: "make one with keyturn secure gossip")
            }
            gossip = text
        }
        let directory = try OutputDirectory(outDir)
        let hclPath = SecretFiles.join(outDir, "vault-listener.hcl"),
            jsonPath = SecretFiles.join(outDir, "consul-tls.json")
        try SecretFiles.requireAbsent(hclPath)
        try SecretFiles.requireAbsent(jsonPath)
        func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
        let hcl = """
            listener "tcp" {
              address = "0.0.0.0:8200"
              tls_cert_file = "\(absolute(tlsCert))"
              tls_key_file = "\(absolute(tlsKey))"
              tls_client_ca_file = "\(absolute(caCert))"
              tls_min_version = "tls12"
            }

            """
        var consul: [String: JSONValue] = [
            "tls": .object([
                "defaults": .object([
                    "ca_file": .string(absolute(caCert)), "cert_file": .string(absolute(tlsCert)),
                    "key_file": .string(absolute(tlsKey)),
                    "verify_incoming": .bool(true), "verify_outgoing": .bool(true),
                ]),
                "internal_rpc": .object(["verify_server_hostname": .bool(true)]),
            ])
        ]
        if let gossip { consul["encrypt"] = .string(gossip) }
        let json = Array(try Output.json(JSONValue.object(consul))) + [0x0a]
        try directory.create()
        let hclFile = try PendingFile(path: hclPath, mode: 0o644)
        try Array(hcl.utf8).withUnsafeBytes { try hclFile.write($0) }
        // The Consul file holds the gossip key: 0600.
        let jsonFile = try PendingFile(path: jsonPath)
        try json.withUnsafeBytes { try jsonFile.write($0) }
        try FileBatch.publish([hclFile, jsonFile], directory: outDir)
        directory.keep()
        Terminal.stdoutLine(hclPath)
        Terminal.stdoutLine(jsonPath)
    }
}
