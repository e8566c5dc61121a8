/*
 * Bench-only LD_PRELOAD library: gives perfdhcp's UDP sockets a bigger
 * receive queue. perfdhcp has no option for it, so its socket gets the
 * kernel default (net.core.rmem_default, 208 KiB here), which holds about
 * 12 ms of replies at 8000 exchanges/s: when perfdhcp's receiving thread is
 * off the CPU for longer, replies the server did send are lost in
 * perfdhcp's own queue and counted as the server's drops.
 *
 * Built by bench/run.mjs with gcc into its temporary directory; acts only in
 * a process named "perfdhcp" (timeout and bash, which start it, load it
 * too) and only when PROVLAB_PERFDHCP_RCVBUF holds a byte count. Each
 * socket's resulting SO_RCVBUF goes to stderr so the bench records what
 * the kernel granted rather than what was asked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

extern char *program_invocation_short_name;

int socket(int domain, int type, int protocol) {
  static int (*real_socket)(int, int, int);
  if (real_socket == NULL) real_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
  int fd = real_socket(domain, type, protocol);
  const char *want = getenv("PROVLAB_PERFDHCP_RCVBUF");
  if (fd < 0 || want == NULL || strcmp(program_invocation_short_name, "perfdhcp") != 0) return fd;
  if ((type & 0xf) != SOCK_DGRAM) return fd;
  int saved = errno;
  int bytes = atoi(want);
  /* SO_RCVBUFFORCE (root) is not capped by net.core.rmem_max; SO_RCVBUF is. */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  int got = 0;
  socklen_t len = sizeof got;
  if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0)
    fprintf(stderr, "perfdhcp-rcvbuf: fd %d SO_RCVBUF %d\n", fd, got);
  errno = saved;
  return fd;
}
