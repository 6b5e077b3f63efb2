#include "cepoll.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>

_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLERR == POLLERR && EPOLLHUP == POLLHUP,
               "epoll's event bits are poll's");

// At most this many reports per wait: a turn serves them, then waits again (level-triggered, nothing is lost).
#define CEP_BATCH 256

int cep_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int control(int epoll_fd, int op, int fd, uint32_t events, uint64_t token) {
    struct epoll_event event = {.events = events, .data.u64 = token};
    return epoll_ctl(epoll_fd, op, fd, &event);
}

int cep_add(int epoll_fd, int fd, uint32_t events, uint64_t token) { return control(epoll_fd, EPOLL_CTL_ADD, fd, events, token); }

int cep_modify(int epoll_fd, int fd, uint32_t events, uint64_t token) {
    return control(epoll_fd, EPOLL_CTL_MOD, fd, events, token);
}

int cep_remove(int epoll_fd, int fd) { return control(epoll_fd, EPOLL_CTL_DEL, fd, 0, 0); }

int cep_wait(int epoll_fd, cep_event *events, int capacity, int timeout_ms) {
    struct epoll_event ready[CEP_BATCH];
    int n = epoll_wait(epoll_fd, ready, capacity < CEP_BATCH ? capacity : CEP_BATCH, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        events[i].events = ready[i].events;
        events[i].token = ready[i].data.u64;
    }
    return n;
}
