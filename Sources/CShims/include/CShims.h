#ifndef STAMPEDE_CSHIMS_H
#define STAMPEDE_CSHIMS_H
// GNU-only functions and macros Swift cannot reach through Glibc (CPU_SET, pthread affinity).

/// Pins the calling thread to one CPU. Returns 0 or an errno value.
int stampede_pin_current_thread(int cpu);
/// malloc_trim(0): glibc returns the free memory at the top of its heaps and arenas to the system.
int stampede_malloc_trim(void);
/// mallopt(M_ARENA_MAX, n): at most n malloc arenas shared by every thread. Returns 1 on success.
int stampede_limit_malloc_arenas(int n);

/// accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC): one syscall instead of three.
int stampede_accept_nonblocking(int listener);
#endif
