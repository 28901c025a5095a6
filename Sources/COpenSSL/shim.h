// libssl/libcrypto for keyturn. Each shim exists because Swift cannot import the macro or
// variadic function it wraps.
#ifndef KEYTURN_COPENSSL_SHIM_H
#define KEYTURN_COPENSSL_SHIM_H

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bn.h>
#include <openssl/bio.h>

/// OPENSSL_VERSION_NUMBER is a macro: the header version keyturn was built against.
static inline unsigned long keyturn_openssl_version_number(void) { return OPENSSL_VERSION_NUMBER; }

/// EVP_PKEY_Q_keygen is variadic: an EC P-256 key.
static inline EVP_PKEY *kt_ec_p256_keygen(void) { return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"); }

/// EVP_PKEY_Q_keygen is variadic: an RSA key of `bits`.
static inline EVP_PKEY *kt_rsa_keygen(size_t bits) { return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", bits); }

/// BIO_get_mem_data is a macro: the bytes written to a memory BIO so far.
static inline long kt_bio_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }

/// X509V3_set_ctx_nodb is a macro: prepares an extension context without a config database.
static inline void kt_x509v3_ctx_init(X509V3_CTX *ctx, X509 *issuer, X509 *subject) {
    X509V3_set_ctx_nodb(ctx);
    X509V3_set_ctx(ctx, issuer, subject, NULL, NULL, 0);
}

#endif
