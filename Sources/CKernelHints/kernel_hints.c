// Header-only target (include/kernel_hints.h, include/thread_sync.h); SwiftPM needs one
// source file per C target.
#include "kernel_hints.h"
