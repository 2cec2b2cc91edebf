// Cache hints for the GEMM micro-kernels. Swift has no prefetch instruction; this static
// inline wrapper is imported through the Clang importer and inlined into the Swift loops.
#ifndef RINGTRAIN_KERNEL_HINTS_H
#define RINGTRAIN_KERNEL_HINTS_H

/// Asks for the cache line holding p in every cache level (prefetcht0), for a write soon.
static inline void rt_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
