#include "CValgrind.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define KT_HAVE_VALGRIND 1
#endif
#endif

void kt_ct_secret(const void *p, size_t n) {
#ifdef KT_HAVE_VALGRIND
    VALGRIND_MAKE_MEM_UNDEFINED(p, n);
#else
    (void)p; (void)n;
#endif
}

void kt_ct_public(const void *p, size_t n) {
#ifdef KT_HAVE_VALGRIND
    VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
    (void)p; (void)n;
#endif
}

int kt_ct_running_on_valgrind(void) {
#ifdef KT_HAVE_VALGRIND
    return RUNNING_ON_VALGRIND ? 1 : 0;
#else
    return 0;
#endif
}

unsigned long kt_ct_error_count(void) {
#ifdef KT_HAVE_VALGRIND
    return (unsigned long)VALGRIND_COUNT_ERRORS;
#else
    return 0;
#endif
}

static const unsigned char leaky_table[256] = {
    [0] = 1, [17] = 2, [255] = 3,
};

unsigned char kt_ct_leaky_lookup(unsigned char secret) {
    volatile const unsigned char *t = leaky_table;
    return t[secret];
}

int kt_ct_has_valgrind_headers(void) {
#ifdef KT_HAVE_VALGRIND
    return 1;
#else
    return 0;
#endif
}
