import Foundation
import KeyturnFailure
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// A file written under a temporary name beside its final path, that appears there only when
/// complete. Discarded (its temporary removed) unless published.
package final class PendingFile {
    /// Where the file appears when published.
    package let path: String
    private let temporaryPath: String
    private var fd: Int32
    private var published = false

    /// Creates the temporary file (0600 unless `mode` says otherwise, for public material such
    /// as a certificate; exclusive). Fails if `path` already exists.
    package init(path: String, mode: mode_t = 0o600) throws {
        try SecretFiles.requireAbsent(path)
        var tag = [UInt8](repeating: 0, count: 6)
        try? tag.withUnsafeMutableBytes { try SystemRandom().fill($0) }
        let name = URL(fileURLWithPath: path).lastPathComponent
        temporaryPath = SecretFiles.join(SecretFiles.directory(of: path), ".\(name).\(ShareHex.encode(tag)).tmp")
        self.path = path
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CeremonyError("cannot create \(quoted(path)): \(SecretFiles.describe(errno))")
        }
        // The umask cannot widen 0600, but make the mode explicit regardless.
        _ = fchmod(fd, mode)
    }

    /// Bytes written so far, and how many of them were handed to writeback.
    private var written = 0
    private var flushed = 0

    /// Appends bytes. Past every 1 MiB, the disk starts writing what came before, so that a
    /// large file (a split of a 64 MiB secret) reaches the disk while the rest is computed
    /// and `publish`'s fsync waits for the tail only.
    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard SecretFiles.writeAll(fd, bytes) else {
            throw CeremonyError("cannot write \(quoted(path)): \(SecretFiles.describe(errno))")
        }
        written += bytes.count
        if written - flushed >= 1 << 20 {
            ProcessHygiene.startWriteback(fd: fd, offset: flushed, count: written - flushed)
            flushed = written
        }
    }

    /// Flushes the data to disk, closes it, and links it to its final name without replacing
    /// anything already there.
    package func publish() throws {
        guard fsync(fd) == 0 else {
            throw CeremonyError("cannot write \(quoted(path)): \(SecretFiles.describe(errno))")
        }
        close(fd)
        fd = -1
        if link(temporaryPath, path) != 0 {
            let code = errno
            if code == EEXIST {
                throw CeremonyError(
                    "\(quoted(path)) already exists", code: .fileRaced, facts: ["path": path])
            }
            throw CeremonyError("cannot create \(quoted(path)): \(SecretFiles.describe(code))")
        }
        published = true
        unlink(temporaryPath)
    }

    /// Removes the published file again (used when a later file of the same batch fails).
    package func withdraw() {
        if published { unlink(path) }
        published = false
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !published { unlink(temporaryPath) }
    }
}

extension SecretFiles {
    /// Writes a small file whole (0600 unless `mode` says otherwise), atomically and never over an
    /// existing one: written under a temporary name, fsynced, then linked into place.
    package static func writeNew(_ path: String, contents: [UInt8], mode: mode_t = 0o600) throws {
        let file = try PendingFile(path: path, mode: mode)
        try contents.withUnsafeBytes { try file.write($0) }
        try file.publish()
    }
}
