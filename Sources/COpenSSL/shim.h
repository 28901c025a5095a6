// libssl/libcrypto for keyturn. Each shim exists because Swift cannot import the macro or
// variadic function it wraps.
#ifndef KEYTURN_COPENSSL_SHIM_H
#define KEYTURN_COPENSSL_SHIM_H

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/evp.h>

/// OPENSSL_VERSION_NUMBER is a macro: the header version keyturn was built against.
static inline unsigned long keyturn_openssl_version_number(void) { return OPENSSL_VERSION_NUMBER; }

#endif
