// Process hygiene for keyturn, in C: prctl is variadic, which Swift cannot call; the wiping
// allocators are handed to C libraries; the memory scan must not allocate while it looks.
// Swift code reaches it through the ProcessHygiene module.
#ifndef KEYTURN_CSYSTEM_H
#define KEYTURN_CSYSTEM_H

/// Marks the process not dumpable: no core file, and other processes of the same user can
/// neither ptrace it nor read its memory through /proc. Returns 0 or -1.
int kt_disable_dumping(void);

/// 1 if the process is dumpable, 0 if not, -1 on error.
int kt_is_dumpable(void);

/// Makes libcurl and OpenSSL allocate through malloc and a free (and realloc) that wipes each
/// block before giving it back: both copy what they send (an unseal request holds a share)
/// into buffers they free without clearing. Must run first in the process, before anything
/// uses either library (each accepts an allocator only before its first allocation); it also
/// performs libcurl's global initialisation. Returns a bit set: 1 if OpenSSL took it, 2 if
/// libcurl did.
int kt_wipe_library_memory_on_free(void);

/// What kt_wipe_library_memory_on_free returned (-1 before it ran).
int kt_wiping_status(void);

/// Starts writing back `count` bytes at `offset` of a file to disk without waiting
/// (sync_file_range with SYNC_FILE_RANGE_WRITE, which Swift's Glibc does not export), so the
/// fsync that publishes a large file waits for its tail only. Returns 0 or -1.
int kt_start_writeback(int fd, long long offset, long long count);

/// Unblocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGTSTP in the calling thread: a parent may
/// leave them blocked (the mask survives exec), and then neither the prompt's nor the held
/// answers' handling could see them. Called first, so threads made later inherit the mask.
void kt_unblock_ceremony_signals(void);

/// Turns echo off on the terminal `fd` for a hidden prompt, and until kt_terminal_restore
/// makes SIGINT, SIGTERM, SIGHUP and SIGQUIT restore the terminal's settings before they end
/// the process as they would have (so the shell sees 130 for Ctrl-C), and SIGTSTP restore them
/// while the process is stopped and hide the input again when it continues. Returns 0, or -1
/// if `fd` is not a terminal.
int kt_terminal_hide_input(int fd);

/// Restores the settings kt_terminal_hide_input saved, and the signals' previous actions.
void kt_terminal_restore(void);

/// Holds SIGINT, SIGTERM and SIGHUP: until kt_release_signals they only set a flag, so that
/// work that must not be cut short (writing the answer of sys/init) finishes first. A signal
/// the process was started ignoring (nohup's SIGHUP) stays ignored, here and at the prompt.
void kt_hold_signals(void);

/// The first signal held since kt_hold_signals (0 if none), while holding.
int kt_held_signal(void);

/// 1 while kt_hold_signals is in force (SIGTERM is held), else 0: so an inner hold does not
/// undo an outer one.
int kt_holding_signals(void);

/// Restores the signals' previous actions; returns the first signal held (0 if none).
int kt_release_signals(void);

/// Records a named temporary file (`name` in the directory `dir`), to be removed if SIGINT,
/// SIGTERM or SIGHUP ends the process before kt_unregister_temporary (only where a file system
/// has no O_TMPFILE is a file being written named at all). Returns its slot, or -1.
int kt_register_temporary(int dir, const char *name);

/// Forgets a temporary file's slot (it was published or removed).
void kt_unregister_temporary(int slot);

/// Removes every recorded temporary file (what the signal handler does; also for tests).
void kt_remove_temporaries(void);

/// One place where a memory scan found part of a secret.
typedef struct {
    unsigned long address;   // where the run starts
    unsigned long length;    // how many bytes of the secret it holds, in order
    char region[80];         // the mapping and its size: "[heap] (132 KiB mapping)", "[anon] (...)"
} kt_scan_hit;

/// Scans every readable and writable mapping of this process (through /proc/self/mem, so
/// unreadable or vanished pages are skipped, not faulted on) for any run of at least `window`
/// consecutive bytes of a secret. The secret is passed masked, `masked[i] = secret[i] ^ mask`, so the
/// scanner never holds it in the clear and cannot find its own copy. Records up to
/// `max_hits` hits and returns how many runs were found, or -1 if /proc cannot be read.
/// For tests of keyturn's own memory hygiene; not used in normal operation.
long kt_scan_self(const unsigned char *masked, unsigned long len, unsigned char mask, unsigned long window,
                  kt_scan_hit *hits, unsigned long max_hits);

#endif
