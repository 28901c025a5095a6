import Foundation
import KeyturnFailure
import TLSMaterial

/// PEM files read and written for `secure`: keys 0600, certificates 0644, published together.
package enum PEMFiles {
    /// Reads a PEM file, naming it in errors.
    package static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CeremonyError("\(quoted(path)) does not exist")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CeremonyError("cannot read \(quoted(path))")
        }
        return [UInt8](data)
    }

    /// Reads and parses a certificate.
    package static func certificate(_ path: String) throws -> Certificate {
        let pem = try read(path)
        return try Certificate(pem: pem, name: quoted(path))
    }

    /// Reads and parses a private key.
    package static func privateKey(_ path: String) throws -> PrivateKey {
        let pem = try read(path)
        return try PrivateKey(pem: pem, name: quoted(path))
    }

    /// Writes a key (0600) and its certificate (0644) together, never overwriting.
    package static func writeKeyAndCertificate(
        key: PrivateKey, cert: Certificate, keyPath: String, certPath: String, directory: OutputDirectory
    ) throws {
        let keyPEM = try key.pem(), certPEM = try cert.pem()
        try directory.create()
        let keyFile = try PendingFile(path: keyPath)
        try keyPEM.withUnsafeBytes { try keyFile.write($0) }
        let certFile = try PendingFile(path: certPath, mode: 0o644)
        try certPEM.withUnsafeBytes { try certFile.write($0) }
        try FileBatch.publish([keyFile, certFile], directory: directory.path)
        directory.keep()
    }
}
