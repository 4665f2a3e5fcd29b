// The allocator the `vigil` binary runs on: jemalloc (when built with
// VIGIL_JEMALLOC), its arenas and metadata in transparent huge pages.
//
// On the 2-core VM the benchmarks run on, a page fault costs microseconds,
// and loading SigmaHQ's 2,399 rules touched ~75 MB of fresh heap in 4 KB
// pages: 18,500 faults, a fifth of the 0.45 s start in the kernel's fault
// path. In 2 MB pages the start took 0.19 s and the 500 k-event hunt ~12 %
// less (1,200 faults instead of 37,700; BENCHMARKS.md, session 22). The kernel grants huge pages only
// where /sys/kernel/mm/transparent_hugepage/enabled says `madvise` or
// `always` (Debian's default is `madvise`); elsewhere nothing changes.
// Sanitizer and fuzzing builds keep the C library's allocator, which the
// sanitizers replace.
//
// jemalloc reads this symbol when it starts (before main); MALLOC_CONF in
// the environment still overrides it.
extern "C" {
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables): jemalloc's documented hook
const char* malloc_conf = "thp:always,metadata_thp:always";
}
