import CSystem
import Shamir

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide precautions taken before any secret is held.
enum SecretHygiene {
    /// Forbids core files and makes the process non-dumpable (no ptrace or /proc memory
    /// reads by other processes of the same user) before a secret is held.
    static func disableCoreDumps() {
        _ = kt_disable_dumping()
    }

    /// A write to a closed pipe should be an error we report, not a silent death by SIGPIPE.
    static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}

/// Zeroes an array of secret bytes in place.
func secureZeroArray(_ bytes: inout [UInt8]) { secureZero(&bytes) }
