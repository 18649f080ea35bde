// The Linux headers Swift's Glibc module does not bring in, and wrappers for the GNU extensions.
//
// _GNU_SOURCE is deliberately NOT defined here. Defining it in this header (as one might, since a target's
// cSettings never reach Swift's import of it) makes clang see two different definitions of glibc's own
// structs, one from this module and one from SwiftGlibc (`fd_set`, `__rusage_who`), and the build fails
// in every module that imports both. So the GNU-only calls (accept4, pipe2, memrchr, ...) are wrapped in
// shim.c, which is compiled with _GNU_SOURCE, and declared below under our own names.
#ifndef CLINUX_H
#define CLINUX_H

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>

// Wrappers for what Swift cannot import (macros, variadic functions). Each says why it exists.

/// `prctl` is variadic, and Swift cannot call C variadic functions.
int clinux_set_parent_death_signal(int signal);

/// `fcntl` is variadic.
int clinux_fcntl_getfl(int fd);
int clinux_fcntl_setfl(int fd, int flags);
int clinux_fcntl_setfd(int fd, int flags);
int clinux_fcntl_getfd(int fd);
/// `fcntl(F_DUPFD_CLOEXEC, minimum)`: a copy at the lowest free number >= minimum.
int clinux_fcntl_dupfd_cloexec(int fd, int minimum);


/// The W* status macros are macros.
int clinux_wifexited(int status);
int clinux_wexitstatus(int status);
int clinux_wifsignaled(int status);
int clinux_wtermsig(int status);

/// `close_range(2)` (Linux 5.9, glibc 2.34): closes every inherited fd a forked worker must not keep
/// in one call. Returns -1 with errno ENOSYS on older kernels; callers fall back to a loop.
int clinux_close_range(unsigned int first, unsigned int last);

/// `accept4(2)` is a GNU extension.
int clinux_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

/// `sendmsg(2)` of two buffers (a response head, then its body) with `MSG_NOSIGNAL`. Inline C because
/// Swift can point a `msghdr` at a stack pair of `iovec`s only from inside closures, which the hot
/// path pays for; clang inlines this into the Swift caller.
static inline ssize_t clinux_send_two(int fd, const void *first, size_t first_count,
                                      const void *second, size_t second_count) {
    struct iovec vectors[2] = {{(void *)first, first_count}, {(void *)second, second_count}};
    struct msghdr message = {0};
    message.msg_iov = vectors;
    message.msg_iovlen = 2;
    return sendmsg(fd, &message, MSG_NOSIGNAL);
}

/// `pipe2(2)` is a GNU extension.
int clinux_pipe2(int fds[2], int flags);

/// `memrchr(3)` is a GNU extension: finds the last newline of a read in one pass.
void *clinux_memrchr(const void *bytes, int byte, size_t count);

/// Attaches a classic BPF socket filter (`SO_ATTACH_FILTER`) that drops a TCP segment with SYN and
/// no ACK: on a listening socket, new connections go unanswered, while the ones queued already can
/// still be accepted and a handshake under way completes (its final ACK passes; dropping it, as a
/// drop-everything filter did, left that client talking to a socket that would reset it at close).
/// A packet the program cannot read 14 bytes of (a unix socket's connect) is dropped too. The
/// filter's structs and macros live in <linux/filter.h>, which clashes with Glibc's module if
/// imported into Swift.
int clinux_drop_new_connections(int fd);
/// Handshakes under way (TCP_SYN_RECV) on any of `ports`, for one address family, by the
/// kernel's socket diagnostics (netlink `NETLINK_SOCK_DIAG`, filtered by state in the kernel);
/// -1 with errno on failure.
int clinux_count_syn_received(int family, const unsigned short *ports, int port_count);
/// `sched_getaffinity(2)` and the CPU_COUNT macro are GNU-only: the default worker count.
int clinux_available_cpus(void);

/// `openat2(2)` with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS` (Linux 5.6): opens `name` under the
/// directory `dirfd` and fails with EXDEV if resolving it (through `..` or a symlink) would leave
/// that directory: the kernel enforces the served root, with no race between a check and the open.
/// glibc has no wrapper, hence the raw syscall. -1 with ENOSYS on older kernels.
int clinux_open_beneath(int dirfd, const char *name, int flags);

/// Sequentially consistent atomics on memory Swift's `Atomic` cannot describe: a counter inside a
/// `MAP_SHARED` mapping that several processes update.
long long clinux_atomic_add(long long *address, long long delta);
long long clinux_atomic_load(const long long *address);
void clinux_atomic_store(long long *address, long long value);

/// Makes `enqueue` receive every job the Swift runtime would give its global concurrent executor,
/// and `enqueue_after` every delayed one (`Task.sleep`), with the delay in nanoseconds (it returns 0
/// to leave a job to the runtime's own executor: one delayed from a thread that is not the loop's). A worker
/// process has one thread by design; with this its loop *is* the global executor, so no code in it
/// (a resumed continuation, a nonisolated async function, `Task.detached`) can start a pool thread.
/// The runtime's hook variables exist for exactly this (custom runtimes, tests); they take the
/// Swift calling convention, which only C can spell, hence this shim. `job` is a `Job *`, passed to
/// Swift as an opaque pointer.
void clinux_install_global_executor(void (*enqueue)(void *job), int (*enqueue_after)(unsigned long long delay, void *job));

/// The stack report of a hung worker (DESIGN.md, "Where a hung worker hung"): installs a handler for
/// `signal` that walks the interrupted stack with backtrace(3) and sends the return addresses to
/// `fd` as one `ChannelMessage.stackReport` packet (tag `CLINUX_STACK_REPORT_TAG`, at most
/// `CLINUX_STACK_REPORT_FRAMES` frames). A signal handler, because a worker is one thread: nothing
/// else in it can look at its stack while it spins. Written in C, because Swift code is not
/// async-signal-safe (it may allocate or take locks); the handler makes only backtrace (warmed up
/// here), memcpy and send.
#define CLINUX_STACK_REPORT_TAG 7
#define CLINUX_STACK_REPORT_FRAMES 32
int clinux_install_stack_reporter(int signal, int fd);
/// `tgkill(2)`: a signal to one thread of a process (glibc's wrapper is GNU-only): the stack report
/// must come from a worker's loop thread (its tid is its pid), not from a blocking-pool thread.
int clinux_signal_thread(int pid, int tid, int signal);
/// `SIGRTMIN` is a macro over a glibc call (glibc keeps the first few real-time signals itself).
int clinux_realtime_signal(int offset);

#endif
