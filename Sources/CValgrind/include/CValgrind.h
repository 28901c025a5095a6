// Memcheck client requests for the constant-time check ("ctgrind"): secret bytes are marked
// undefined, so memcheck reports any branch or address that depends on them. The macros
// cannot be called from Swift, hence these functions; without valgrind's headers they do
// nothing.
#ifndef KEYTURN_CVALGRIND_H
#define KEYTURN_CVALGRIND_H
#include <stddef.h>

/// Marks n bytes at p as secret (undefined to memcheck).
void kt_ct_secret(const void *p, size_t n);
/// Marks n bytes at p as public again (defined), e.g. before comparing a result.
void kt_ct_public(const void *p, size_t n);
/// 1 when running under valgrind, else 0.
int kt_ct_running_on_valgrind(void);
/// How many memcheck errors have been reported so far.
unsigned long kt_ct_error_count(void);
/// A deliberately leaky lookup (a table indexed by a secret byte): the check's own check.
unsigned char kt_ct_leaky_lookup(unsigned char secret);
/// 1 if compiled with valgrind's headers.
int kt_ct_has_valgrind_headers(void);
#endif
