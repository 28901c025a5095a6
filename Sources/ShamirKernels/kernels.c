#include "ShamirKernels.h"

#include <string.h>
#include <sys/random.h>

#if defined(__x86_64__) || defined(__i386__)
#define KT_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

// MARK: scalar field arithmetic

uint8_t kt_gf_mul(uint8_t a, uint8_t b) {
    // Russian-peasant multiplication with masks instead of branches.
    uint8_t r = 0;
    for (int i = 0; i < 8; i++) {
        r ^= (uint8_t)(-(b & 1) & a);
        uint8_t hi = (uint8_t)-(a >> 7);
        a = (uint8_t)((a << 1) ^ (hi & 0x1b));
        b >>= 1;
    }
    return r;
}

uint8_t kt_gf_inv(uint8_t a) {
    // a^254 = a^-1 by Fermat; a^254 of 0 is 0, as Vault's div expects.
    uint8_t b = kt_gf_mul(a, a);  // a^2
    uint8_t c = kt_gf_mul(a, b);  // a^3
    b = kt_gf_mul(c, c);          // a^6
    b = kt_gf_mul(b, b);          // a^12
    c = kt_gf_mul(b, c);          // a^15
    b = kt_gf_mul(b, b);          // a^24
    b = kt_gf_mul(b, b);          // a^48
    b = kt_gf_mul(b, c);          // a^63
    b = kt_gf_mul(b, b);          // a^126
    b = kt_gf_mul(a, b);          // a^127
    return kt_gf_mul(b, b);       // a^254
}

// MARK: portable bulk path (SWAR, 8 bytes per word)

static inline uint64_t xtime64(uint64_t v) {
    uint64_t hi = v & 0x8080808080808080ULL;
    return ((v & 0x7f7f7f7f7f7f7f7fULL) << 1) ^ ((hi >> 7) * 0x1b);
}

static inline uint64_t mul64(uint64_t v, uint8_t c) {
    uint64_t r = 0;
    for (int i = 0; i < 8; i++) {
        r ^= v & (uint64_t)(-(int64_t)((c >> i) & 1));
        v = xtime64(v);
    }
    return r;
}

static void mul_xor_portable(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v, w = 0;
        memcpy(&v, a + i, 8);
        if (b) memcpy(&w, b + i, 8);
        v = mul64(v, c) ^ w;
        memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++) {
        dst[i] = kt_gf_mul(a[i], c) ^ (b ? b[i] : 0);
    }
}

// MARK: x86 SIMD paths

#ifdef KT_X86

// Products of c with every low nibble and every high nibble: public tables, indexed by
// secret nibbles only through pshufb, which is a register permutation, not a memory access.
static void nibble_tables(uint8_t c, uint8_t lo[16], uint8_t hi[16]) {
    for (int i = 0; i < 16; i++) {
        lo[i] = kt_gf_mul((uint8_t)i, c);
        hi[i] = kt_gf_mul((uint8_t)(i << 4), c);
    }
}

__attribute__((target("ssse3")))
static void mul_xor_ssse3(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
    uint8_t lo[16], hi[16];
    nibble_tables(c, lo, hi);
    const __m128i tlo = _mm_loadu_si128((const __m128i *)lo);
    const __m128i thi = _mm_loadu_si128((const __m128i *)hi);
    const __m128i mask = _mm_set1_epi8(0x0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(a + i));
        __m128i r = _mm_xor_si128(_mm_shuffle_epi8(tlo, _mm_and_si128(v, mask)),
                                  _mm_shuffle_epi8(thi, _mm_and_si128(_mm_srli_epi64(v, 4), mask)));
        if (b) r = _mm_xor_si128(r, _mm_loadu_si128((const __m128i *)(b + i)));
        _mm_storeu_si128((__m128i *)(dst + i), r);
    }
    if (i < n) mul_xor_portable(dst + i, a + i, c, b ? b + i : NULL, n - i);
}

__attribute__((target("avx2")))
static void mul_xor_avx2(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
    uint8_t lo[16], hi[16];
    nibble_tables(c, lo, hi);
    const __m256i tlo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)lo));
    const __m256i thi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)hi));
    const __m256i mask = _mm256_set1_epi8(0x0f);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(a + i));
        __m256i r = _mm256_xor_si256(_mm256_shuffle_epi8(tlo, _mm256_and_si256(v, mask)),
                                     _mm256_shuffle_epi8(thi, _mm256_and_si256(_mm256_srli_epi64(v, 4), mask)));
        if (b) r = _mm256_xor_si256(r, _mm256_loadu_si256((const __m256i *)(b + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), r);
    }
    if (i < n) mul_xor_ssse3(dst + i, a + i, c, b ? b + i : NULL, n - i);
}

__attribute__((target("gfni,avx512f,avx512bw")))
static void mul_xor_gfni512(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
    const __m512i vc = _mm512_set1_epi8((char)c);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i r = _mm512_gf2p8mul_epi8(_mm512_loadu_si512((const void *)(a + i)), vc);
        if (b) r = _mm512_xor_si512(r, _mm512_loadu_si512((const void *)(b + i)));
        _mm512_storeu_si512((void *)(dst + i), r);
    }
    if (i < n) {
        // Masked tail: the mask depends on the length only, which is public.
        __mmask64 m = (__mmask64)((1ULL << (n - i)) - 1);  // n - i < 64 here
        __m512i r = _mm512_gf2p8mul_epi8(_mm512_maskz_loadu_epi8(m, a + i), vc);
        if (b) r = _mm512_xor_si512(r, _mm512_maskz_loadu_epi8(m, b + i));
        _mm512_mask_storeu_epi8(dst + i, m, r);
    }
}

__attribute__((target("gfni,avx2")))
static void mul_xor_gfni256(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
    const __m256i vc = _mm256_set1_epi8((char)c);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i r = _mm256_gf2p8mul_epi8(_mm256_loadu_si256((const __m256i *)(a + i)), vc);
        if (b) r = _mm256_xor_si256(r, _mm256_loadu_si256((const __m256i *)(b + i)));
        _mm256_storeu_si256((__m256i *)(dst + i), r);
    }
    if (i < n) mul_xor_portable(dst + i, a + i, c, b ? b + i : NULL, n - i);
}

static int cpu_has_avx512bw = 0;

static int detect_best(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return KT_IMPL_PORTABLE;
    int ssse3 = (ecx >> 9) & 1;
    int osxsave = (ecx >> 27) & 1;
    int avx = (ecx >> 28) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    int ymm_os = (xcr0 & 0x6) == 0x6;
    int zmm_os = (xcr0 & 0xe6) == 0xe6;
    unsigned b7 = 0, c7 = 0;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, eax, ebx, ecx, edx);
        b7 = ebx;
        c7 = ecx;
    }
    int avx2 = avx && ymm_os && ((b7 >> 5) & 1);
    int avx512f = zmm_os && ((b7 >> 16) & 1);
    int avx512bw = avx512f && ((b7 >> 30) & 1);
    int gfni = (c7 >> 8) & 1;
    cpu_has_avx512bw = avx512bw;
    if (gfni && avx2) return KT_IMPL_GFNI;
    if (avx2) return KT_IMPL_AVX2;
    if (ssse3) return KT_IMPL_SSSE3;
    return KT_IMPL_PORTABLE;
}
#else
static int detect_best(void) { return KT_IMPL_PORTABLE; }
#endif

// MARK: dispatch

static int best_impl = -1;
static int current_impl = -1;

int kt_best_impl(void) {
    // Racy first call is benign: every thread computes the same value.
    if (best_impl < 0) best_impl = detect_best();
    return best_impl;
}

int kt_impl_available(int impl) { return impl >= KT_IMPL_PORTABLE && impl <= kt_best_impl(); }

int kt_current_impl(void) {
    if (current_impl < 0) current_impl = kt_best_impl();
    return current_impl;
}

int kt_set_impl(int impl) {
    if (!kt_impl_available(impl)) return -1;
    current_impl = impl;
    return 0;
}

const char *kt_impl_name(int impl) {
    switch (impl) {
    case KT_IMPL_PORTABLE: return "portable-swar";
    case KT_IMPL_SSSE3: return "ssse3";
    case KT_IMPL_AVX2: return "avx2";
    case KT_IMPL_GFNI:
#ifdef KT_X86
        kt_best_impl();
        return cpu_has_avx512bw ? "gfni-avx512" : "gfni-avx2";
#else
        return "gfni";
#endif
    default: return "unknown";
    }
}

void kt_mul_xor_impl(int impl, uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
#ifdef KT_X86
    switch (impl) {
    case KT_IMPL_GFNI:
        if (cpu_has_avx512bw) mul_xor_gfni512(dst, a, c, b, n);
        else mul_xor_gfni256(dst, a, c, b, n);
        return;
    case KT_IMPL_AVX2: mul_xor_avx2(dst, a, c, b, n); return;
    case KT_IMPL_SSSE3: mul_xor_ssse3(dst, a, c, b, n); return;
    default: break;
    }
#endif
    (void)impl;
    mul_xor_portable(dst, a, c, b, n);
}

void kt_mul_xor(uint8_t *dst, const uint8_t *a, uint8_t c, const uint8_t *b, size_t n) {
    kt_mul_xor_impl(kt_current_impl(), dst, a, c, b, n);
}

// MARK: hex
//
// Every path is arithmetic on the data: a digit's character is chosen by pshufb from a
// 16-entry register (a permutation, not a memory access) or by compare masks; validity is
// accumulated over the whole text and reported once, as one bit.

static void hex_encode_scalar(char *dst, const uint8_t *src, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int hi = src[i] >> 4, lo = src[i] & 0x0f;
        // 0..9 -> '0'..'9'; 10..15 -> 'a'..'f': add 0x27 when (9 - v) is negative.
        dst[2 * i] = (char)(hi + 0x30 + (((9 - hi) >> 8) & 0x27));
        dst[2 * i + 1] = (char)(lo + 0x30 + (((9 - lo) >> 8) & 0x27));
    }
}

// Value of one hex digit, or sets *bad; no branch on the character.
static inline int hex_value(int c, int *bad) {
    int isdig = (((0x2f - c) & (c - 0x3a)) >> 8) & 1;  // '0'..'9'
    int l = c | 0x20;
    int isalpha = (((0x60 - l) & (l - 0x67)) >> 8) & 1; // 'a'..'f' (or 'A'..'F')
    *bad |= (isdig | isalpha) ^ 1;
    return ((c - 0x30) & -isdig) | ((l - 0x57) & -isalpha);
}

// Returns non-zero if any character was not a hex digit.
static int hex_decode_scalar(uint8_t *dst, const char *src, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value((unsigned char)src[2 * i], &bad);
        int lo = hex_value((unsigned char)src[2 * i + 1], &bad);
        dst[i] = (uint8_t)((hi << 4) | lo);
    }
    return bad;
}

#ifdef KT_X86

static const char hex_digits[16] = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

// Decoding classifies each character by its two nibbles with pshufb (register permutations,
// not memory accesses): the high nibble's class (3: digit row, 4 or 6: letter row) and the low
// nibble's (0-9: digit column, 1-6: letter column) must share a bit, and the value is the low
// nibble plus 9 on a letter row. Characters >= 0x80 have no class.
static const int8_t hex_class_hi[16] = {0, 0, 0, 1, 2, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static const int8_t hex_class_lo[16] = {1, 3, 3, 3, 3, 3, 3, 1, 1, 1, 0, 0, 0, 0, 0, 0};
static const int8_t hex_add_hi[16] = {0, 0, 0, 0, 9, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0};

// Digit values of 16 characters, with all-ones in *bad for every byte that is no hex digit.
__attribute__((target("ssse3")))
static inline __m128i hex_values_128(__m128i c, __m128i *bad) {
    const __m128i nib = _mm_set1_epi8(0x0f);
    const __m128i hi = _mm_and_si128(_mm_srli_epi16(c, 4), nib), lo = _mm_and_si128(c, nib);
    const __m128i cls = _mm_and_si128(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)hex_class_hi), hi),
                                      _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)hex_class_lo), lo));
    *bad = _mm_or_si128(*bad, _mm_cmpeq_epi8(cls, _mm_setzero_si128()));
    return _mm_add_epi8(lo, _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)hex_add_hi), hi));
}

__attribute__((target("ssse3")))
static void hex_encode_ssse3(char *dst, const uint8_t *src, size_t n) {
    const __m128i digits = _mm_loadu_si128((const __m128i *)hex_digits);
    const __m128i mask = _mm_set1_epi8(0x0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(src + i));
        __m128i hi = _mm_shuffle_epi8(digits, _mm_and_si128(_mm_srli_epi64(v, 4), mask));
        __m128i lo = _mm_shuffle_epi8(digits, _mm_and_si128(v, mask));
        _mm_storeu_si128((__m128i *)(dst + 2 * i), _mm_unpacklo_epi8(hi, lo));
        _mm_storeu_si128((__m128i *)(dst + 2 * i + 16), _mm_unpackhi_epi8(hi, lo));
    }
    hex_encode_scalar(dst + 2 * i, src + i, n - i);
}

__attribute__((target("ssse3")))
static int hex_decode_ssse3(uint8_t *dst, const char *src, size_t n) {
    const __m128i weights = _mm_set1_epi16(0x0110);  // bytes (16, 1): high digit * 16 + low digit
    __m128i bad = _mm_setzero_si128();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m128i a = hex_values_128(_mm_loadu_si128((const __m128i *)(src + 2 * i)), &bad);
        __m128i b = hex_values_128(_mm_loadu_si128((const __m128i *)(src + 2 * i + 16)), &bad);
        __m128i pa = _mm_maddubs_epi16(a, weights), pb = _mm_maddubs_epi16(b, weights);
        _mm_storeu_si128((__m128i *)(dst + i), _mm_packus_epi16(pa, pb));
    }
    return (_mm_movemask_epi8(bad) != 0) | hex_decode_scalar(dst + i, src + 2 * i, n - i);
}

__attribute__((target("avx2")))
static inline __m256i hex_values_256(__m256i c, __m256i *bad) {
    const __m256i nib = _mm256_set1_epi8(0x0f);
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), nib), lo = _mm256_and_si256(c, nib);
    const __m256i chi = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)hex_class_hi));
    const __m256i clo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)hex_class_lo));
    const __m256i add = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)hex_add_hi));
    const __m256i cls = _mm256_and_si256(_mm256_shuffle_epi8(chi, hi), _mm256_shuffle_epi8(clo, lo));
    *bad = _mm256_or_si256(*bad, _mm256_cmpeq_epi8(cls, _mm256_setzero_si256()));
    return _mm256_add_epi8(lo, _mm256_shuffle_epi8(add, hi));
}

__attribute__((target("avx2")))
static void hex_encode_avx2(char *dst, const uint8_t *src, size_t n) {
    const __m256i digits = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)hex_digits));
    const __m256i mask = _mm256_set1_epi8(0x0f);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(src + i));
        __m256i hi = _mm256_shuffle_epi8(digits, _mm256_and_si256(_mm256_srli_epi64(v, 4), mask));
        __m256i lo = _mm256_shuffle_epi8(digits, _mm256_and_si256(v, mask));
        // unpack works within 128-bit lanes: bytes 0-7 | 16-23 and 8-15 | 24-31.
        __m256i l = _mm256_unpacklo_epi8(hi, lo), h = _mm256_unpackhi_epi8(hi, lo);
        _mm256_storeu_si256((__m256i *)(dst + 2 * i), _mm256_permute2x128_si256(l, h, 0x20));
        _mm256_storeu_si256((__m256i *)(dst + 2 * i + 32), _mm256_permute2x128_si256(l, h, 0x31));
    }
    hex_encode_ssse3(dst + 2 * i, src + i, n - i);
}

__attribute__((target("avx2")))
static int hex_decode_avx2(uint8_t *dst, const char *src, size_t n) {
    const __m256i weights = _mm256_set1_epi16(0x0110);
    __m256i bad = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = hex_values_256(_mm256_loadu_si256((const __m256i *)(src + 2 * i)), &bad);
        __m256i b = hex_values_256(_mm256_loadu_si256((const __m256i *)(src + 2 * i + 32)), &bad);
        // packus interleaves the lanes (a0 b0 a1 b1); the permute puts them back in order.
        __m256i packed = _mm256_packus_epi16(_mm256_maddubs_epi16(a, weights), _mm256_maddubs_epi16(b, weights));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_permute4x64_epi64(packed, 0xd8));
    }
    return (_mm256_movemask_epi8(bad) != 0) | hex_decode_ssse3(dst + i, src + 2 * i, n - i);
}

__attribute__((target("avx512f,avx512bw")))
static inline __m512i hex_values_512(__m512i c, __mmask64 *bad) {
    const __m512i nib = _mm512_set1_epi8(0x0f);
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(c, 4), nib), lo = _mm512_and_si512(c, nib);
    const __m512i chi = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)hex_class_hi));
    const __m512i clo = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)hex_class_lo));
    const __m512i add = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)hex_add_hi));
    *bad |= ~_mm512_test_epi8_mask(_mm512_shuffle_epi8(chi, hi), _mm512_shuffle_epi8(clo, lo));
    return _mm512_add_epi8(lo, _mm512_shuffle_epi8(add, hi));
}

__attribute__((target("avx512f,avx512bw")))
static void hex_encode_avx512(char *dst, const uint8_t *src, size_t n) {
    const __m512i digits = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)hex_digits));
    const __m512i mask = _mm512_set1_epi8(0x0f);
    const __m512i first = _mm512_set_epi64(11, 10, 3, 2, 9, 8, 1, 0);
    const __m512i second = _mm512_set_epi64(15, 14, 7, 6, 13, 12, 5, 4);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i v = _mm512_loadu_si512((const void *)(src + i));
        __m512i hi = _mm512_shuffle_epi8(digits, _mm512_and_si512(_mm512_srli_epi64(v, 4), mask));
        __m512i lo = _mm512_shuffle_epi8(digits, _mm512_and_si512(v, mask));
        // Per 128-bit lane k: l holds bytes 16k..16k+7, h bytes 16k+8..16k+15.
        __m512i l = _mm512_unpacklo_epi8(hi, lo), h = _mm512_unpackhi_epi8(hi, lo);
        _mm512_storeu_si512((void *)(dst + 2 * i), _mm512_permutex2var_epi64(l, first, h));
        _mm512_storeu_si512((void *)(dst + 2 * i + 64), _mm512_permutex2var_epi64(l, second, h));
    }
    hex_encode_avx2(dst + 2 * i, src + i, n - i);
}

__attribute__((target("avx512f,avx512bw")))
static int hex_decode_avx512(uint8_t *dst, const char *src, size_t n) {
    const __m512i weights = _mm512_set1_epi16(0x0110);
    const __m512i order = _mm512_set_epi64(7, 5, 3, 1, 6, 4, 2, 0);
    __mmask64 bad = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i a = hex_values_512(_mm512_loadu_si512((const void *)(src + 2 * i)), &bad);
        __m512i b = hex_values_512(_mm512_loadu_si512((const void *)(src + 2 * i + 64)), &bad);
        __m512i packed = _mm512_packus_epi16(_mm512_maddubs_epi16(a, weights), _mm512_maddubs_epi16(b, weights));
        _mm512_storeu_si512((void *)(dst + i), _mm512_permutexvar_epi64(order, packed));
    }
    return (bad != 0) | hex_decode_avx2(dst + i, src + 2 * i, n - i);
}

#endif

// The hex kernels follow the bulk kernel's implementation: portable -> scalar, SSSE3, AVX2,
// and with GFNI the AVX-512BW kernel where the CPU has it (else AVX2).
const char *kt_hex_impl_name(int impl) {
#ifdef KT_X86
    switch (impl) {
    case KT_IMPL_SSSE3: return "ssse3";
    case KT_IMPL_AVX2: return "avx2";
    case KT_IMPL_GFNI: kt_best_impl(); return cpu_has_avx512bw ? "avx512bw" : "avx2";
    default: break;
    }
#endif
    (void)impl;
    return "scalar";
}

void kt_hex_encode_impl(int impl, char *dst, const uint8_t *src, size_t n) {
#ifdef KT_X86
    switch (impl) {
    case KT_IMPL_GFNI:
        if (cpu_has_avx512bw) hex_encode_avx512(dst, src, n);
        else hex_encode_avx2(dst, src, n);
        return;
    case KT_IMPL_AVX2: hex_encode_avx2(dst, src, n); return;
    case KT_IMPL_SSSE3: hex_encode_ssse3(dst, src, n); return;
    default: break;
    }
#endif
    (void)impl;
    hex_encode_scalar(dst, src, n);
}

int kt_hex_decode_impl(int impl, uint8_t *dst, const char *src, size_t n) {
    int bad;
#ifdef KT_X86
    switch (impl) {
    case KT_IMPL_GFNI: bad = cpu_has_avx512bw ? hex_decode_avx512(dst, src, n) : hex_decode_avx2(dst, src, n); break;
    case KT_IMPL_AVX2: bad = hex_decode_avx2(dst, src, n); break;
    case KT_IMPL_SSSE3: bad = hex_decode_ssse3(dst, src, n); break;
    default: bad = hex_decode_scalar(dst, src, n); break;
    }
#else
    (void)impl;
    bad = hex_decode_scalar(dst, src, n);
#endif
    return bad ? -1 : 0;
}

void kt_hex_encode(char *dst, const uint8_t *src, size_t n) { kt_hex_encode_impl(kt_current_impl(), dst, src, n); }

int kt_hex_decode(uint8_t *dst, const char *src, size_t n) { return kt_hex_decode_impl(kt_current_impl(), dst, src, n); }

// Value of one base64 character, or sets *bad; arithmetic ranges instead of a table.
static inline int b64_value(int c, int *bad) {
    int upper = (((0x40 - c) & (c - 0x5b)) >> 8) & 1;  // 'A'..'Z' -> 0..25
    int lower = (((0x60 - c) & (c - 0x7b)) >> 8) & 1;  // 'a'..'z' -> 26..51
    int digit = (((0x2f - c) & (c - 0x3a)) >> 8) & 1;  // '0'..'9' -> 52..61
    int plus = (((c ^ 0x2b) - 1) >> 8) & 1;            // '+' -> 62
    int slash = (((c ^ 0x2f) - 1) >> 8) & 1;           // '/' -> 63
    *bad |= (upper | lower | digit | plus | slash) ^ 1;
    return ((c - 0x41) & -upper) | ((c - 0x47) & -lower) | ((c + 4) & -digit) | (62 & -plus) | (63 & -slash);
}

long kt_base64_decode(uint8_t *dst, const char *src, size_t len) {
    // Padding is public (it only says how long the secret is).
    while (len > 0 && src[len - 1] == '=') len--;
    if (len % 4 == 1) return -1;
    int bad = 0;
    size_t out = 0, i = 0;
    for (; i + 4 <= len; i += 4) {
        int a = b64_value((unsigned char)src[i], &bad), b = b64_value((unsigned char)src[i + 1], &bad);
        int c = b64_value((unsigned char)src[i + 2], &bad), d = b64_value((unsigned char)src[i + 3], &bad);
        dst[out++] = (uint8_t)((a << 2) | (b >> 4));
        dst[out++] = (uint8_t)((b << 4) | (c >> 2));
        dst[out++] = (uint8_t)((c << 6) | d);
    }
    if (len - i >= 2) {
        int a = b64_value((unsigned char)src[i], &bad), b = b64_value((unsigned char)src[i + 1], &bad);
        dst[out++] = (uint8_t)((a << 2) | (b >> 4));
        if (len - i == 3) {
            int c = b64_value((unsigned char)src[i + 2], &bad);
            dst[out++] = (uint8_t)((b << 4) | (c >> 2));
        }
    }
    return bad ? -1 : (long)out;
}

void kt_secure_zero(void *p, size_t n) {
    if (n == 0) return;
    memset(p, 0, n);
    // The empty asm reads p and clobbers memory, so the memset above cannot be elided.
    __asm__ __volatile__("" : : "r"(p) : "memory");
}

long kt_getrandom(void *p, size_t n) { return (long)getrandom(p, n, 0); }
