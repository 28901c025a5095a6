import ArgumentParser
import Ceremony
import Foundation
import ProcessHygiene
import Shamir

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide precautions taken before any secret is held.
enum SecretHygiene {
    /// Forbids core files and makes the process non-dumpable (no ptrace or /proc memory
    /// reads by other processes of the same user) before a secret is held.
    static func disableCoreDumps() {
        ProcessHygiene.disableCoreDumps()
    }

    /// Makes libcurl and OpenSSL wipe their memory when they free it (they copy an unseal
    /// request, share included, into buffers of their own). First thing in the process:
    /// each takes an allocator only before its first allocation.
    static func wipeLibraryMemoryOnFree() {
        ProcessHygiene.wipeLibraryMemoryOnFree()
    }

    /// A write to a closed pipe should be an error we report, not a silent death by SIGPIPE.
    static func ignoreSIGPIPE() {
        _ = signal(SIGPIPE, SIG_IGN)
    }
}

/// Ctrl-C, SIGTERM and SIGHUP (an SSH session dropping) held off while an answer the server
/// gives only once is being saved: it is written (or printed) first, then keyturn exits saying
/// it was interrupted, with the status the signal would have given (130 for Ctrl-C).
enum SignalHold {
    /// Runs `body` with the signals held; if one came, reports it after `body` (and its own
    /// error, if any) and exits 128 + the signal.
    static func around<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        ProcessHygiene.holdSignals()
        let result: Result<T, Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        if let signal = ProcessHygiene.releaseSignals() {
            if case .failure(let error) = result, let e = error as? KeyturnError { Terminal.report(e) }
            Terminal.stderrLine("keyturn: interrupted (\(signalName(signal))) while \(what); that finished first, as shown above; exiting")
            throw ExitCode(128 + signal)
        }
        return try result.get()
    }

    /// "SIGINT", "SIGHUP", "SIGTERM".
    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGHUP: return "SIGHUP"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }
}

/// Zeroes an array of secret bytes in place.
func secureZeroArray(_ bytes: inout [UInt8]) { secureZero(&bytes) }

#if DEBUG
extension SecretHygiene {
    /// Test builds only: when KEYTURN_DEBUG_SCAN_STAGE (a comma-separated list) names
    /// `stage`, scans this process's memory for the secrets given (masked with
    /// KEYTURN_DEBUG_SCAN_MASK) in KEYTURN_DEBUG_SCAN_NEEDLES and reports every run of 12 or
    /// more of their bytes on stderr. The tests use it to show that a share is gone from
    /// memory after use (stage "after") and that the scan finds it while it is held (stage
    /// "held"). Release builds do not contain it.
    static func debugScan(stage: String) {
        let env = ProcessInfo.processInfo.environment
        guard env["KEYTURN_DEBUG_SCAN_STAGE"]?.split(separator: ",").contains(Substring(stage)) == true,
              let maskText = env["KEYTURN_DEBUG_SCAN_MASK"], let mask = UInt8(maskText, radix: 16),
              let needles = env["KEYTURN_DEBUG_SCAN_NEEDLES"] else { return }
        Terminal.stderrLine("keyturn-debug: wiping allocators: \(ProcessHygiene.libraryWipingStatus)")
        for (index, hex) in needles.split(separator: ",").enumerated() {
            guard let (runs, hits) = ProcessHygiene.scan(masked: maskedBytes(hex), mask: mask) else {
                Terminal.stderrLine("keyturn-debug: scan \(stage) needle \(index): cannot read /proc/self/mem")
                continue
            }
            Terminal.stderrLine("keyturn-debug: scan \(stage) needle \(index): \(runs) runs")
            for hit in hits {
                Terminal.stderrLine("keyturn-debug:   \(hit.length) bytes at 0x\(String(hit.address, radix: 16)) in \(hit.region)")
            }
        }
    }

    private static func maskedBytes(_ hex: Substring) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex), let b = UInt8(hex[i..<j], radix: 16) {
            out.append(b)
            i = j
        }
        return out
    }
}
#endif
