// Compiled with the GNU extensions; the header declares what Swift may call (see its note on _GNU_SOURCE).
#define _GNU_SOURCE 1
#include "CLinux.h"
#include <sched.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
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

int clinux_drop_new_connections(int fd) {
    // A TCP socket's filter sees the segment from its TCP header: byte 13 holds the flags.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x10, 2, 0),  // ACK: a handshake under way, or later: keep
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x02, 0, 1),  // SYN without ACK: a new connection
        BPF_STMT(BPF_RET | BPF_K, 0),                      // drop
        BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFF),             // keep, whole
    };
    struct sock_fprog program = { .len = sizeof code / sizeof code[0], .filter = code };
    return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}

int clinux_count_syn_received(int family, const unsigned short *ports, int port_count) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    struct {
        struct nlmsghdr header;
        struct inet_diag_req_v2 request;
    } message = {
        .header = { .nlmsg_len = sizeof message, .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                    .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
        // The kernel dumps only sockets in these states: the request sockets of handshakes.
        .request = { .sdiag_family = (unsigned char)family, .sdiag_protocol = IPPROTO_TCP,
                     .idiag_states = 1u << TCP_SYN_RECV },
    };
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    int count = 0;
    int error = 0;
    if (sendto(fd, &message, sizeof message, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
        error = errno;
        goto done;
    }
    long buffer[8192 / sizeof(long)];  // aligned for nlmsghdr
    for (;;) {
        ssize_t received = recv(fd, buffer, sizeof buffer, 0);
        if (received < 0 && errno == EINTR) continue;
        if (received < 0) { error = errno; goto done; }
        if (received == 0) goto done;
        int length = (int)received;
        for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, length); header = NLMSG_NEXT(header, length)) {
            if (header->nlmsg_type == NLMSG_DONE) goto done;
            if (header->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *failure = NLMSG_DATA(header);
                error = failure->error ? -failure->error : EPROTO;
                goto done;
            }
            if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
            struct inet_diag_msg *socket_info = NLMSG_DATA(header);
            if (socket_info->idiag_state != TCP_SYN_RECV) continue;
            unsigned short port = ntohs(socket_info->id.idiag_sport);
            for (int index = 0; index < port_count; index++) {
                if (ports[index] == port) { count++; break; }
            }
        }
    }
done:
    close(fd);
    if (error != 0) { errno = error; return -1; }
    return count;
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

// MARK: The stack report of a hung worker

#include <execinfo.h>
#include <ucontext.h>

/// Set once at install, read in the handler: the worker's end of its channel to the master.
static volatile int stack_report_fd = -1;
static void *stack_report_frames[CLINUX_STACK_REPORT_FRAMES + 8];
static unsigned char stack_report_packet[16 + 8 * CLINUX_STACK_REPORT_FRAMES];

static void stack_report_handler(int signal, siginfo_t *info, void *context) {
    (void)signal;
    (void)info;
    int saved = errno;
    int count = backtrace(stack_report_frames, CLINUX_STACK_REPORT_FRAMES + 8);
    // The first frames are this handler's and the kernel's signal trampoline: start at the
    // interrupted instruction, which the unwinder reports as the frame after the trampoline.
    int first = 0;
#if defined(__x86_64__)
    void *interrupted = (void *)((ucontext_t *)context)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    void *interrupted = (void *)((ucontext_t *)context)->uc_mcontext.pc;
#else
    void *interrupted = NULL;
#endif
    for (int index = 0; index < count; index++) {
        if (stack_report_frames[index] == interrupted) { first = index; break; }
    }
    if (first == 0 && count > 2 && interrupted != NULL) first = 2;
    int kept = count - first;
    if (kept > CLINUX_STACK_REPORT_FRAMES) kept = CLINUX_STACK_REPORT_FRAMES;
    if (kept < 0) kept = 0;
    // ChannelMessage's wire form: the tag, seven zero bytes, then little-endian 64-bit fields
    // (the frame count, then the frames). Both ends are little-endian Linux.
    memset(stack_report_packet, 0, sizeof stack_report_packet);
    stack_report_packet[0] = CLINUX_STACK_REPORT_TAG;
    unsigned long long length = (unsigned long long)kept;
    memcpy(stack_report_packet + 8, &length, 8);
    for (int index = 0; index < kept; index++) {
        unsigned long long address = (unsigned long long)(unsigned long)stack_report_frames[first + index];
        memcpy(stack_report_packet + 16 + 8 * index, &address, 8);
    }
    if (stack_report_fd >= 0) {
        (void)send(stack_report_fd, stack_report_packet, 16 + 8 * (size_t)kept, MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    errno = saved;
}

int clinux_install_stack_reporter(int signal, int fd) {
    // backtrace() loads the unwinder (libgcc_s) and allocates on its first call: made here, so the
    // call in the handler only walks the stack, which is async-signal-safe.
    void *warm[2];
    (void)backtrace(warm, 2);
    stack_report_fd = fd;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = stack_report_handler;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    return sigaction(signal, &action, NULL);
}

int clinux_signal_thread(int pid, int tid, int signal) { return (int)syscall(SYS_tgkill, pid, tid, signal); }

int clinux_realtime_signal(int offset) { return SIGRTMIN + offset; }
