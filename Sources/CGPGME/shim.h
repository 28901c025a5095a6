// GPGME for keyturn. Each shim exists because Swift cannot import the macro it wraps.
#ifndef KEYTURN_CGPGME_SHIM_H
#define KEYTURN_CGPGME_SHIM_H

#include <gpgme.h>

/// gpgme_check_version is a macro (it passes the header's version): call it once first.
static inline const char *kt_gpgme_init(void) { return gpgme_check_version(NULL); }

/// gpgme_err_code and gpgme_err_source as plain functions of the error value.
static inline unsigned int kt_gpgme_err_code(gpgme_error_t err) { return gpgme_err_code(err); }

#endif
