import Foundation
import KeyturnFailure
import TLSMaterial

#if canImport(Glibc)
    import Glibc
#endif

/// The ceremony transcript (`--transcript FILE`): one JSON object per line, appended to a
/// file that only its owner can read, for the auditor and the change ticket. What happened at
/// which node, when, with which operator key and which share file; never a secret: shares,
/// OTPs and tokens have no field here, and errors are keyturn's own messages, which never hold
/// one either.
package final class Transcript: @unchecked Sendable {
    /// One event.
    package struct Entry: Encodable, Sendable {
        package var time: String
        package var version: String
        /// "unseal", "rekey submit", ...
        package var command: String
        /// The node's address, for an event at one node.
        package var node: String?
        /// "accepted", "unsealed", "started", "completed", "failed", ...
        package var result: String
        /// "2/3": shares counted so far and the threshold.
        package var progress: String?
        package var nonce: String?
        /// The fingerprint of the operator's PGP key, where the ceremony record names it.
        package var keyFingerprint: String?
        /// SHA-256 of the share file as it is on disk (an encrypted file, or a plaintext one).
        package var shareFileSHA256: String?
        package var error: String?

        package init(
            command: String, node: String? = nil, result: String, progress: String? = nil, nonce: String? = nil,
            keyFingerprint: String? = nil, shareFileSHA256: String? = nil, error: String? = nil
        ) {
            self.time = ISO8601DateFormatter().string(from: Date())
            self.version = ""
            self.command = command
            self.node = node
            self.result = result
            self.progress = progress
            self.nonce = nonce
            self.keyFingerprint = keyFingerprint
            self.shareFileSHA256 = shareFileSHA256
            self.error = error
        }

        enum CodingKeys: String, CodingKey {
            case time, version, command, node, result, progress, nonce, error
            case keyFingerprint = "key_fingerprint", shareFileSHA256 = "share_file_sha256"
        }
    }

    private let fd: Int32
    private let path: String
    private let version: String
    private let lock = NSLock()

    /// Opens (or creates, 0600) the transcript for appending. An existing file must be a
    /// regular file that group and others cannot read.
    package init(path: String, version: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw CeremonyError("cannot open the transcript \(quoted(path)): \(SecretFiles.describe(errno))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw CeremonyError("the transcript \(quoted(path)) is not a regular file")
        }
        if st.st_mode & 0o077 != 0 {
            close(fd)
            throw CeremonyError(
                "the transcript \(quoted(path)) is readable by group or others", code: .notPrivate,
                facts: ["path": path])
        }
        self.fd = fd
        self.path = path
        self.version = version
    }

    deinit { close(fd) }

    /// Appends one line (a single write, so lines of concurrent writers do not interleave).
    package func record(_ entry: Entry) {
        var e = entry
        e.version = version
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var line = try? encoder.encode(e) else { return }
        line.append(0x0a)
        lock.lock()
        defer { lock.unlock() }
        _ = line.withUnsafeBytes { SecretFiles.writeAll(fd, $0) }
    }

    /// SHA-256 of a share file as it is on disk, or nil for standard input and the terminal.
    package static func fileDigest(_ path: String?) -> String? {
        guard let path, path != "-", let data = FileManager.default.contents(atPath: path) else { return nil }
        return Digest.sha256Hex([UInt8](data))
    }
}
