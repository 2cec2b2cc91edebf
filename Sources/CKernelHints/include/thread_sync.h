// Atomics and a spin-wait hint for the kernels' thread pool (KernelThreadPool.swift). The
// package supports macOS 13, where Swift's Synchronization.Atomic is unavailable; these static
// inline wrappers over the compiler's __atomic builtins are inlined into the Swift callers.
#ifndef RINGTRAIN_THREAD_SYNC_H
#define RINGTRAIN_THREAD_SYNC_H

static inline long rt_atomic_load(const long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline long rt_atomic_load_acquire(const long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void rt_atomic_store_release(long *p, long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/// Adds v and returns the new value (sequentially consistent: a full barrier).
static inline long rt_atomic_add(long *p, long v) { return __atomic_add_fetch(p, v, __ATOMIC_SEQ_CST); }
/// Sets *p to desired if it holds expected; returns whether it did.
static inline _Bool rt_atomic_exchange_if(long *p, long expected, long desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
/// The CPU's spin-wait hint (x86 `pause`): saves power and frees the sibling hyperthread.
static inline void rt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#endif
