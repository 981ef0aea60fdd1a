#ifndef STAMPEDE_CLINUX_SHIM_H
#define STAMPEDE_CLINUX_SHIM_H
// Linux interfaces that `import Glibc` does not expose (epoll_event, timerfd, eventfd). No
// _GNU_SOURCE here: it would give socket calls different prototypes than Glibc's module sees.
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

// Swift must see the kernel's layout: packed, 12 bytes on x86_64.
#if defined(__x86_64__)
_Static_assert(sizeof(struct epoll_event) == 12, "epoll_event must be packed on x86_64");
#endif

static inline int stampede_errno(void) { return errno; }

static inline uint64_t stampede_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// read(2) and write(2) through syscall(2), not glibc's wrappers: those are cancellation points
// that switch asynchronous cancellation on and off around every call (about 60 of some 3,700
// user-space instructions per request; callgrind), and no thread here is ever cancelled.
static inline ssize_t stampede_read(int fd, void *buffer, size_t count) {
    return syscall(SYS_read, fd, buffer, count);
}
static inline ssize_t stampede_write(int fd, const void *bytes, size_t count) {
    return syscall(SYS_write, fd, bytes, count);
}
#endif
