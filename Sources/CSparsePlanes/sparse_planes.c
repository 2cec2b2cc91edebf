// See include/sparse_planes.h.
#include "sparse_planes.h"

#include <string.h>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

static inline uint32_t load_element(const void *src, size_t i, int width) {
    if (width == 4) {
        uint32_t v;
        memcpy(&v, (const uint8_t *)src + 4 * i, 4);
        return v;
    }
    uint16_t v;
    memcpy(&v, (const uint8_t *)src + 2 * i, 2);
    return v;
}

static inline void keep_element(uint32_t v, size_t k, int width, uint8_t *high, uint8_t *low, size_t stride) {
    high[k] = (uint8_t)(v >> (8 * (width - 1)));
    low[k] = (uint8_t)v;
    if (width == 4) {
        low[stride + k] = (uint8_t)(v >> 8);
        low[2 * stride + k] = (uint8_t)(v >> 16);
    }
}

static inline uint32_t kept_element(const uint8_t *high, const uint8_t *low, size_t kept, size_t k, int width) {
    if (width == 4) {
        return (uint32_t)low[k] | (uint32_t)low[kept + k] << 8 | (uint32_t)low[2 * kept + k] << 16 |
               (uint32_t)high[k] << 24;
    }
    return ((uint32_t)low[k] | (uint32_t)high[k] << 8) << 16;
}

static inline void put_float(float *dst, size_t i, uint32_t bits, int accumulate) {
    float x;
    memcpy(&x, &bits, 4);
    dst[i] = accumulate ? x + dst[i] : x;
}

#if defined(__AVX2__)
// pack[m]: the lanes whose bit is set in m, in order (then zeros). unpack[m][j]: for a set
// bit j, how many set bits precede it (where lane j's value sits in the packed vector).
static uint8_t pack_table[256][8];
static uint8_t unpack_table[256][8];

__attribute__((constructor)) static void build_tables(void) {
    for (int m = 0; m < 256; m++) {
        int c = 0;
        for (int j = 0; j < 8; j++) {
            pack_table[m][j] = 0;
            unpack_table[m][j] = (uint8_t)c;
            if (m & (1 << j)) pack_table[m][c++] = (uint8_t)j;
        }
    }
}

static inline __m256i lane_indices(const uint8_t table[8]) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)table));
}
#endif

// The portable loops, from element i (a multiple of 8) and kept count k on.
static size_t split_from(const void *src, size_t i, size_t k, size_t n, int width, uint8_t *mask,
                         uint8_t *high, uint8_t *low, size_t stride) {
    for (; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8;
        uint8_t bits = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t v = load_element(src, i + j, width);
            if (v != 0) {
                bits |= (uint8_t)(1u << j);
                keep_element(v, k++, width, high, low, stride);
            }
        }
        mask[i >> 3] = bits;
    }
    return k;
}

static void expand_from(const uint8_t *mask, const uint8_t *high, const uint8_t *low, size_t kept, size_t i,
                        size_t k, size_t n, int width, float *dst, int accumulate) {
    for (; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8;
        uint8_t bits = mask[i >> 3];
        for (size_t j = 0; j < m; j++) {
            uint32_t v = 0;
            if (bits & (1u << j)) v = kept_element(high, low, kept, k++, width);
            put_float(dst, i + j, v, accumulate);
        }
    }
}

size_t rt_split_sparse_portable(const void *src, size_t n, int width, uint8_t *mask, uint8_t *high,
                                uint8_t *low, size_t stride) {
    return split_from(src, 0, 0, n, width, mask, high, low, stride);
}

void rt_expand_sparse_portable(const uint8_t *mask, const uint8_t *high, const uint8_t *low, size_t kept,
                               size_t n, int width, float *dst, int accumulate) {
    expand_from(mask, high, low, kept, 0, 0, n, width, dst, accumulate);
}

size_t rt_split_sparse(const void *src, size_t n, int width, uint8_t *mask, uint8_t *high,
                       uint8_t *low, size_t stride) {
    size_t k = 0, i = 0;
#if defined(__AVX2__)
    // Within each 128-bit half: byte 0 of the 4 elements, then byte 1s, 2s, 3s; then the
    // dwords reordered so that each 64-bit lane holds one byte plane of all 8 elements.
    const __m256i bytes_by_plane = _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
                                                    0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m256i halves_together = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (; i + 8 <= n; i += 8) {
        __m256i v = width == 4 ? _mm256_loadu_si256((const __m256i *)((const uint8_t *)src + 4 * i))
                               : _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)((const uint8_t *)src + 2 * i)));
        unsigned m = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(v, _mm256_setzero_si256()))) & 0xFF;
        mask[i >> 3] = (uint8_t)m;
        __m256i packed = _mm256_permutevar8x32_epi32(v, lane_indices(pack_table[m]));
        __m256i planes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(packed, bytes_by_plane), halves_together);
        uint64_t p0 = (uint64_t)_mm256_extract_epi64(planes, 0), p1 = (uint64_t)_mm256_extract_epi64(planes, 1);
        if (width == 4) {
            uint64_t p2 = (uint64_t)_mm256_extract_epi64(planes, 2), p3 = (uint64_t)_mm256_extract_epi64(planes, 3);
            memcpy(low + k, &p0, 8);
            memcpy(low + stride + k, &p1, 8);
            memcpy(low + 2 * stride + k, &p2, 8);
            memcpy(high + k, &p3, 8);
        } else {
            memcpy(low + k, &p0, 8);
            memcpy(high + k, &p1, 8);
        }
        k += (size_t)__builtin_popcount(m);
    }
#endif
    return split_from(src, i, k, n, width, mask, high, low, stride);
}

void rt_expand_sparse(const uint8_t *mask, const uint8_t *high, const uint8_t *low, size_t kept,
                      size_t n, int width, float *dst, int accumulate) {
    size_t k = 0, i = 0;
#if defined(__AVX2__)
    const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    // Vector groups while 8 bytes can be read from every plane at k without passing kept.
    for (; i + 8 <= n && k + 8 <= kept; i += 8) {
        unsigned m = mask[i >> 3];
        __m256i lo0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(low + k)));
        __m256i hi = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(high + k)));
        __m256i w;
        if (width == 4) {
            __m256i lo1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(low + kept + k)));
            __m256i lo2 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(low + 2 * kept + k)));
            w = _mm256_or_si256(_mm256_or_si256(lo0, _mm256_slli_epi32(lo1, 8)),
                                _mm256_or_si256(_mm256_slli_epi32(lo2, 16), _mm256_slli_epi32(hi, 24)));
        } else {
            w = _mm256_or_si256(_mm256_slli_epi32(lo0, 16), _mm256_slli_epi32(hi, 24));
        }
        __m256i present = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)m), lane_bit), lane_bit);
        __m256 x = _mm256_castsi256_ps(_mm256_and_si256(_mm256_permutevar8x32_epi32(w, lane_indices(unpack_table[m])), present));
        if (accumulate) x = _mm256_add_ps(x, _mm256_loadu_ps(dst + i));
        _mm256_storeu_ps(dst + i, x);
        k += (size_t)__builtin_popcount(m);
    }
#endif
    expand_from(mask, high, low, kept, i, k, n, width, dst, accumulate);
}

void rt_round_bfloat16(const float *src, float *residual, uint16_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = residual ? src[i] + residual[i] : src[i];
        uint32_t b;
        memcpy(&b, &v, 4);
        uint32_t rounded = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
        uint32_t h = (b & 0x7FFFFFFFu) > 0x7F800000u ? ((b >> 16) | 0x0040u) : rounded;
        out[i] = (uint16_t)h;
        if (residual) {
            uint32_t back_bits = h << 16;
            float back;
            memcpy(&back, &back_bits, 4);
            float e = v - back;
            uint32_t eb;
            memcpy(&eb, &e, 4);
            residual[i] = (eb & 0x7F800000u) == 0x7F800000u ? 0.0f : e;
        }
    }
}
