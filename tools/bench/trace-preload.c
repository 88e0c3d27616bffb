/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `make bench` only: an LD_PRELOAD library that timestamps chaird's Modbus traffic and its timerfd arms
 * from the outside, without a hook in the daemon. Every send/write (request) and recv/read (reply bytes)
 * on the Modbus fd (a TCP socket or the RTU tty) and every absolute timerfd_settime() on a
 * CLOCK_MONOTONIC timerfd is appended to a shared, memory-mapped file that tools/bench/bench.py reads.
 * Set CHAIRD_BENCH_TRACE=FILE to enable it; without it every call passes straight through. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define TRACE_MAGIC "CHBTRC1"
#define TRACE_CAPACITY (512u * 1024u) /* records: 32 MiB, minutes of a 1 kHz loop */
#define TRACE_DATA 32
#define FD_MAX 4096

enum {
        KIND_SEND = 1,  /* a request left chaird (data = first bytes of the frame) */
        KIND_RECV = 2,  /* reply bytes arrived (ret = how many) */
        KIND_TIMER = 3, /* a CLOCK_MONOTONIC timerfd was armed at value (ns, absolute) */
        KIND_WAKE = 4,  /* the event loop's epoll wait returned (value = when it was entered) */
};

/* The layout bench.py parses: keep it in step with TRACE_RECORD there. */
typedef struct TraceRecord {
        uint64_t t_ns;
        uint64_t value;
        int32_t fd;
        int32_t ret;
        uint8_t kind;
        uint8_t n; /* valid bytes in data */
        uint8_t pad[6];
        uint8_t data[TRACE_DATA];
} TraceRecord;

typedef struct TraceHeader {
        char magic[8];
        uint64_t capacity;
        uint64_t count; /* records written or dropped; only the first capacity are kept */
        uint8_t pad[40];
} TraceHeader;

/* fd classes, cached until close() */
enum { FD_UNKNOWN = 0, FD_MODBUS, FD_OTHER, FD_TIMER_MONO };

static TraceHeader *trace;
static TraceRecord *records;
static uint8_t fd_class[FD_MAX];

static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_read)(int, void *, size_t);
static int (*real_close)(int);
static int (*real_timerfd_create)(int, int);
static int (*real_timerfd_settime)(int, int, const struct itimerspec *, struct itimerspec *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *, const sigset_t *);

static void *next_symbol(const char *name) {
        return dlsym(RTLD_NEXT, name);
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Only chaird traces: a shell or helper that inherits LD_PRELOAD must not truncate the shared file. */
static bool is_chaird(void) {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        const char *base;

        if (n <= 0)
                return false;
        exe[n] = 0;
        base = strrchr(exe, '/');
        return strcmp(base ? base + 1 : exe, "chaird") == 0;
}

__attribute__((constructor)) static void trace_open(void) {
        const char *path = getenv("CHAIRD_BENCH_TRACE");
        size_t size = sizeof(TraceHeader) + (size_t) TRACE_CAPACITY * sizeof(TraceRecord);
        void *p;
        int fd;

        real_send = next_symbol("send");
        real_recv = next_symbol("recv");
        real_write = next_symbol("write");
        real_read = next_symbol("read");
        real_close = next_symbol("close");
        real_timerfd_create = next_symbol("timerfd_create");
        real_timerfd_settime = next_symbol("timerfd_settime");
        real_epoll_wait = next_symbol("epoll_wait");
        real_epoll_pwait2 = next_symbol("epoll_pwait2");
        if (!path || !is_chaird())
                return;
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        if (ftruncate(fd, (off_t) size) < 0) {
                real_close(fd);
                return;
        }
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        real_close(fd);
        if (p == MAP_FAILED)
                return;
        trace = p;
        records = (TraceRecord *) (trace + 1);
        trace->capacity = TRACE_CAPACITY;
        memcpy(trace->magic, TRACE_MAGIC, sizeof(TRACE_MAGIC));
}

static int classify(int fd) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        struct stat st;

        if (fd < 0 || fd >= FD_MAX)
                return FD_OTHER;
        if (fd_class[fd] != FD_UNKNOWN)
                return fd_class[fd];
        fd_class[fd] = FD_OTHER;
        if (fstat(fd, &st) < 0)
                return FD_OTHER;
        /* the RTU link is the only tty chaird opens (stdio are never used for Modbus) */
        if (S_ISCHR(st.st_mode) && fd > 2 && isatty(fd))
                fd_class[fd] = FD_MODBUS;
        else if (S_ISSOCK(st.st_mode) && getsockname(fd, (struct sockaddr *) &sa, &len) == 0 &&
                 (sa.ss_family == AF_INET || sa.ss_family == AF_INET6))
                fd_class[fd] = FD_MODBUS;
        return fd_class[fd];
}

static void trace_add(uint8_t kind, int fd, int32_t ret, uint64_t value, const void *data, size_t n) {
        uint64_t i;
        TraceRecord *r;

        if (!trace)
                return;
        i = __atomic_fetch_add(&trace->count, 1, __ATOMIC_RELAXED);
        if (i >= TRACE_CAPACITY)
                return;
        r = &records[i];
        r->value = value;
        r->fd = fd;
        r->ret = ret;
        r->kind = kind;
        r->n = (uint8_t) (n < TRACE_DATA ? n : TRACE_DATA);
        if (data)
                memcpy(r->data, data, r->n);
        /* the stamp last: a reader seeing t_ns != 0 sees a whole record */
        __atomic_store_n(&r->t_ns, now_ns(), __ATOMIC_RELEASE);
}

ssize_t send(int fd, const void *buf, size_t len, int flags) {
        uint64_t t = now_ns();
        ssize_t r = real_send(fd, buf, len, flags);
        int saved = errno;

        if (r > 0 && classify(fd) == FD_MODBUS)
                trace_add(KIND_SEND, fd, (int32_t) r, t, buf, (size_t) r);
        errno = saved;
        return r;
}

ssize_t write(int fd, const void *buf, size_t len) {
        uint64_t t = now_ns();
        ssize_t r = real_write(fd, buf, len);
        int saved = errno;

        if (r > 0 && classify(fd) == FD_MODBUS)
                trace_add(KIND_SEND, fd, (int32_t) r, t, buf, (size_t) r);
        errno = saved;
        return r;
}

ssize_t recv(int fd, void *buf, size_t len, int flags) {
        ssize_t r = real_recv(fd, buf, len, flags);
        int saved = errno;

        if (r > 0 && classify(fd) == FD_MODBUS)
                trace_add(KIND_RECV, fd, (int32_t) r, 0, buf, (size_t) r);
        errno = saved;
        return r;
}

ssize_t read(int fd, void *buf, size_t len) {
        ssize_t r = real_read(fd, buf, len);
        int saved = errno;

        if (r > 0 && classify(fd) == FD_MODBUS)
                trace_add(KIND_RECV, fd, (int32_t) r, 0, buf, (size_t) r);
        errno = saved;
        return r;
}

int close(int fd) {
        if (fd >= 0 && fd < FD_MAX)
                fd_class[fd] = FD_UNKNOWN;
        return real_close(fd);
}

int timerfd_create(int clockid, int flags) {
        int fd = real_timerfd_create(clockid, flags);

        if (fd >= 0 && fd < FD_MAX)
                fd_class[fd] = clockid == CLOCK_MONOTONIC ? FD_TIMER_MONO : FD_OTHER;
        return fd;
}

int timerfd_settime(int fd, int flags, const struct itimerspec *new_value, struct itimerspec *old_value) {
        int r = real_timerfd_settime(fd, flags, new_value, old_value);
        int saved = errno;

        /* sd-event arms one absolute timerfd per clock at the earliest deadline of its sources */
        if (r == 0 && new_value && (flags & TFD_TIMER_ABSTIME) && fd >= 0 && fd < FD_MAX &&
            fd_class[fd] == FD_TIMER_MONO)
                trace_add(KIND_TIMER, fd, 0,
                          (uint64_t) new_value->it_value.tv_sec * 1000000000u +
                                  (uint64_t) new_value->it_value.tv_nsec,
                          NULL, 0);
        errno = saved;
        return r;
}

/* sd-event waits in one of these: a cycle that starts late after a late wake-up was held up by the
 * scheduler; one that starts late after an early wake-up was held up by the loop's own work. */
int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) {
        uint64_t t = now_ns();
        int r = real_epoll_wait(epfd, events, maxevents, timeout);
        int saved = errno;

        if (r > 0)
                trace_add(KIND_WAKE, epfd, r, t, NULL, 0);
        errno = saved;
        return r;
}

int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout,
                 const sigset_t *sigmask) {
        uint64_t t = now_ns();
        int r;

        if (!real_epoll_pwait2) {
                errno = ENOSYS;
                return -1;
        }
        r = real_epoll_pwait2(epfd, events, maxevents, timeout, sigmask);
        int saved = errno;
        if (r > 0)
                trace_add(KIND_WAKE, epfd, r, t, NULL, 0);
        errno = saved;
        return r;
}
