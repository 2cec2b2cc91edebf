// The byte-level loops of the sparse-planes gradient payload (Sources/Codecs/SparsePlanes.swift
// has the format and the reasons). In C because they need a variable lane permutation (AVX2
// vpermd) to pack the non-zero elements of each group of 8 without branches; Swift's SIMD
// types cannot express it, and their comparisons and narrowing conversions compile to
// per-lane code. Every function has a portable scalar path giving the same bytes.
#ifndef RINGTRAIN_SPARSE_PLANES_H
#define RINGTRAIN_SPARSE_PLANES_H

#include <stddef.h>
#include <stdint.h>

/// Bytes of room each plane passed to rt_split_sparse needs beyond n: groups of 8 are
/// written whole before the count of kept elements advances.
#define RT_SPARSE_SLACK 8

/// Splits n elements (width 4: float32 bits at src; width 2: bfloat16 bits) into the bitmap
/// (ceil(n/8) bytes, bit i%8 of byte i/8 set when element i is not all-zero bits, bits past
/// n clear), the high byte of each non-zero element (at high) and its lower bytes (byte j at
/// low + j*stride, j < width-1). high and every low plane need n + RT_SPARSE_SLACK bytes of
/// room; stride >= n + RT_SPARSE_SLACK. Returns the number of non-zero elements.
size_t rt_split_sparse(const void *src, size_t n, int width, uint8_t *mask, uint8_t *high,
                       uint8_t *low, size_t stride);

/// The inverse: n elements from the bitmap, kept high bytes and lower planes (byte j of the
/// kept elements at low + j*kept). Writes float32 to dst (bfloat16 widened), or adds to it
/// when accumulate != 0 (decoded + dst; zero positions add +0.0). The caller has checked
/// that the bitmap marks exactly kept elements, none past n; nothing is read past the
/// planes' kept bytes.
void rt_expand_sparse(const uint8_t *mask, const uint8_t *high, const uint8_t *low, size_t kept,
                      size_t n, int width, float *dst, int accumulate);

/// The same two functions without vector instructions: the reference the tests compare the
/// AVX2 paths with (and what runs on other CPUs).
size_t rt_split_sparse_portable(const void *src, size_t n, int width, uint8_t *mask, uint8_t *high,
                                uint8_t *low, size_t stride);
void rt_expand_sparse_portable(const uint8_t *mask, const uint8_t *high, const uint8_t *low, size_t kept,
                               size_t n, int width, float *dst, int accumulate);

/// Rounds src (+ residual when residual != NULL) to nearest-even bfloat16 bits in out; with a
/// residual, stores the rounding error back into it (0 where the error is not finite).
/// NaN becomes a quiet NaN. Same bits as Swift's bfloat16Bits.
void rt_round_bfloat16(const float *src, float *residual, uint16_t *out, size_t n);

#endif
