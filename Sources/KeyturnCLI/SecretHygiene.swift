import ArgumentParser
import Ceremony
import Foundation
import ProcessHygiene
import Shamir
import VaultClient

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
    /// error, if any) and exits 128 + the signal. With `notice`, a line on a terminal says
    /// what keyturn is waiting for once the usual timeout has passed without an answer.
    static func around<T>(_ what: String, notice: WaitNotice? = nil, _ body: () async throws -> T) async throws -> T {
        ProcessHygiene.holdSignals()
        let noticeTask = notice.map { notice in
            Task {
                try await Task.sleep(nanoseconds: UInt64(notice.after * 1_000_000_000))
                Terminal.stderrLine(notice.text)
            }
        }
        let result: Result<T, Error>
        do {
            // Bound first, as in VaultClient's Concurrently.swift.
            let value = try await body()
            result = .success(value)
        } catch {
            result = .failure(error)
        }
        noticeTask?.cancel()
        if let signal = ProcessHygiene.releaseSignals() {
            let name = signalName(signal)
            if case .failure(let error) = result {
                if let e = error as? KeyturnError { Terminal.report(e) }
                Terminal.stderrLine(
                    "keyturn: interrupted (\(name)) while \(what); that failed first (above), and no file was "
                        + "written; exiting"
                )
            } else {
                Terminal.stderrLine(
                    "keyturn: interrupted (\(name)) while \(what); that finished first, as shown above; exiting")
            }
            throw ExitCode(128 + signal)
        }
        return try result.get()
    }

    /// A line shown on a terminal while an answer that comes only once is awaited.
    struct WaitNotice: Sendable {
        /// Seconds without an answer before the line is shown (the usual --timeout).
        var after: TimeInterval
        /// The line.
        var text: String

        /// The notice for `node`'s answer to `request`, shown on a terminal only (nil elsewhere).
        static func oneShot(_ request: String, node: String, after: TimeInterval) -> WaitNotice? {
            guard Terminal.isTerminal(STDERR_FILENO) else { return nil }
            let minutes = Int(VaultTransport.oneShotReplyTimeout / 60)
            return WaitNotice(
                after: after,
                text:
                    "keyturn: waiting for \(node) to answer \(request): that answer comes only once, so keyturn "
                    + "waits up to \(minutes) minutes (a slow seal or disk can take that long)"
            )
        }
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
                let needles = env["KEYTURN_DEBUG_SCAN_NEEDLES"]
            else { return }
            Terminal.stderrLine("keyturn-debug: wiping allocators: \(ProcessHygiene.libraryWipingStatus)")
            for (index, hex) in needles.split(separator: ",").enumerated() {
                guard let (runs, hits) = ProcessHygiene.scan(masked: maskedBytes(hex), mask: mask) else {
                    Terminal.stderrLine("keyturn-debug: scan \(stage) needle \(index): cannot read /proc/self/mem")
                    continue
                }
                Terminal.stderrLine("keyturn-debug: scan \(stage) needle \(index): \(runs) runs")
                for hit in hits {
                    Terminal.stderrLine(
                        "keyturn-debug:   \(hit.length) bytes at 0x\(String(hit.address, radix: 16)) in \(hit.region)")
                }
            }
        }

        private static func maskedBytes(_ hex: Substring) -> [UInt8] {
            var out: [UInt8] = []
            var i = hex.startIndex
            while i < hex.endIndex, let j = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex),
                let b = UInt8(hex[i..<j], radix: 16)
            {
                out.append(b)
                i = j
            }
            return out
        }
    }
#endif
