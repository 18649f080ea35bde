// Compiled with the GNU extensions; the header declares what Swift may call (see its note on _GNU_SOURCE).
#define _GNU_SOURCE 1
#include "CLinux.h"
#include <sched.h>
#include <sys/syscall.h>

int clinux_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0, 0, 0); }

int clinux_fcntl_getfl(int fd) { return fcntl(fd, F_GETFL); }
int clinux_fcntl_setfl(int fd, int flags) { return fcntl(fd, F_SETFL, flags); }
int clinux_fcntl_getfd(int fd) { return fcntl(fd, F_GETFD); }
int clinux_fcntl_setfd(int fd, int flags) { return fcntl(fd, F_SETFD, flags); }

int clinux_open(const char *path, int flags, mode_t mode) { return open(path, flags, mode); }

int clinux_wifexited(int status) { return WIFEXITED(status); }
int clinux_wexitstatus(int status) { return WEXITSTATUS(status); }
int clinux_wifsignaled(int status) { return WIFSIGNALED(status); }
int clinux_wtermsig(int status) { return WTERMSIG(status); }
int clinux_wifstopped(int status) { return WIFSTOPPED(status); }

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

int clinux_available_cpus(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}
