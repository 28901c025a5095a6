import Foundation
import KeyturnFailure
import ProcessHygiene
import Shamir

#if canImport(Glibc)
    import Glibc
#endif

/// Publishes several pending files all together or not at all.
package enum FileBatch {
    /// Publishes every file; if one fails, the ones already published are removed again. SIGINT,
    /// SIGTERM and SIGHUP wait while the files are linked into place; one that came meanwhile
    /// has them all removed again, and is reported as `interrupted` (facts: signal), so a batch
    /// is all or none under those signals too. Under an outer hold (the one-shot answer of init
    /// or a rekey, which must be written whatever comes) the files stay, as that hold decides.
    package static func publish(_ files: [PendingFile], directory: String) throws {
        let mine = !ProcessHygiene.holdingSignals
        if mine { ProcessHygiene.holdSignals() }
        // Every file on disk first, then every name in one tight loop: a SIGKILL (which nothing
        // can hold) finds the batch linked in part only within those few microseconds.
        for file in files {
            do { try file.flush() } catch {
                if mine { ProcessHygiene.releaseSignals() }
                throw error
            }
        }
        for (i, file) in files.enumerated() {
            do { try file.link() } catch {
                for done in files[..<i] { done.withdraw() }
                if mine { ProcessHygiene.releaseSignals() }
                throw error
            }
        }
        SecretFiles.syncDirectory(directory)
        if mine, let signal = ProcessHygiene.releaseSignals() {
            for file in files { file.withdraw() }
            SecretFiles.syncDirectory(directory)
            throw CeremonyError(
                "interrupted (\(ProcessHygiene.signalName(signal))) while the files were put in place: none was left",
                code: .interrupted, facts: ["signal": String(signal)])
        }
    }
}
