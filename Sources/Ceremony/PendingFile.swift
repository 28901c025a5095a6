import Foundation
import KeyturnFailure
import ProcessHygiene
import Shamir
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A file that appears under its final name only when complete, and under no name before:
/// written into an unnamed file (Linux `O_TMPFILE`) in its directory, fsynced, then linked into
/// place (`linkat`) without replacing anything. A signal, even SIGKILL, in the middle leaves
/// nothing behind: the kernel frees an unnamed file with its last descriptor. Where the file
/// system has no `O_TMPFILE`, a hidden temporary name stands in (removed when discarded).
/// Every name is resolved in the directory opened once (`OutputDirectories`), so a directory
/// swapped for a symbolic link mid-way cannot redirect a file.
package final class PendingFile {
    /// Where the file appears when published.
    package let path: String
    private let name: String
    private let directory: Int32
    /// The fallback's temporary name, when the file system has no O_TMPFILE, and its slot in
    /// the names a signal handler removes.
    private let temporaryName: String?
    private var temporarySlot: Int32 = -1

    private var fd: Int32
    private var published = false

    /// Creates the unnamed file (0600 unless `mode` says otherwise, for public material such
    /// as a certificate). Fails if `path` already exists.
    /// `unnamed: false` takes the fallback (tests: every file system here has O_TMPFILE).
    package init(path: String, mode: mode_t = 0o600, unnamed: Bool = true) throws {
        self.path = path
        name = URL(fileURLWithPath: path).lastPathComponent
        directory = try OutputDirectories.open(SecretFiles.directory(of: path))
        var st = stat()
        if fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 {
            throw CeremonyError("\(quoted(path)) already exists", code: .fileExists, facts: ["path": path])
        }
        fd = unnamed ? openat(directory, ".", Self.unnamed | O_WRONLY | O_CLOEXEC, mode) : -1
        if fd >= 0 {
            temporaryName = nil
        } else if !unnamed || [EOPNOTSUPP, EISDIR, EINVAL].contains(errno) {
            var tag = [UInt8](repeating: 0, count: 6)
            try? tag.withUnsafeMutableBytes { try SystemRandom().fill($0) }
            let temporary = ".\(name).\(ShareHex.encode(tag)).tmp"
            temporaryName = temporary
            fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 { temporarySlot = ProcessHygiene.registerTemporary(directory: directory, name: temporary) }
        } else {
            temporaryName = nil
        }
        guard fd >= 0 else {
            throw CeremonyError("cannot create \(quoted(path)): \(SecretFiles.describe(errno))")
        }
        // The umask cannot widen 0600, but make the mode explicit regardless.
        _ = fchmod(fd, mode)
    }

    /// `O_TMPFILE` (Glibc's macro is not imported: `__O_TMPFILE | O_DIRECTORY`).
    private static let unnamed: Int32 = 0o20_000_000 | O_DIRECTORY

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

    /// Flushes the data to disk and links it to its final name without replacing anything
    /// already there.
    package func publish() throws {
        try flush()
        try link()
    }

    /// Flushes the data to disk (the slow part of publishing: a batch flushes every file first,
    /// then links them one after the other, so that they appear microseconds apart).
    package func flush() throws {
        guard fsync(fd) == 0 else {
            throw CeremonyError("cannot write \(quoted(path)): \(SecretFiles.describe(errno))")
        }
    }

    /// Links the flushed file to its final name without replacing anything already there.
    package func link() throws {
        let linked =
            temporaryName.map { linkat(directory, $0, directory, name, 0) }
            ?? linkat(AT_FDCWD, "/proc/self/fd/\(fd)", directory, name, AT_SYMLINK_FOLLOW)
        if linked != 0 {
            let code = errno
            if code == EEXIST {
                throw CeremonyError("\(quoted(path)) already exists", code: .fileRaced, facts: ["path": path])
            }
            throw CeremonyError("cannot create \(quoted(path)): \(SecretFiles.describe(code))")
        }
        published = true
        close(fd)
        fd = -1
        if let temporaryName { unlinkat(directory, temporaryName, 0) }
        ProcessHygiene.unregisterTemporary(temporarySlot)
        temporarySlot = -1
    }

    /// Removes the published file again (used when a later file of the same batch fails).
    package func withdraw() {
        if published { unlinkat(directory, name, 0) }
        published = false
    }

    deinit {
        if fd >= 0 { close(fd) }
        if !published, let temporaryName { unlinkat(directory, temporaryName, 0) }
        ProcessHygiene.unregisterTemporary(temporarySlot)
    }
}

/// The output directories of this process, each opened once (`O_DIRECTORY | O_NOFOLLOW`) at
/// its first file and kept open: every later file of the run is created relative to that
/// descriptor, so swapping the path for a symbolic link mid-way changes nothing. A directory
/// that others can write to is refused (they could swap or remove what keyturn writes there),
/// unless it is sticky.
package enum OutputDirectories {
    private static let opened = Mutex<[String: Int32]>([:])

    /// The directory's descriptor, opened and checked on first use.
    package static func open(_ path: String) throws -> Int32 {
        try opened.withLock { table throws(CeremonyError) in
            if let fd = table[path] { return fd }
            let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                let code = errno
                if code == ELOOP || code == ENOTDIR {
                    var st = stat()
                    if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFLNK {
                        throw CeremonyError(
                            "\(quoted(path)) is a symbolic link: keyturn writes only into the directory itself, "
                                + "named by its own path", code: .unsafeDirectory, facts: ["path": path])
                    }
                }
                throw CeremonyError("cannot write to directory \(quoted(path)): \(SecretFiles.describe(code))")
            }
            var st = stat()
            guard fstat(fd, &st) == 0 else {
                Glibc.close(fd)
                throw CeremonyError("cannot write to directory \(quoted(path)): \(SecretFiles.describe(errno))")
            }
            do throws(CeremonyError) { try requireOwnerOnly(st, path: path) } catch {
                Glibc.close(fd)
                throw error
            }
            table[path] = fd
            return fd
        }
    }

    /// Refuses a directory that someone else can write to: its group or others (unless it is
    /// sticky, like /tmp: there others cannot rename or remove what keyturn writes, and a name
    /// they took first is refused, never followed or overwritten), or an owner other than this
    /// user or root.
    package static func requireOwnerOnly(_ st: stat, path: String) throws(CeremonyError) {
        let shared = st.st_mode & (S_IWOTH | S_IWGRP) != 0 && st.st_mode & S_ISVTX == 0
        if shared || (st.st_uid != geteuid() && st.st_uid != 0) {
            throw CeremonyError(
                "the directory \(quoted(path)) can be written by \(shared ? "others" : "its owner, another user"): they "
                    + "could replace or remove the files keyturn writes there", code: .unsafeDirectory,
                facts: ["path": path])
        }
    }
}

extension SecretFiles {
    /// Writes a small file whole (0600 unless `mode` says otherwise), atomically and never over an
    /// existing one: written under no name, fsynced, then linked into place.
    package static func writeNew(_ path: String, contents: [UInt8], mode: mode_t = 0o600) throws {
        let file = try PendingFile(path: path, mode: mode)
        try contents.withUnsafeBytes { try file.write($0) }
        try file.publish()
    }
}
