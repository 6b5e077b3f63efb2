// epoll for the HTTP server's event loop: Glibc's Swift module does not export <sys/epoll.h>, and its
// `struct epoll_event` is packed on x86-64, which Swift cannot lay out. These wrappers take and return the
// event bits with poll(2)'s values (POLLIN, POLLOUT, POLLERR, POLLHUP: Linux defines EPOLLIN etc. as the same
// numbers, checked below), so the server's readiness logic reads the same whichever call reported it.
#ifndef CEPOLL_H
#define CEPOLL_H

#include <stdint.h>

/// One readiness report: poll(2) event bits and the token the descriptor was registered with.
typedef struct {
    uint32_t events;
    uint64_t token;
} cep_event;

/// A new epoll instance (close-on-exec), or -1 with errno set.
int cep_create(void);

/// Registers `fd` for `events` (POLLIN/POLLOUT bits; 0 = only errors and hang-ups), level-triggered, reported
/// with `token`. 0 or -1 with errno.
int cep_add(int epoll_fd, int fd, uint32_t events, uint64_t token);

/// Changes what `fd` is watched for. 0 or -1 with errno.
int cep_modify(int epoll_fd, int fd, uint32_t events, uint64_t token);

/// Stops watching `fd` (before closing it). 0 or -1 with errno.
int cep_remove(int epoll_fd, int fd);

/// Waits up to `timeout_ms` (−1: forever, 0: not at all) and writes at most `capacity` reports: their count, 0 on
/// timeout or EINTR, −1 with errno on other failures.
int cep_wait(int epoll_fd, cep_event *events, int capacity, int timeout_ms);

#endif
