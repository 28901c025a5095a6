import Foundation
import PGPShares

/// The files of generate-root: the one-time pad (start), the encoded token or
/// root-token.asc (the completing submit). Each is given by the server once, so its place is
/// checked before the request that returns it.
package enum GenerateRootFiles {
    package static let otpName = "generate-root.otp"
    package static let encodedName = "generate-root.encoded"
    package static let pgpName = "root-token.asc"

    /// A file checked before the request whose answer it will hold: its directory can be made
    /// or written, and the file does not exist.
    package struct Place {
        package let path: String
        private let directory: OutputDirectory

        package init(_ path: String) throws {
            self.path = path
            directory = try OutputDirectory(SecretFiles.directory(of: path))
            try SecretFiles.requireAbsent(path)
        }

        /// Creates the directory (0700) if needed, and the pending file.
        package func prepare() throws -> PendingFile {
            try directory.create()
            return try PendingFile(path: path)
        }

        /// Writes `text` into the prepared file and publishes it (0600).
        package func write(_ text: [UInt8], into file: PendingFile) throws {
            try text.withUnsafeBytes { try file.write($0) }
            try FileBatch.publish([file], directory: directory.path)
            directory.keep()
        }
    }

    /// The completed generation's file contents: the token encrypted to the PGP key, armoured,
    /// or the encoded token (harmless without the pad) on one line. Nil when a PGP-encrypted
    /// token is not base64.
    package static func tokenText(encoded: String, pgp: Bool) -> [UInt8]? {
        guard pgp else { return Array((encoded + "\n").utf8) }
        guard let binary = Data(base64Encoded: encoded) else { return nil }
        return Array(Armor.encode([UInt8](binary)).utf8)
    }
}
