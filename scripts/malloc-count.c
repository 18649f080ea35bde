// malloc-count.c: an LD_PRELOAD library that counts a process's calls into the allocator.
//
//   cc -O2 -shared -fPIC -pthread -o malloc-count.so scripts/malloc-count.c -ldl
//   MALLOC_COUNT_FILE=/tmp/counts MALLOC_COUNT_SIGNAL=40 LD_PRELOAD=$PWD/malloc-count.so PROGRAM...
//
// Counts malloc, calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign, valloc,
// pvalloc and free (of a non-NULL pointer), and the bytes asked for, with relaxed atomics (one
// process, any number of threads), then forwards each call to the next definition (glibc's, found
// with dlsym(RTLD_NEXT)). Counting starts at zero in every process: at load, and again in the child
// of every fork(), so a pre-fork worker's counts are its own and not its master's.
//
// Writes the counts as one line of key=value words to $MALLOC_COUNT_FILE.PID (through a .tmp file
// and rename(2), so a reader never sees half a line):
//   - on the signal numbered $MALLOC_COUNT_SIGNAL, if set (a real-time one, 34..64, so the program
//     is unlikely to use it; a process that blocks it or installs its own handler is not
//     reachable this way), the process keeps running;
//   - at exit(3), and at _exit(2), which is wrapped too: a forked worker leaves with _exit, which
//     runs no destructor.
// Without MALLOC_COUNT_FILE it counts and writes nothing.
//
// No allocation happens inside a hook or the dump: the dump formats numbers itself and uses only
// open/write/rename/close (async-signal-safe). dlsym may call calloc before the real one is
// known; such calls are served from a static bootstrap buffer, and free() of a pointer from it is
// ignored. The preload is for measurement: it adds a few atomic adds per call, nothing else.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum counter {
    c_malloc, c_calloc, c_realloc, c_reallocarray, c_posix_memalign, c_aligned_alloc, c_memalign,
    c_valloc, c_pvalloc, c_free, c_bytes, c_count
};
static const char *const counter_names[c_count] = {
    "malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
    "valloc", "pvalloc", "free", "bytes",
};
static _Atomic unsigned long long counters[c_count];

static void count(enum counter c, size_t bytes) {
    atomic_fetch_add_explicit(&counters[c], 1, memory_order_relaxed);
    if (bytes) atomic_fetch_add_explicit(&counters[c_bytes], bytes, memory_order_relaxed);
}

// --- the next definitions (glibc's) ----------------------------------------------------------------
static void *(*next_malloc)(size_t);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void *(*next_reallocarray)(void *, size_t, size_t);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void *(*next_valloc)(size_t);
static void *(*next_pvalloc)(size_t);
static void (*next_free)(void *);
static void (*next__exit)(int) __attribute__((noreturn));

// While dlsym runs, allocations come from here (dlsym's error buffer is a calloc). Each block is
// preceded by its size, so a realloc of one can copy it out.
static _Alignas(16) unsigned char bootstrap[16384];
static atomic_size_t bootstrap_used;
static atomic_int resolving;

static int from_bootstrap(const void *p) {
    return (const unsigned char *)p >= bootstrap && (const unsigned char *)p < bootstrap + sizeof bootstrap;
}

static void *bootstrap_alloc(size_t size) {
    size_t need = ((size + 15) & ~(size_t)15) + 16;
    size_t at = atomic_fetch_add(&bootstrap_used, need);
    if (size > sizeof bootstrap || at + need > sizeof bootstrap) return NULL;
    memcpy(bootstrap + at, &size, sizeof size);
    return bootstrap + at + 16;  // static storage: already zero, as calloc promises
}

static size_t bootstrap_size(const void *p) {
    size_t size;
    memcpy(&size, (const unsigned char *)p - 16, sizeof size);
    return size;
}

#define RESOLVE(name) next_##name = (__typeof__(next_##name))dlsym(RTLD_NEXT, #name)

// Once, before main (the constructor), or at the first call if some other constructor allocates
// first. A call that arrives while dlsym runs finds its next_* still NULL: malloc and calloc then
// use the bootstrap buffer, free drops the pointer (it can only be a bootstrap one), the rest fail.
static void resolve(void) {
    if (next_free) return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&resolving, &expected, 1)) return;
    RESOLVE(malloc);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(reallocarray);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(memalign);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(_exit);
    RESOLVE(free);  // last: next_free set means all are
    atomic_store(&resolving, 0);
}

// --- the dump --------------------------------------------------------------------------------------
static char out_path[PATH_MAX];  // $MALLOC_COUNT_FILE, copied at load (the program may change its env)

static size_t put_str(char *buf, size_t at, size_t cap, const char *s) {
    while (*s && at < cap) buf[at++] = *s++;
    return at;
}

static size_t put_uint(char *buf, size_t at, size_t cap, unsigned long long v) {
    char digits[24];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n && at < cap) buf[at++] = digits[--n];
    return at;
}

// Async-signal-safe; keeps errno.
static void dump(void) {
    if (!out_path[0]) return;
    int saved = errno;
    long pid = (long)syscall(SYS_getpid);  // getpid() may be cached in libc; the kernel's is right after fork
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40], line[1024];
    size_t n = put_str(path, 0, sizeof path - 1, out_path);
    n = put_str(path, n, sizeof path - 1, ".");
    n = put_uint(path, n, sizeof path - 1, (unsigned long long)pid);
    path[n] = 0;
    size_t t = put_str(tmp, 0, sizeof tmp - 1, path);
    t = put_str(tmp, t, sizeof tmp - 1, ".tmp");
    tmp[t] = 0;

    size_t l = put_str(line, 0, sizeof line - 1, "pid=");
    l = put_uint(line, l, sizeof line - 1, (unsigned long long)pid);
    unsigned long long allocations = 0;
    for (int c = 0; c < c_count; c++) {
        unsigned long long v = atomic_load_explicit(&counters[c], memory_order_relaxed);
        if (c != c_free && c != c_bytes) allocations += v;
        l = put_str(line, l, sizeof line - 1, " ");
        l = put_str(line, l, sizeof line - 1, counter_names[c]);
        l = put_str(line, l, sizeof line - 1, "=");
        l = put_uint(line, l, sizeof line - 1, v);
    }
    l = put_str(line, l, sizeof line - 1, " allocations=");
    l = put_uint(line, l, sizeof line - 1, allocations);
    line[l++] = '\n';

    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        ssize_t w = write(fd, line, l);
        close(fd);
        if (w == (ssize_t)l) rename(tmp, path); else unlink(tmp);
    }
    errno = saved;
}

static void on_signal(int signo) { (void)signo; dump(); }

static void reset_in_child(void) {
    for (int c = 0; c < c_count; c++) atomic_store_explicit(&counters[c], 0, memory_order_relaxed);
}

__attribute__((constructor)) static void malloc_count_init(void) {
    resolve();
    const char *file = getenv("MALLOC_COUNT_FILE");
    if (file && strlen(file) < sizeof out_path - 1) memcpy(out_path, file, strlen(file) + 1);
    const char *sig = getenv("MALLOC_COUNT_SIGNAL");
    if (out_path[0] && sig && *sig) {
        char *end;
        long signo = strtol(sig, &end, 10);
        if (*end == 0 && signo >= SIGRTMIN && signo <= SIGRTMAX) {
            struct sigaction action;
            memset(&action, 0, sizeof action);
            action.sa_handler = on_signal;
            action.sa_flags = SA_RESTART;
            sigemptyset(&action.sa_mask);
            sigaction((int)signo, &action, NULL);
        }
    }
    pthread_atfork(NULL, NULL, reset_in_child);
    reset_in_child();  // what loading and set-up cost is nobody's
}

__attribute__((destructor)) static void malloc_count_fini(void) { dump(); }

// --- the hooks -------------------------------------------------------------------------------------
void *malloc(size_t size) {
    if (!next_malloc) resolve();
    if (!next_malloc) return bootstrap_alloc(size);
    count(c_malloc, size);
    return next_malloc(size);
}

void *calloc(size_t n, size_t size) {
    if (!next_calloc) resolve();
    if (!next_calloc) return n && size > SIZE_MAX / n ? NULL : bootstrap_alloc(n * size);
    count(c_calloc, n * size);
    return next_calloc(n, size);
}

// A bootstrap block that grows moves to the real heap (the old one stays, unused).
static void *move_from_bootstrap(void *p, size_t size) {
    void *q = next_malloc(size);
    if (q) {
        size_t old = bootstrap_size(p);
        memcpy(q, p, old < size ? old : size);
    }
    return q;
}

void *realloc(void *p, size_t size) {
    if (!next_realloc) resolve();
    if (!next_realloc) { errno = ENOMEM; return NULL; }
    count(c_realloc, size);
    if (p && from_bootstrap(p)) return move_from_bootstrap(p, size);
    return next_realloc(p, size);
}

void *reallocarray(void *p, size_t n, size_t size) {
    if (!next_reallocarray) resolve();
    if (!next_reallocarray) { errno = ENOMEM; return NULL; }
    count(c_reallocarray, n * size);
    if (p && from_bootstrap(p)) {
        if (n && size > SIZE_MAX / n) { errno = ENOMEM; return NULL; }
        return move_from_bootstrap(p, n * size);
    }
    return next_reallocarray(p, n, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (!next_posix_memalign) resolve();
    if (!next_posix_memalign) return ENOMEM;
    count(c_posix_memalign, size);
    return next_posix_memalign(out, alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    if (!next_aligned_alloc) resolve();
    if (!next_aligned_alloc) { errno = ENOMEM; return NULL; }
    count(c_aligned_alloc, size);
    return next_aligned_alloc(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    if (!next_memalign) resolve();
    if (!next_memalign) { errno = ENOMEM; return NULL; }
    count(c_memalign, size);
    return next_memalign(alignment, size);
}

void *valloc(size_t size) {
    if (!next_valloc) resolve();
    if (!next_valloc) { errno = ENOMEM; return NULL; }
    count(c_valloc, size);
    return next_valloc(size);
}

void *pvalloc(size_t size) {
    if (!next_pvalloc) resolve();
    if (!next_pvalloc) { errno = ENOMEM; return NULL; }
    count(c_pvalloc, size);
    return next_pvalloc(size);
}

void free(void *p) {
    if (!p || from_bootstrap(p)) return;
    if (!next_free) resolve();
    if (!next_free) return;
    count(c_free, 0);
    next_free(p);
}

void _exit(int status) {
    dump();
    if (!next__exit) resolve();
    if (next__exit) next__exit(status);
    syscall(SYS_exit_group, status);
    for (;;) {}
}
