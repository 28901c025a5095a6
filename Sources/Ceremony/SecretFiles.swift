import Foundation
import KeyturnFailure
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
            throw CeremonyError(
                "\(quoted(path)) already exists", code: .fileExists, facts: ["path": path])
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
            // Never echoed: an error message may end up in a log.
            if code == ENOENT && looksLikeShareArgument(path) { throw CeremonyError.shareOnCommandLine() }
            if code == ENOENT { throw CeremonyError("\(quoted(path)) does not exist") }
            throw CeremonyError("cannot read \(quoted(path)): \(describe(code))")
        }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw CeremonyError("\(quoted(path)) is a directory, not a file")
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
                throw CeremonyError("cannot read \(name): \(describe(errno))")
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
                throw CeremonyError("cannot read \(name): \(describe(errno))")
            }
            if n == 0 { throw CeremonyError("\(name) changed while it was being read") }
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
