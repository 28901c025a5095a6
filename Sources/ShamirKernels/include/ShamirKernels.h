// GF(2^8) kernels for Shamir secret sharing, in Vault's field (x^8+x^4+x^3+x+1).
//
// Why C: constant-time bulk multiplication needs byte shuffles (SSSE3/AVX2 pshufb) or
// GFNI's gf2p8mulb, which Swift's SIMD types cannot express. Every path here is free of
// branches and memory indices that depend on secret bytes; constants (the x-coordinates and
// Lagrange weights) are public and may steer control flow.
#ifndef KEYTURN_SHAMIR_KERNELS_H
#define KEYTURN_SHAMIR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Implementations of the bulk kernel, slowest first.
enum {
    KT_IMPL_PORTABLE = 0, ///< 64-bit SWAR, any CPU
    KT_IMPL_SSSE3 = 1,    ///< 16-byte pshufb nibble tables
    KT_IMPL_AVX2 = 2,     ///< 32-byte pshufb nibble tables
    KT_IMPL_GFNI = 3,     ///< gf2p8mulb, 64 bytes with AVX-512BW or 32 with AVX2
};

/// The fastest implementation this CPU (and OS) supports.
int kt_best_impl(void);

/// Whether `impl` can run on this CPU.
int kt_impl_available(int impl);

/// The implementation the dispatching kernels use; starts at `kt_best_impl()`.
int kt_current_impl(void);

/// Forces an implementation (tests and benchmarks); returns 0, or -1 if it cannot run here.
int kt_set_impl(int impl);

/// Name of an implementation, for reports.
const char *kt_impl_name(int impl);

/// dst[i] = a[i] * c ^ (b ? b[i] : 0) for i < n, in GF(2^8). dst may alias a or b.
void kt_mul_xor(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n);

/// The same with an explicit implementation (which must be available).
void kt_mul_xor_impl(int impl, uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n);

/// One product in GF(2^8), branch-free and table-free.
uint8_t kt_gf_mul(uint8_t a, uint8_t b);

/// Multiplicative inverse (a^254); the inverse of 0 is 0.
uint8_t kt_gf_inv(uint8_t a);

/// Lower-case hex of n bytes into 2n characters, without tables or branches on the data,
/// with the SIMD kernel that goes with the current implementation.
void kt_hex_encode(char *dst, const uint8_t *src, size_t n);

/// Decodes 2n hex characters (either case) into n bytes without branching on the data.
/// Returns 0, or -1 if any character was not a hex digit (dst then holds garbage).
int kt_hex_decode(uint8_t *dst, const char *src, size_t n);

/// The hex kernels of an implementation (which must be available): portable -> scalar,
/// SSSE3 and AVX2 -> their own, GFNI -> AVX-512BW where the CPU has it, else AVX2.
void kt_hex_encode_impl(int impl, char *dst, const uint8_t *src, size_t n);
int kt_hex_decode_impl(int impl, uint8_t *dst, const char *src, size_t n);

/// Name of the hex kernel an implementation uses, for reports.
const char *kt_hex_impl_name(int impl);

/// Decodes standard base64 (with or without '=' padding, no whitespace) of `len` characters
/// into dst (capacity >= len * 3 / 4) without tables or branches on the data. Returns the
/// number of bytes, or -1 if the text is not base64.
long kt_base64_decode(uint8_t *dst, const char *src, size_t len);

/// Overwrites n bytes with zeros in a way the compiler cannot elide.
void kt_secure_zero(void *p, size_t n);

/// getrandom(2), which Swift's Glibc module does not export: up to n bytes from the kernel's
/// CSPRNG; returns the count or -1 with errno set.
long kt_getrandom(void *p, size_t n);

#endif
