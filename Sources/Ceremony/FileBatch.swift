import Foundation
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

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
