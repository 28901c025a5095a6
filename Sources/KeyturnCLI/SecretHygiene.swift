#if canImport(Glibc)
import Glibc
#endif

/// Process-wide precautions taken before any secret is held.
enum SecretHygiene {
    /// Forbids core files, so a crash while a share is in memory writes none to disk.
    static func disableCoreDumps() {
        var limit = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &limit)
    }

    /// A write to a closed pipe should be an error we report, not a silent death by SIGPIPE.
    static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}
