import Foundation
import KeyturnFailure
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

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
            guard (st.st_mode & S_IFMT) == S_IFDIR else { throw CeremonyError("\(quoted(path)) is not a directory") }
            guard access(path, W_OK | X_OK) == 0 else {
                throw CeremonyError("cannot write to directory \(quoted(path)): \(SecretFiles.describe(errno))")
            }
            // Checked here, before anything is sent; the files are then made in the directory
            // opened once (OutputDirectories), which checks again.
            var own = stat()
            if lstat(path, &own) == 0, (own.st_mode & S_IFMT) == S_IFLNK {
                _ = try OutputDirectories.open(path)
            }
            try OutputDirectories.requireOwnerOnly(st, path: path)
            exists = true
        } else {
            // The nearest existing ancestor must let us create the rest.
            var ancestor = URL(fileURLWithPath: path).deletingLastPathComponent()
            while stat(ancestor.path, &st) != 0, ancestor.path != "/" { ancestor.deleteLastPathComponent() }
            guard (st.st_mode & S_IFMT) == S_IFDIR, access(ancestor.path, W_OK | X_OK) == 0 else {
                throw CeremonyError(
                    "cannot create directory \(quoted(path)): \(quoted(ancestor.path)) is not a writable directory")
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
            throw CeremonyError("cannot create directory \(quoted(path))")
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
