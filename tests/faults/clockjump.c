/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An LD_PRELOAD shim for the fault matrix: moves only the wall clock (CLOCK_REALTIME, gettimeofday,
 * time) of one process by an offset in seconds that the test rewrites while it runs, in the file named
 * by CLOCKJUMP_FILE. CLOCK_MONOTONIC and timers are never touched. (libfaketime also rewrites absolute
 * timerfd deadlines on CLOCK_MONOTONIC by the offset, which breaks any sd-event program; a time
 * namespace moves only MONOTONIC and BOOTTIME.) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*ClockGettime)(clockid_t, struct timespec *);

static ClockGettime real_clock_gettime(void) {
        static ClockGettime f;

        if (!f)
                f = (ClockGettime) dlsym(RTLD_NEXT, "clock_gettime");
        return f;
}

/* The offset, re-read at most every 50 ms of CLOCK_MONOTONIC so a jump lands within a few cycles. */
static long long clockjump_offset(void) {
        static long long offset;
        static long long next_read_ns;
        struct timespec mono;
        const char *path = getenv("CLOCKJUMP_FILE");

        if (!path || real_clock_gettime()(CLOCK_MONOTONIC, &mono) < 0)
                return 0;
        long long now_ns = (long long) mono.tv_sec * 1000000000LL + mono.tv_nsec;
        if (now_ns < next_read_ns)
                return offset;
        next_read_ns = now_ns + 50000000LL;

        FILE *f = fopen(path, "re");
        if (!f)
                return offset;
        long long v;
        if (fscanf(f, "%lld", &v) == 1)
                offset = v;
        fclose(f);
        return offset;
}

int clock_gettime(clockid_t id, struct timespec *ts) {
        int r = real_clock_gettime()(id, ts);

        if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
                ts->tv_sec += clockjump_offset();
        return r;
}

/* glibc declares tv nonnull, callers still pass NULL */
#pragma GCC diagnostic ignored "-Wnonnull-compare"
int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
        struct timespec ts;

        (void) tz;
        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -1;
        if (tv) {
                tv->tv_sec = ts.tv_sec;
                tv->tv_usec = ts.tv_nsec / 1000;
        }
        return 0;
}

time_t time(time_t *ret) {
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return (time_t) -1;
        if (ret)
                *ret = ts.tv_sec;
        return ts.tv_sec;
}
