#define _GNU_SOURCE  // sync_file_range
#include "CSystem.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int kt_disable_dumping(void) {
    struct rlimit none = {0, 0};
    int a = setrlimit(RLIMIT_CORE, &none);
    int b = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return (a == 0 && b == 0) ? 0 : -1;
}

int kt_is_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }

// ---- allocators that wipe on free, for libcurl and OpenSSL ----

#include <curl/curl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static void kt_wiping_free(void *p) {
    if (p) {
        explicit_bzero(p, malloc_usable_size(p));
        free(p);
    }
}

// realloc that wipes the old block when it moves (glibc's would free it as it is).
static void *kt_wiping_realloc(void *p, size_t n) {
    if (!p) return malloc(n);
    if (n == 0) {
        kt_wiping_free(p);
        return NULL;
    }
    size_t old = malloc_usable_size(p);
    if (n <= old) return p;
    void *q = malloc(n);
    if (q) {
        memcpy(q, p, old);
        kt_wiping_free(p);
    }
    return q;
}

static void *kt_ossl_malloc(size_t n, const char *file, int line) { (void)file; (void)line; return malloc(n); }
static void *kt_ossl_realloc(void *p, size_t n, const char *file, int line) { (void)file; (void)line; return kt_wiping_realloc(p, n); }
static void kt_ossl_free(void *p, const char *file, int line) { (void)file; (void)line; kt_wiping_free(p); }

static int kt_wiping_taken = -1;

int kt_wiping_status(void) { return kt_wiping_taken; }

int kt_wipe_library_memory_on_free(void) {
    if (kt_wiping_taken >= 0) return kt_wiping_taken;
    int taken = 0;
    // OpenSSL first: libcurl's initialisation allocates through OpenSSL.
    if (CRYPTO_set_mem_functions(kt_ossl_malloc, kt_ossl_realloc, kt_ossl_free) == 1) taken |= 1;
    if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, kt_wiping_free, kt_wiping_realloc, strdup, calloc) == CURLE_OK) taken |= 2;
    kt_wiping_taken = taken;
    return taken;
}

// ---- memory scan (tests of memory hygiene) ----

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { KT_SCAN_CHUNK = 1 << 20, KT_SCAN_MAX_SECRET = 256 };

// Records one run: the first max_hits in `hits`, every one in the count.
static void kt_scan_record(kt_scan_hit *hits, unsigned long max_hits, long *count, unsigned long address,
                           unsigned long length, const char *region) {
    if ((unsigned long)*count < max_hits) {
        kt_scan_hit *h = &hits[*count];
        h->address = address;
        h->length = length;
        snprintf(h->region, sizeof h->region, "%s", region);
    }
    (*count)++;
}

long kt_scan_self(const unsigned char *masked, unsigned long len, unsigned char mask, unsigned long window,
                  kt_scan_hit *hits, unsigned long max_hits) {
    if (len == 0 || len > KT_SCAN_MAX_SECRET || window == 0 || window > len) return -1;
    // candidates[b]: the positions j (as bits) where the secret's byte is b; j + window <= len.
    uint64_t candidates[256][KT_SCAN_MAX_SECRET / 64];
    memset(candidates, 0, sizeof candidates);
    unsigned words = (unsigned)((len - window) / 64 + 1);
    for (unsigned long j = 0; j + window <= len; j++) {
        unsigned b = (unsigned)(masked[j] ^ mask);
        candidates[b][j / 64] |= (uint64_t)1 << (j % 64);
    }
    // Mappings text and the scratch buffer live outside the heap, and are skipped.
    size_t maps_size = 1 << 20;
    size_t scratch_size = KT_SCAN_CHUNK + KT_SCAN_MAX_SECRET;
    char *maps = mmap(NULL, maps_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *scratch = mmap(NULL, scratch_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (maps == MAP_FAILED || scratch == MAP_FAILED) return -1;
    long count = -1;
    int mfd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (mfd < 0 || fd < 0) goto done;
    size_t used = 0;
    for (;;) {
        ssize_t n = read(mfd, maps + used, maps_size - 1 - used);
        if (n <= 0) break;
        used += (size_t)n;
    }
    maps[used] = 0;
    count = 0;
    for (char *line = maps; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        unsigned long start = 0, end = 0;
        char perms[8] = {0};
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) < 3) { line = next; continue; }
        const char *path = path_at > 0 ? line + path_at : "";
        while (*path == ' ') path++;
        char region[80];
        snprintf(region, sizeof region, "%s (%lu KiB mapping)", *path ? path : "[anon]", (end - start) >> 10);
        // Only memory the process could have written a copy into: readable and writable.
        int skip = perms[0] != 'r' || perms[1] != 'w' || strcmp(path, "[vvar]") == 0 || strcmp(path, "[vsyscall]") == 0 ||
                   (start == (unsigned long)scratch) || (start == (unsigned long)maps);
        line = next;
        if (skip) continue;
        unsigned long run_end = 0;  // hits inside a run already recorded are not counted again
        for (unsigned long at = start; at < end; at += KT_SCAN_CHUNK) {
            size_t want = end - at < KT_SCAN_CHUNK + len ? end - at : KT_SCAN_CHUNK + len;
            ssize_t got = pread(fd, scratch, want, (off_t)at);
            if (got <= 0) continue;
            size_t starts = (size_t)got < KT_SCAN_CHUNK ? (size_t)got : KT_SCAN_CHUNK;
            for (size_t i = 0; i < starts; i++) {
                const uint64_t *c = candidates[scratch[i]];
                for (unsigned w = 0; w < words; w++) {
                    for (uint64_t bits = c[w]; bits; bits &= bits - 1) {
                        unsigned long j = w * 64 + (unsigned long)__builtin_ctzll(bits);
                        unsigned long k = 0;
                        while (j + k < len && i + k < (size_t)got && (unsigned char)(scratch[i + k] ^ mask) == masked[j + k]) k++;
                        if (k >= window && at + i >= run_end) {
                            kt_scan_record(hits, max_hits, &count, at + i, k, region);
                            run_end = at + i + k;
                        }
                    }
                }
            }
            memset(scratch, 0, (size_t)got);
        }
    }
done:
    if (mfd >= 0) close(mfd);
    if (fd >= 0) close(fd);
    munmap(maps, maps_size);
    munmap(scratch, scratch_size);
    return count;
}

int kt_start_writeback(int fd, long long offset, long long count) {
    return sync_file_range(fd, (off64_t)offset, (off64_t)count, SYNC_FILE_RANGE_WRITE);
}

// MARK: signals at the hidden prompt and around answers that must not be lost

static int hidden_fd = -1;
static struct termios hidden_saved;
static const int prompt_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
#define PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))
static struct sigaction prompt_previous[PROMPT_SIGNALS];

static void hide(void) {
    struct termios quiet = hidden_saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    tcsetattr(hidden_fd, TCSAFLUSH, &quiet);
}

// Only async-signal-safe calls: tcsetattr, sigaction, raise.
static void prompt_signal(int sig) {
    if (hidden_fd >= 0) tcsetattr(hidden_fd, TCSANOW, &hidden_saved);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    struct sigaction mine;
    sigaction(sig, &dfl, &mine);
    raise(sig);  // SA_NODEFER: delivered now; ends the process, or stops it (SIGTSTP)
    // Continued after a stop: hide the input again and keep guarding.
    sigaction(sig, &mine, NULL);
    if (hidden_fd >= 0) hide();
}

void kt_unblock_ceremony_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < PROMPT_SIGNALS; i++) sigaddset(&set, prompt_signals[i]);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

// Installs `act` for `sig`, keeping the previous action in `previous`; a signal that was
// ignored stays ignored.
static void install(int sig, const struct sigaction *act, struct sigaction *previous) {
    sigaction(sig, act, previous);
    if (previous->sa_handler == SIG_IGN) sigaction(sig, previous, NULL);
}

int kt_terminal_hide_input(int fd) {
    if (tcgetattr(fd, &hidden_saved) != 0) return -1;
    hidden_fd = fd;
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = prompt_signal;
    act.sa_flags = SA_NODEFER;
    sigemptyset(&act.sa_mask);
    for (size_t i = 0; i < PROMPT_SIGNALS; i++) install(prompt_signals[i], &act, &prompt_previous[i]);
    // Echo goes off before the prompt appears, so nothing typed can echo (TCSAFLUSH also drops
    // anything typed ahead of the prompt).
    hide();
    return 0;
}

void kt_terminal_restore(void) {
    if (hidden_fd < 0) return;
    tcsetattr(hidden_fd, TCSANOW, &hidden_saved);
    for (size_t i = 0; i < PROMPT_SIGNALS; i++) sigaction(prompt_signals[i], &prompt_previous[i], NULL);
    hidden_fd = -1;
}

static volatile sig_atomic_t held = 0;
static const int held_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define HELD_SIGNALS (sizeof(held_signals) / sizeof(held_signals[0]))
static struct sigaction held_previous[HELD_SIGNALS];

static void hold_signal(int sig) {
    if (!held) held = sig;
}

void kt_hold_signals(void) {
    held = 0;
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = hold_signal;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    for (size_t i = 0; i < HELD_SIGNALS; i++) install(held_signals[i], &act, &held_previous[i]);
}

int kt_held_signal(void) { return held; }

int kt_holding_signals(void) {
    struct sigaction current;
    if (sigaction(SIGTERM, NULL, &current) != 0) return 0;
    return current.sa_handler == hold_signal;
}

int kt_release_signals(void) {
    for (size_t i = 0; i < HELD_SIGNALS; i++) sigaction(held_signals[i], &held_previous[i], NULL);
    return held;
}

// MARK: named temporary files, removed when a signal ends the process
//
// Where a file system has no O_TMPFILE, a file being written has a hidden temporary name; a
// SIGINT, SIGTERM or SIGHUP must not leave it behind (a plaintext share, perhaps). The names
// are kept here (the handler may only use async-signal-safe calls: unlinkat, sigaction, raise).

#define KT_TEMPORARIES 256
static struct { volatile sig_atomic_t used; int dir; char name[256]; } temporaries[KT_TEMPORARIES];
static pthread_mutex_t temporaries_lock = PTHREAD_MUTEX_INITIALIZER;
static const int temporary_signals[] = {SIGINT, SIGTERM, SIGHUP};

void kt_remove_temporaries(void) {
    for (int i = 0; i < KT_TEMPORARIES; i++) {
        if (temporaries[i].used) unlinkat(temporaries[i].dir, temporaries[i].name, 0);
    }
}

static void temporaries_signal(int sig) {
    kt_remove_temporaries();
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

int kt_register_temporary(int dir, const char *name) {
    if (strlen(name) >= sizeof temporaries[0].name) return -1;
    pthread_mutex_lock(&temporaries_lock);
    int slot = -1;
    for (int i = 0; i < KT_TEMPORARIES && slot < 0; i++) {
        if (!temporaries[i].used) slot = i;
    }
    if (slot >= 0) {
        temporaries[slot].dir = dir;
        strcpy(temporaries[slot].name, name);
        temporaries[slot].used = 1;
    }
    // Only where the signal would end the process anyway (its default action): a handler keyturn
    // installed itself (the prompt's, the held answer's) keeps its own rules. Checked at every
    // file, since such a handler may have been in place at the first.
    for (size_t i = 0; i < sizeof temporary_signals / sizeof temporary_signals[0]; i++) {
        struct sigaction current;
        if (sigaction(temporary_signals[i], NULL, &current) == 0 && current.sa_handler == SIG_DFL) {
            struct sigaction act;
            memset(&act, 0, sizeof act);
            act.sa_handler = temporaries_signal;
            sigemptyset(&act.sa_mask);
            sigaction(temporary_signals[i], &act, NULL);
        }
    }
    pthread_mutex_unlock(&temporaries_lock);
    return slot;
}

void kt_unregister_temporary(int slot) {
    if (slot < 0 || slot >= KT_TEMPORARIES) return;
    pthread_mutex_lock(&temporaries_lock);
    temporaries[slot].used = 0;
    pthread_mutex_unlock(&temporaries_lock);
}
