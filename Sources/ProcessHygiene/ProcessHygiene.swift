internal import CSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide protections for the secrets keyturn holds, over the C in CSystem (prctl is
/// variadic; the allocators and the memory scan are C so they allocate nothing themselves).
package enum ProcessHygiene {
    /// Forbids core files and makes the process non-dumpable: other processes of the same
    /// user can neither ptrace it nor read its memory through /proc. Returns whether both took.
    @discardableResult
    package static func disableCoreDumps() -> Bool { kt_disable_dumping() == 0 }

    /// Makes libcurl and OpenSSL allocate through a free (and realloc) that wipes each block:
    /// both copy what they send (an unseal request holds a share) into buffers they free
    /// without clearing. Must run first in the process, before either library is used (each
    /// takes an allocator only before its first allocation); it also performs libcurl's
    /// global initialisation. Returns whether both libraries took it.
    @discardableResult
    package static func wipeLibraryMemoryOnFree() -> Bool { kt_wipe_library_memory_on_free() == 3 }

    /// What `wipeLibraryMemoryOnFree` achieved: a bit set, 1 OpenSSL, 2 libcurl; -1 before it ran.
    package static var libraryWipingStatus: Int { Int(kt_wiping_status()) }

    /// Starts writing `count` bytes at `offset` of an open file back to disk, without waiting:
    /// the fsync that publishes a large file then waits for its tail only, not all of it.
    /// Best effort (a file system may not support it); returns whether it was started.
    @discardableResult
    package static func startWriteback(fd: Int32, offset: Int, count: Int) -> Bool {
        kt_start_writeback(fd, Int64(offset), Int64(count)) == 0
    }

    /// A write to a closed pipe becomes an error keyturn reports (EPIPE), not a silent death by
    /// SIGPIPE.
    package static func ignoreBrokenPipe() { _ = signal(SIGPIPE, SIG_IGN) }

    /// Unblocks the signals keyturn handles (a parent may leave them blocked: the mask survives
    /// exec). First thing in the process, so every thread made later inherits it.
    package static func unblockSignals() { kt_unblock_ceremony_signals() }

    /// Turns echo off on the terminal `fd` for a hidden prompt; until `restoreTerminal`, Ctrl-C,
    /// SIGTERM, SIGHUP and SIGQUIT put the terminal back before they end the process (as they
    /// would have: the shell sees 130 for Ctrl-C), and Ctrl-Z puts it back while stopped and
    /// hides the input again on `fg`. Returns false if `fd` is not a terminal.
    package static func hideTerminalInput(_ fd: Int32) -> Bool { kt_terminal_hide_input(fd) == 0 }

    /// Puts back the terminal settings `hideTerminalInput` changed.
    package static func restoreTerminal() { kt_terminal_restore() }

    /// Holds SIGINT, SIGTERM and SIGHUP until `releaseSignals`: they only set a flag, so that
    /// what must not be cut short (writing the only copy of an answer) finishes first.
    package static func holdSignals() { kt_hold_signals() }

    /// Records a named temporary file to be removed if SIGINT, SIGTERM or SIGHUP ends the
    /// process first; returns its slot (-1 if none was free).
    package static func registerTemporary(directory: Int32, name: String) -> Int32 {
        kt_register_temporary(directory, name)
    }

    /// Forgets a temporary file (published, or removed).
    package static func unregisterTemporary(_ slot: Int32) { kt_unregister_temporary(slot) }

    /// Removes every recorded temporary file now, as the signal handler would.
    package static func removeTemporaries() { kt_remove_temporaries() }

    /// Whether signals are held now (by an outer `holdSignals`).
    package static var holdingSignals: Bool { kt_holding_signals() == 1 }

    /// The first signal held since `holdSignals` (nil if none yet).
    package static var heldSignal: Int32? { let s = kt_held_signal(); return s == 0 ? nil : s }

    /// Gives the signals their previous actions back; returns the first one held, if any.
    @discardableResult
    package static func releaseSignals() -> Int32? { let s = kt_release_signals(); return s == 0 ? nil : s }

    /// One place where `scan` found part of a secret.
    package struct ScanHit: Sendable {
        /// Where the run starts.
        package let address: UInt
        /// How many consecutive bytes of the secret it holds.
        package let length: Int
        /// The mapping, with its size: "[heap] (132 KiB mapping)", "[anon] (…)", a file name.
        package let region: String
    }

    /// Scans every readable and writable mapping of this process for runs of at least
    /// `window` consecutive bytes of a secret, given masked (`masked[i] = secret[i] ^ mask`)
    /// so that neither the caller nor the scanner holds it. Returns the number of runs and
    /// the first 64 of them, or nil if /proc cannot be read. For tests of memory hygiene.
    package static func scan(masked: [UInt8], mask: UInt8, window: Int = 12) -> (runs: Int, hits: [ScanHit])? {
        var raw = [kt_scan_hit](repeating: kt_scan_hit(), count: 64)
        let found = kt_scan_self(masked, UInt(masked.count), mask, UInt(window), &raw, UInt(raw.count))
        guard found >= 0 else { return nil }
        let hits = raw.prefix(min(Int(found), raw.count)).map { hit in
            ScanHit(
                address: hit.address, length: Int(hit.length),
                region: withUnsafeBytes(of: hit.region) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }
        return (Int(found), hits)
    }
}
