// Memory for weight copies that generation streams (the interleaved Q4 matrices): aligned
// to 2 MiB and marked for transparent huge pages, so streaming it takes a TLB miss every
// 2 MiB instead of every 4 KiB (Benchmarks/README.md, "Design decisions and their
// measurements"). Where huge pages are unavailable it is plain memory.
#include "kernels.h"
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_PAGE ((size_t)2 << 20)

static size_t mapped_bytes(size_t bytes) { return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1); }

void *infer_huge_pages_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t size = mapped_bytes(bytes);
    // Map a huge page more than needed, then unmap the unaligned head and the tail.
    char *raw = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    char *start = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > raw) munmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)(raw + size + HUGE_PAGE - (start + size));
    if (tail) munmap(start + size, tail);
#ifdef MADV_HUGEPAGE
    madvise(start, size, MADV_HUGEPAGE);  // advice: without it (THP off), 4 KiB pages
#endif
    return start;
}

void infer_huge_pages_free(void *memory, size_t bytes) {
    if (memory) munmap(memory, mapped_bytes(bytes ? bytes : 1));
}
