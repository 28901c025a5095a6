import Foundation
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// The file-system rules for key and share files: created 0600, written completely under a
/// temporary name, fsynced, then linked into place so that an existing file is never
/// replaced; and inputs opened with errors that name the file.
package enum SecretFiles {
    /// The text of an errno value, lower-case, for one-line messages.
    package static func describe(_ code: Int32) -> String {
        let text = String(cString: strerror(code))
        return text.prefix(1).lowercased() + text.dropFirst()
    }

    /// Refuses a path that already exists (even as a dangling link).
    package static func requireAbsent(_ path: String) throws {
        var st = stat()
        if lstat(path, &st) == 0 {
            throw KeyturnError(
                "\(path) already exists",
                hint: "keyturn never overwrites a key or share file: move it away or choose another path")
        }
    }

    /// Joins a directory and a file name the way the user wrote the directory.
    package static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The directory part of a path, as written (`.` for a bare file name).
    package static func directory(of path: String) -> String {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return path.contains("/") ? parent : "."
    }

    /// Opens a file to read a secret or a share from; `-` is standard input.
    package static func openInput(_ path: String) throws -> Int32 {
        if path == "-" { return STDIN_FILENO }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw KeyturnError("\(path) does not exist") }
            throw KeyturnError("cannot read \(path): \(describe(code))")
        }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw KeyturnError("\(path) is a directory, not a file")
        }
        return fd
    }

    /// Reads until `buffer` is full or the input ends; returns the number of bytes read.
    package static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, name: String) throws -> Int {
        var total = 0
        while total < buffer.count {
            let n = read(fd, buffer.baseAddress! + total, buffer.count - total)
            if n < 0 {
                if errno == EINTR { continue }
                throw KeyturnError("cannot read \(name): \(describe(errno))")
            }
            if n == 0 { break }
            total += n
        }
        return total
    }

    /// Reads exactly `buffer.count` bytes at `offset`, or fails naming the file.
    package static func readExactly(
        _ fd: Int32, at offset: Int, into buffer: UnsafeMutableRawBufferPointer, name: String
    ) throws {
        var total = 0
        while total < buffer.count {
            let n = pread(fd, buffer.baseAddress! + total, buffer.count - total, off_t(offset + total))
            if n < 0 {
                if errno == EINTR { continue }
                throw KeyturnError("cannot read \(name): \(describe(errno))")
            }
            if n == 0 { throw KeyturnError("\(name) changed while it was being read") }
            total += n
        }
    }

    /// Writes all of `bytes` to a file descriptor; false on failure (e.g. a closed pipe).
    @discardableResult
    package static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            p += n
            left -= n
        }
        return true
    }

    /// Flushes a directory's entries to disk, so a linked file survives a crash.
    package static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}

/// A directory for output files: checked before anything is read, created (0700, with its
/// parents) only when there is something to write, and removed again if the command fails
/// before a file appeared in it.
package final class OutputDirectory {
    /// The directory as the user named it.
    package let path: String
    private let exists: Bool
    private var created = false

    /// Checks that `path` is, or can become, a directory keyturn can write into.
    package init(_ path: String) throws {
        self.path = path
        var st = stat()
        if stat(path, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw KeyturnError("\(path) is not a directory") }
            guard access(path, W_OK | X_OK) == 0 else {
                throw KeyturnError("cannot write to directory \(path): \(SecretFiles.describe(errno))")
            }
            exists = true
        } else {
            // The nearest existing ancestor must let us create the rest.
            var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
            while stat(ancestor.path, &st) != 0, ancestor.path != "/" { ancestor.deleteLastPathComponent() }
            guard (st.st_mode & S_IFMT) == S_IFDIR, access(ancestor.path, W_OK | X_OK) == 0 else {
                throw KeyturnError("cannot create directory \(path): \(ancestor.path) is not a writable directory")
            }
            exists = false
        }
    }

    /// Creates the directory if it does not exist yet.
    package func create() throws {
        guard !exists, !created else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw KeyturnError("cannot create directory \(path)")
        }
        created = true
    }

    /// Removes the directory if this run created it and it is still empty.
    package func removeIfUnused() {
        if created { rmdir(path) }
        created = false
    }

    /// Keeps the directory: the command succeeded.
    package func keep() { created = false }

    deinit { removeIfUnused() }
}

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
            throw KeyturnError("cannot create \(path): \(SecretFiles.describe(errno))")
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
            throw KeyturnError("cannot write \(path): \(SecretFiles.describe(errno))")
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
        guard fsync(fd) == 0 else { throw KeyturnError("cannot write \(path): \(SecretFiles.describe(errno))") }
        close(fd)
        fd = -1
        if link(temporaryPath, path) != 0 {
            let code = errno
            if code == EEXIST {
                throw KeyturnError(
                    "\(path) already exists",
                    hint: "another program created it while keyturn was writing; nothing was overwritten")
            }
            throw KeyturnError("cannot create \(path): \(SecretFiles.describe(code))")
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

/// Publishes several pending files all together or not at all.
package enum FileBatch {
    /// Publishes every file; if one fails, the ones already published are removed again.
    package static func publish(_ files: [PendingFile], directory: String) throws {
        for (i, file) in files.enumerated() {
            do { try file.publish() } catch {
                for done in files[..<i] { done.withdraw() }
                throw error
            }
        }
        SecretFiles.syncDirectory(directory)
    }
}
