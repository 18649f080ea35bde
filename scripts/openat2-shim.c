// openat2-shim.c: an LD_PRELOAD library for measuring our server under valgrind, whose 3.19
// (Debian 12) does not know openat2(2) and answers ENOSYS; the file server opens only with
// RESOLVE_BENEATH and would refuse every file. Its syscall() turns openat2 into openat (dropping the
// resolve flags) and passes every other call on. For measurement only, on a temp root of our own:
// scripts/instructions-per-request and scripts/cache-misses-per-request build and preload it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

long syscall(long number, ...) {
    va_list list;
    va_start(list, number);
    long a[6];
    for (int i = 0; i < 6; i++) a[i] = va_arg(list, long);
    va_end(list);
    if (number == SYS_openat2) {
        const struct open_how *how = (const struct open_how *)a[2];
        return openat((int)a[0], (const char *)a[1], (int)how->flags, (mode_t)how->mode);
    }
    long (*next)(long, ...) = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return next(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
