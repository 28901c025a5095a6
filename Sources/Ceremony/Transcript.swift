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
        /// SHA-256 (hex) of the file's previous line; "" on its first line. Set when written.
        package var prev: String?

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
            case time, version, command, node, result, progress, nonce, error, prev
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
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else {
            throw CeremonyError("cannot open the transcript \(quoted(path)): \(SecretFiles.describe(errno))")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            Glibc.close(fd)
            throw CeremonyError("the transcript \(quoted(path)) is not a regular file")
        }
        if st.st_mode & 0o077 != 0 {
            Glibc.close(fd)
            throw CeremonyError(
                "the transcript \(quoted(path)) is readable by group or others", code: .notPrivate,
                facts: ["path": path])
        }
        self.fd = fd
        self.path = path
        self.version = version
    }

    deinit { Glibc.close(fd) }

    /// The lines this process wrote, for the command's signature, and their SHA-256s.
    private var written: [UInt8] = []
    private var writtenHashes: [String] = []

    /// Appends one line, chained to the file's last line (`prev`), under an exclusive lock on
    /// the file, with a single write, so lines of concurrent writers neither interleave nor
    /// break the chain.
    package func record(_ entry: Entry) {
        var e = entry
        e.version = version
        lock.lock()
        defer { lock.unlock() }
        append { prev in
            e.prev = prev
            return try? Self.encoder.encode(e)
        }
    }

    /// What closes a command's lines: the SHA-256 of each line it covers and, when the
    /// operator's key signed them, the detached signature over those lines (each with its
    /// newline, in order) and the key's fingerprint; else why there is none.
    package struct Close: Encodable, Sendable {
        package var close: String
        package var time: String
        package var version: String
        package var lines: [String]
        package var signer: String?
        package var signature: String?
        package var unsigned: String?
        package var prev: String?

        enum CodingKeys: String, CodingKey {
            case close, time, version, signer, signature, unsigned, prev
            case lines = "line_sha256"
        }
    }

    /// The bytes of the lines this process wrote (what the command's signature covers).
    package var signedBytes: [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        return written
    }

    /// Ends the command's lines with a close line: signed by `signer` (a fingerprint and the
    /// armoured signature over `signedBytes`), or unsigned for `unsignedReason`. Nothing when
    /// the command wrote no line.
    package func close(command: String, signer: (fingerprint: String, signature: String)?, unsignedReason: String?) {
        lock.lock()
        defer { lock.unlock() }
        guard !writtenHashes.isEmpty else { return }
        var c = Close(
            close: command, time: ISO8601DateFormatter().string(from: Date()), version: version, lines: writtenHashes,
            signer: signer?.fingerprint, signature: signer?.signature, unsigned: signer == nil ? unsignedReason : nil)
        append { prev in
            c.prev = prev
            return try? Self.encoder.encode(c)
        }
        written = []
        writtenHashes = []
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Under the file lock: reads the last line's hash, encodes the new line with it, appends.
    private func append(_ encode: (String) -> Data?) {
        _ = flock(fd, LOCK_EX)
        defer { _ = flock(fd, LOCK_UN) }
        guard var line = encode(Self.lastLineHash(fd)) else { return }
        let hash = Digest.sha256Hex([UInt8](line))
        line.append(0x0a)
        if line.withUnsafeBytes({ SecretFiles.writeAll(fd, $0) }) {
            written += line
            writtenHashes.append(hash)
        }
    }

    /// SHA-256 (hex) of the file's last line, without its newline; "" for an empty file.
    static func lastLineHash(_ fd: Int32) -> String {
        let size = Int(lseek(fd, 0, SEEK_END))
        guard size > 0 else { return "" }
        let window = min(size, 1 << 16)
        var tail = [UInt8](repeating: 0, count: window)
        let got = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, window, off_t(size - window)) }
        guard got == window else { return "" }
        var end = tail.count
        if tail.last == 0x0a { end -= 1 }
        let start = tail[0..<end].lastIndex(of: 0x0a).map { $0 + 1 } ?? 0
        return Digest.sha256Hex(Array(tail[start..<end]))
    }

    /// SHA-256 of a share file as it is on disk, or nil for standard input and the terminal.
    package static func fileDigest(_ path: String?) -> String? {
        guard let path, path != "-", let data = FileManager.default.contents(atPath: path) else { return nil }
        return Digest.sha256Hex([UInt8](data))
    }
}
