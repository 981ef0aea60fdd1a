#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include "CShims.h"

int stampede_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int stampede_accept_nonblocking(int listener) {
    return accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

int stampede_malloc_trim(void) { return malloc_trim(0); }
int stampede_limit_malloc_arenas(int n) { return mallopt(M_ARENA_MAX, n); }
