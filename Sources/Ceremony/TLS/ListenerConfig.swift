import Foundation
import KeyturnFailure
import TLSMaterial
import VaultClient

/// The listener settings that use a checked certificate and key: Vault's `listener "tcp"`
/// stanza (HCL, `vault-listener.hcl`, 0644) and Consul's TLS and gossip settings (JSON,
/// `consul-tls.json`, 0600: it may hold the gossip key).
package struct ListenerConfig {
    package let certificate: String
    package let key: String
    package let ca: String
    package let gossipKey: String?

    /// Checks that the key is the certificate's, that the certificate chains to the CA, and
    /// that the gossip key file holds a 32-byte base64 key.
    package init(certificate: String, key: String, ca: String, gossipKeyFile: String?) throws {
        let cert = try PEMFiles.certificate(certificate)
        let privateKey = try PEMFiles.privateKey(key)
        let authority = try PEMFiles.certificate(ca)
        guard cert.matches(privateKey) else {
            throw CeremonyError(
                "\(quoted(key)) is not the private key of \(quoted(certificate))", code: .keyMismatch,
                facts: ["path": key])
        }
        do throws(TLSMaterialError) { try cert.verify(against: authority) } catch {
            throw CeremonyError("\(quoted(certificate)) does not chain to \(quoted(ca)): \(error.reason)")
        }
        if let gossipKeyFile {
            let text = String(decoding: try PEMFiles.read(gossipKeyFile), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            guard let raw = Data(base64Encoded: text), raw.count == 32 else {
                throw CeremonyError(
                    "\(quoted(gossipKeyFile)) does not hold a 32-byte base64 gossip key", code: .notGossipKey,
                    facts: ["path": gossipKeyFile])
            }
            gossipKey = text
        } else {
            gossipKey = nil
        }
        self.certificate = certificate
        self.key = key
        self.ca = ca
    }

    /// Vault's listener stanza, naming the files by absolute path.
    package var hcl: String {
        """
        listener "tcp" {
          address = "0.0.0.0:8200"
          tls_cert_file = "\(Self.absolute(certificate))"
          tls_key_file = "\(Self.absolute(key))"
          tls_client_ca_file = "\(Self.absolute(ca))"
          tls_min_version = "tls12"
        }

        """
    }

    /// Consul's TLS settings (and gossip key), as a JSON document.
    package var consul: JSONValue {
        var consul: [String: JSONValue] = [
            "tls": .object([
                "defaults": .object([
                    "ca_file": .string(Self.absolute(ca)), "cert_file": .string(Self.absolute(certificate)),
                    "key_file": .string(Self.absolute(key)),
                    "verify_incoming": .bool(true), "verify_outgoing": .bool(true),
                ]),
                "internal_rpc": .object(["verify_server_hostname": .bool(true)]),
            ])
        ]
        if let gossipKey { consul["encrypt"] = .string(gossipKey) }
        return .object(consul)
    }

    /// Writes both files into `outDir`, never overwriting; returns their paths.
    package func write(into outDir: String) throws -> (hcl: String, json: String) {
        let directory = try OutputDirectory(outDir)
        let hclPath = SecretFiles.join(outDir, "vault-listener.hcl")
        let jsonPath = SecretFiles.join(outDir, "consul-tls.json")
        try SecretFiles.requireAbsent(hclPath)
        try SecretFiles.requireAbsent(jsonPath)
        let json = Array(try CeremonyRecord.json(consul)) + [0x0a]
        try directory.create()
        let hclFile = try PendingFile(path: hclPath, mode: 0o644)
        try Array(hcl.utf8).withUnsafeBytes { try hclFile.write($0) }
        // The Consul file holds the gossip key: 0600.
        let jsonFile = try PendingFile(path: jsonPath)
        try json.withUnsafeBytes { try jsonFile.write($0) }
        try FileBatch.publish([hclFile, jsonFile], directory: outDir)
        directory.keep()
        return (hclPath, jsonPath)
    }

    private static func absolute(_ p: String) -> String { URL(fileURLWithPath: p).standardizedFileURL.path }
}
