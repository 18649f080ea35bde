import Glibc

/// What the process runs under, for the few tests whose measure depends on it.
public enum Sanitizers {
    /// Whether AddressSanitizer is in this process (`scripts/asan`): its allocator replaces glibc's
    /// malloc and quarantines what is freed, so a test of glibc's heap (its free blocks, what
    /// `malloc_trim` gives back) has nothing to measure, and skips.
    public static var addressSanitizerIsActive: Bool {
        dlsym(nil, "__asan_init") != nil  // RTLD_DEFAULT: every object loaded
    }
}
