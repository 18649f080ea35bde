/*
 * echo-load: ping-pong load generator for line-echo servers (scripts/bench-echo).
 *
 * Usage: echo-load HOST PORT CONNECTIONS SECONDS [LINE_BYTES=64]
 *
 * Opens CONNECTIONS nonblocking TCP connections from one thread (epoll,
 * edge-triggered). Each connection repeatedly writes one LINE_BYTES line
 * ('\n' included), waits for the full echo, checks it byte for byte and
 * records the round-trip time. Stops by itself after SECONDS and prints:
 *   connections=N seconds=S round_trips=R rps=X p50_us=A p99_us=B max_us=C errors=E
 * Errors: failed connects, mismatched echoes, EOF/resets (each closes that
 * connection, which is not retried). Only loopback targets are accepted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE (64 * 1024) /* the servers' line limit */
#define NPAT 26              /* distinct line contents, rotated per round trip */
#define MAX_EVENTS 1024

/* Log-linear latency histogram (like HdrHistogram): values < 1024 us are
 * exact; above, each power of two is split into 1024 buckets (< 0.1% error).
 * Values are clamped to 2^40 us, so it is a fixed 32768 buckets. */
#define SUB_BITS 10
#define SUB (1u << SUB_BITS)
#define HIST_MAX_SHIFT 30
#define NBUCKETS (SUB * (HIST_MAX_SHIFT + 2))
static uint64_t hist[NBUCKETS];

static unsigned bucket_of(uint64_t v) {
    if (v >= (1ull << 40)) v = (1ull << 40) - 1;
    if (v < SUB) return (unsigned)v;
    unsigned shift = (63 - (unsigned)__builtin_clzll(v)) - SUB_BITS;
    return SUB * (shift + 1) + (unsigned)(v >> shift) - SUB;
}

static uint64_t bucket_low(unsigned b) {
    if (b < SUB) return b;
    unsigned shift = b / SUB - 1;
    return (uint64_t)(b % SUB + SUB) << shift;
}

/* Lowest value of the bucket holding the ceil(total*pct/100)-th sample. */
static uint64_t percentile(uint64_t total, unsigned pct) {
    if (!total) return 0;
    uint64_t want = (total * pct + 99) / 100, seen = 0;
    for (unsigned b = 0; b < NBUCKETS; b++)
        if ((seen += hist[b]) >= want) return bucket_low(b);
    return 0;
}

enum state { CONNECTING, SENDING, RECEIVING, DONE, DEAD }; /* DONE: idle after deadline */

struct conn {
    int fd;
    enum state st;
    unsigned pat;      /* which of the NPAT lines is in flight */
    size_t off;        /* bytes sent (SENDING) or received (RECEIVING) */
    uint64_t t_send;   /* ns, when the current line was first written */
};

static char *lines[NPAT];
static size_t line_len;
static char scratch[MAX_LINE];
static uint64_t round_trips, errors, max_us;
static int alive;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(struct conn *c) {
    errors++;
    close(c->fd);
    c->st = DEAD;
    alive--;
}

/* Write (the rest of) the current line; on completion wait for the echo.
 * send/recv rather than write/read: the load generator shares the machine
 * with the server, so it skips the generic VFS path to stay cheap. */
static void do_send(struct conn *c) {
    while (c->off < line_len) {
        ssize_t n = send(c->fd, lines[c->pat] + c->off, line_len - c->off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return; /* wait for EPOLLOUT */
            fail(c);
            return;
        }
        c->off += (size_t)n;
    }
    c->st = RECEIVING;
    c->off = 0;
}

static void start_round(struct conn *c, uint64_t t) {
    c->pat = (c->pat + 1) % NPAT; /* consecutive lines differ: stale echoes show */
    c->st = SENDING;
    c->off = 0;
    c->t_send = t;
    do_send(c);
}

/* Read at most the rest of the expected line, so a server that sends extra
 * bytes is caught by the next comparison instead of being swallowed. */
static void do_recv(struct conn *c, uint64_t deadline) {
    for (;;) {
        ssize_t n = recv(c->fd, scratch, line_len - c->off, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) fail(c);
            return;
        }
        if (n == 0 || memcmp(scratch, lines[c->pat] + c->off, (size_t)n) != 0) {
            fail(c); /* EOF mid-run, or wrong bytes: the stream is unusable */
            return;
        }
        c->off += (size_t)n;
        if (c->off < line_len) continue;
        uint64_t t = now_ns(), us = (t - c->t_send) / 1000;
        hist[bucket_of(us)]++;
        if (us > max_us) max_us = us;
        round_trips++;
        if (t >= deadline) { c->st = DONE; return; } /* time is up: stay idle */
        /* The completion time doubles as the next send time: one clock read
         * per round trip. No read after sending: the echo cannot be there
         * yet, and its arrival raises a fresh EPOLLIN edge. */
        start_round(c, t);
        return;
    }
}

static int is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

static long parse_num(const char *s, const char *what, long lo, long hi) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "echo-load: bad %s '%s' (want %ld..%ld)\n", what, s, lo, hi);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s HOST PORT CONNECTIONS SECONDS [LINE_BYTES=64]\n", argv[0]);
        return 2;
    }
    long nconn = parse_num(argv[3], "CONNECTIONS", 1, 1000000);
    long secs = parse_num(argv[4], "SECONDS", 1, 86400);
    line_len = argc > 5 ? (size_t)parse_num(argv[5], "LINE_BYTES", 1, MAX_LINE) : 64;
    parse_num(argv[2], "PORT", 1, 65535);
    signal(SIGPIPE, SIG_IGN);

    /* Safety: this tool floods its target, so it only ever talks to loopback. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
    int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
    if (rc) { fprintf(stderr, "echo-load: cannot resolve %s: %s\n", argv[1], gai_strerror(rc)); return 2; }
    if (!is_loopback(ai->ai_addr)) {
        fprintf(stderr, "echo-load: refusing non-loopback target %s (only 127.0.0.0/8 or ::1)\n", argv[1]);
        return 2;
    }

    /* 1000+ connections need more descriptors than the usual soft limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && (rlim_t)nconn + 16 > rl.rlim_cur) {
        fprintf(stderr, "echo-load: RLIMIT_NOFILE %llu too small for %ld connections\n",
                (unsigned long long)rl.rlim_cur, nconn);
        return 1;
    }

    for (unsigned p = 0; p < NPAT; p++) {
        lines[p] = malloc(line_len);
        if (!lines[p]) { perror("malloc"); return 1; }
        for (size_t i = 0; i + 1 < line_len; i++) lines[p][i] = (char)('a' + (p + i) % NPAT);
        lines[p][line_len - 1] = '\n';
    }

    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || ep < 0) { perror("setup"); return 1; }

    uint64_t start = now_ns(), deadline = start + (uint64_t)secs * 1000000000u;
    for (long i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        c->pat = (unsigned)(i % NPAT);
        c->st = DEAD;
        c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0) { errors++; continue; }
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) { close(c->fd); errors++; continue; }
        alive++;
        c->st = CONNECTING;
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) start_round(c, now_ns());
        else if (errno != EINPROGRESS) fail(c);
    }
    freeaddrinfo(ai);

    struct epoll_event evs[MAX_EVENTS];
    uint64_t t;
    while (alive > 0 && (t = now_ns()) < deadline) {
        int timeout_ms = (int)((deadline - t + 999999) / 1000000);
        int n = epoll_wait(ep, evs, MAX_EVENTS, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            uint32_t e = evs[i].events;
            switch (c->st) {
            case CONNECTING: {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) fail(c);
                else if (e & EPOLLOUT) start_round(c, now_ns());
                break; /* the first round trip starts once connected */
            }
            case SENDING:
                if (e & (EPOLLERR | EPOLLHUP)) fail(c);
                else do_send(c);
                break;
            case RECEIVING:
                /* Read first: data that came with the FIN/RST still counts. */
                do_recv(c, deadline);
                if (c->st == RECEIVING && (e & (EPOLLERR | EPOLLHUP | EPOLLRDHUP))) fail(c);
                break;
            case DONE:
            case DEAD:
                break;
            }
        }
    }

    double elapsed = (double)(now_ns() - start) / 1e9;
    printf("connections=%ld seconds=%.2f round_trips=%llu rps=%.1f p50_us=%llu p99_us=%llu max_us=%llu errors=%llu\n",
           nconn, elapsed, (unsigned long long)round_trips, elapsed > 0 ? (double)round_trips / elapsed : 0.0,
           (unsigned long long)percentile(round_trips, 50), (unsigned long long)percentile(round_trips, 99),
           (unsigned long long)max_us, (unsigned long long)errors);
    free(conns); /* sockets close at exit; freeing keeps sanitizer runs clean */
    for (unsigned p = 0; p < NPAT; p++) free(lines[p]);
    return 0;
}
