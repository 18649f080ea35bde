/*
 * c-echo-server: the "fair C baseline" line-echo server for scripts/bench-echo.
 *
 * Usage: c-echo-server HOST PORT
 *
 * Single thread, one epoll instance, edge-triggered sockets.  Every complete
 * line ('\n'-terminated) received is written back unchanged; a partial line
 * is kept until its '\n' arrives.  Lines longer than LINE_MAX close the
 * connection.  No per-read allocation: reads go into one shared 64 KiB buffer
 * and only leftovers (partial line, unsent output) are copied per connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)
#define LINE_MAX_BYTES (64 * 1024) /* longest accepted line, '\n' included */
#define MAX_EVENTS 512

struct conn {
    int fd;
    char *carry;            /* partial line waiting for its '\n' */
    size_t carry_len, carry_cap;
    char *out;              /* echo bytes the kernel did not take yet */
    size_t out_off, out_len, out_cap;
};

static char rbuf[READ_BUF]; /* shared: data leaves it before the next read */

static void die(const char *what) { perror(what); exit(1); }

static void conn_close(struct conn *c) {
    close(c->fd); /* close() also removes the fd from the epoll set */
    free(c->carry);
    free(c->out);
    free(c);
}

/* Append to a per-connection buffer; it grows geometrically, so allocation
 * is amortised away and a steady-state connection never allocates. */
static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
    if (*len + n > *cap) {
        size_t ncap = *cap ? *cap : 256;
        while (ncap < *len + n) ncap *= 2;
        char *nb = realloc(*buf, ncap);
        if (!nb) return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

/* Try to send pending output. Returns 1 if drained, 0 on EAGAIN, -1 on error. */
static int flush_out(struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 1;
}

/* Echo carry + rbuf[0..n) (which ends in '\n') in one writev; whatever the
 * kernel does not take is queued in c->out. Returns 0 or -1 on error. */
static int echo(struct conn *c, size_t n) {
    struct iovec iov[2] = {{c->carry, c->carry_len}, {rbuf, n}};
    size_t total = c->carry_len + n;
    ssize_t w;
    do w = writev(c->fd, iov, 2); while (w < 0 && errno == EINTR);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        w = 0;
    }
    size_t done = (size_t)w;
    if (done < c->carry_len) { /* rare: not even the carried prefix went out */
        if (append(&c->out, &c->out_len, &c->out_cap, c->carry + done, c->carry_len - done)) return -1;
        done = c->carry_len;
    }
    if (done < total &&
        append(&c->out, &c->out_len, &c->out_cap, rbuf + (done - c->carry_len), total - done))
        return -1;
    c->carry_len = 0;
    return 0;
}

/* Read until EAGAIN (edge-triggered contract) unless output backs up: then we
 * stop reading so a client that never reads cannot make us buffer unbounded
 * data; TCP flow control pushes back on it instead. Returns -1 to close. */
static int handle_read(struct conn *c) {
    while (c->out_len == 0) {
        ssize_t n = read(c->fd, rbuf, sizeof rbuf);
        if (n == 0) return -1; /* EOF */
        if (n < 0) {
            if (errno == EINTR) continue;
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        char *last = memrchr(rbuf, '\n', (size_t)n);
        if (!last) { /* no line end yet: keep it all as carry */
            if (c->carry_len + (size_t)n > LINE_MAX_BYTES) return -1;
            if (append(&c->carry, &c->carry_len, &c->carry_cap, rbuf, (size_t)n)) return -1;
            continue;
        }
        if (c->carry_len) { /* the first line started in an earlier read */
            char *first = memchr(rbuf, '\n', (size_t)n);
            if (c->carry_len + (size_t)(first - rbuf) + 1 > LINE_MAX_BYTES) return -1;
        }
        size_t lines = (size_t)(last - rbuf) + 1;
        if (echo(c, lines)) return -1;
        size_t rest = (size_t)n - lines; /* < READ_BUF == LINE_MAX_BYTES */
        if (rest && append(&c->carry, &c->carry_len, &c->carry_cap, last + 1, rest)) return -1;
    }
    return 0;
}

static void accept_all(int lfd, int ep) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) perror("accept4");
            return; /* EAGAIN: backlog drained (EMFILE etc.: retried on next wakeup) */
        }
        /* One write per batch of lines: Nagle would only add delay here. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) { perror("epoll_ctl"); conn_close(c); }
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s HOST PORT\n", argv[0]); return 2; }
    signal(SIGPIPE, SIG_IGN); /* a peer reset must surface as EPIPE, not kill us */

    /* Allow as many connections as the hard limit permits (1000+ clients). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *ai;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc) { fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(rc)); return 1; }
    int lfd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    if (listen(lfd, 1024) < 0) die("listen");
    freeaddrinfo(ai);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    /* Listener is level-triggered: a failed accept (EMFILE) is retried later. */
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");

    printf("listening %s:%s\n", argv[1], argv[2]);
    fflush(stdout);

    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            if (!c) { accept_all(lfd, ep); continue; }
            if (e & (EPOLLERR | EPOLLHUP)) { conn_close(c); continue; }
            /* Drain backed-up output first; only then is reading allowed again,
             * and we must read now: input that arrived meanwhile got no new edge.
             * EPOLLRDHUP needs no branch: the read loop sees EOF and closes. */
            int was_blocked = c->out_len != 0;
            if (was_blocked) {
                int f = flush_out(c);
                if (f < 0) { conn_close(c); continue; }
                if (f == 0) continue; /* still blocked: wait for next EPOLLOUT */
            }
            /* A bare EPOLLOUT edge on an idle connection has nothing to read. */
            if ((was_blocked || (e & (EPOLLIN | EPOLLRDHUP))) && handle_read(c) < 0) conn_close(c);
        }
    }
}
