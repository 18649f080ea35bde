// Compiled with the GNU extensions; the header declares what Swift may call (see its note on _GNU_SOURCE).
#define _GNU_SOURCE 1
#include "CLinux.h"
#include <sched.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

int clinux_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

int clinux_fcntl_getfl(int fd) { return fcntl(fd, F_GETFL); }
int clinux_fcntl_setfl(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }
int clinux_fcntl_getfd(int fd) { return fcntl(fd, F_GETFD); }
int clinux_fcntl_setfd(int fd, int flags) { return fcntl(fd, F_SETFD, flags); }
int clinux_fcntl_dupfd_cloexec(int fd, int minimum) { return fcntl(fd, F_DUPFD_CLOEXEC, minimum); }

int clinux_wifexited(int status) { return WIFEXITED(status); }
int clinux_wexitstatus(int status) { return WEXITSTATUS(status); }
int clinux_wifsignaled(int status) { return WIFSIGNALED(status); }
int clinux_wtermsig(int status) { return WTERMSIG(status); }

int clinux_close_range(unsigned int first, unsigned int last) {
#ifdef SYS_close_range
    return (int)syscall(SYS_close_range, first, last, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int clinux_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}

int clinux_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }

void *clinux_memrchr(const void *bytes, int byte, size_t count) { return memrchr(bytes, byte, count); }

int clinux_drop_all_packets(int fd) {
    struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
    struct sock_fprog program = { .len = 1, .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

int clinux_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}

int clinux_open_beneath(int dirfd, const char *name, int flags) {
#ifdef SYS_openat2
    struct open_how how = { .flags = (unsigned long long)flags, .mode = 0,
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
    return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof how);
#else
    (void)dirfd; (void)name; (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

long long clinux_atomic_add(long long *address, long long delta) { return __atomic_add_fetch(address, delta, __ATOMIC_SEQ_CST); }
long long clinux_atomic_load(const long long *address) { return __atomic_load_n(address, __ATOMIC_SEQ_CST); }
void clinux_atomic_store(long long *address, long long value) { __atomic_store_n(address, value, __ATOMIC_SEQ_CST); }

// The Swift runtime's global-executor hooks (swift/Runtime/Concurrency.h, ConcurrencyHooks.def).
// These are private runtime variables, not API. Checked against Swift 6.3.1 (the toolchain this
// package is built and tested with; the hook names and signatures are those of the 6.x runtime).
// If a toolchain renames or changes them, the link fails (a name) or the one-thread assertions
// fail (a signature): the worker thread counts in IntegrationTests/HTTPServingTests and
// `LoopExecutor.checkIsolated` are the alarm. Check them again on every toolchain upgrade.
typedef struct SwiftJob SwiftJob;
typedef __attribute__((swiftcall)) void (*clinux_enqueue_original)(SwiftJob *job);
typedef __attribute__((swiftcall)) void (*clinux_enqueue_delay_original)(unsigned long long delay, SwiftJob *job);
typedef __attribute__((swiftcall)) void (*clinux_enqueue_deadline_original)(long long sec, long long nsec, long long tsec,
                                                                           long long tnsec, int clock, SwiftJob *job);
extern __attribute__((swiftcall)) void (*swift_task_enqueueGlobal_hook)(SwiftJob *job, clinux_enqueue_original original);
extern __attribute__((swiftcall)) void (*swift_task_enqueueGlobalWithDelay_hook)(unsigned long long delay, SwiftJob *job,
                                                                               clinux_enqueue_delay_original original);
extern __attribute__((swiftcall)) void (*swift_task_enqueueGlobalWithDeadline_hook)(long long sec, long long nsec, long long tsec,
                                                                                  long long tnsec, int clock, SwiftJob *job,
                                                                                  clinux_enqueue_deadline_original original);

static void (*global_enqueue)(void *job);
static int (*global_enqueue_after)(unsigned long long delay, void *job);

static __attribute__((swiftcall)) void hook_enqueue(SwiftJob *job, clinux_enqueue_original original) {
    (void)original;
    global_enqueue(job);
}

static __attribute__((swiftcall)) void hook_enqueue_delay(unsigned long long delay, SwiftJob *job,
                                                          clinux_enqueue_delay_original original) {
    if (!global_enqueue_after(delay, job)) original(delay, job);
}

// Deadlines come as an absolute time on the runtime's `clock`: 1 is ContinuousClock (CLOCK_BOOTTIME on
// Linux), 2 SuspendingClock (CLOCK_MONOTONIC); turned into a delay from now. Any other clock is left
// to the runtime.
static __attribute__((swiftcall)) void hook_enqueue_deadline(long long sec, long long nsec, long long tsec, long long tnsec,
                                                             int clock, SwiftJob *job, clinux_enqueue_deadline_original original) {
    (void)tsec; (void)tnsec;
    struct timespec now;
    if ((clock != 1 && clock != 2) || clock_gettime(clock == 1 ? CLOCK_BOOTTIME : CLOCK_MONOTONIC, &now) != 0) {
        original(sec, nsec, tsec, tnsec, clock, job);
        return;
    }
    long long delta = (sec - (long long)now.tv_sec) * 1000000000LL + (nsec - (long long)now.tv_nsec);
    if (!global_enqueue_after(delta > 0 ? (unsigned long long)delta : 0, job)) original(sec, nsec, tsec, tnsec, clock, job);
}

void clinux_install_global_executor(void (*enqueue)(void *job), int (*enqueue_after)(unsigned long long delay, void *job)) {
    global_enqueue = enqueue;
    global_enqueue_after = enqueue_after;
    swift_task_enqueueGlobal_hook = hook_enqueue;
    swift_task_enqueueGlobalWithDelay_hook = hook_enqueue_delay;
    swift_task_enqueueGlobalWithDeadline_hook = hook_enqueue_deadline;
}
