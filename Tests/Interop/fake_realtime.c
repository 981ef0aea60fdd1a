/* LD_PRELOAD shim for the clock-skew tests: the wall clock (CLOCK_REALTIME, gettimeofday, time)
 * runs STAMPEDE_FAKE_OFFSET_MS ahead (negative: behind); the monotonic clocks are untouched.
 * libfaketime would do it, but under it a Swift program's CommandLine.arguments is empty.
 * Built by the tests: gcc -shared -fPIC -O2 -o fake_realtime.so fake_realtime.c -ldl */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long offset_ns(void) {
    static long long cached = -1;
    static int known = 0;
    if (!known) {
        const char *text = getenv("STAMPEDE_FAKE_OFFSET_MS");
        cached = text ? atoll(text) * 1000000LL : 0;
        known = 1;
    }
    return cached;
}

static int (*real_clock_gettime)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts) {
    if (!real_clock_gettime) real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real_clock_gettime(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + offset_ns();
        ts->tv_sec = ns / 1000000000LL;
        ts->tv_nsec = ns % 1000000000LL;
    }
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    if (rc == 0 && tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    (void)tz;
    return rc;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
