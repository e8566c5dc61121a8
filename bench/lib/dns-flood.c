// One source flooding a DNS server with one valid query (fresh IDs), paced,
// bounded by count and seconds: the "broken or malicious device" of the flood
// row (bench/dns-flood.mjs). Answers are never read (the kernel drops them).
//   dns-flood SERVER_IP PORT LOCAL_IP RATE_PPS SECONDS MAX_COUNT QUERY_HEX
// Prints one JSON line: {"sent":N,"seconds":S}.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: dns-flood SERVER_IP PORT LOCAL_IP RATE_PPS SECONDS MAX_COUNT QUERY_HEX\n");
    return 2;
  }
  double rate = atof(argv[4]), seconds = atof(argv[5]);
  long long max = atoll(argv[6]);
  const char *hex = argv[7];
  size_t qlen = strlen(hex) / 2;
  if (rate <= 0 || seconds <= 0 || seconds > 600 || max <= 0 || qlen < 12 || qlen > 512) {
    fprintf(stderr, "dns-flood: bad rate, seconds (0-600], count or query\n");
    return 2;
  }
  unsigned char q[BATCH][512];
  for (size_t i = 0; i < qlen; i++) sscanf(hex + 2 * i, "%2hhx", &q[0][i]);
  for (int b = 1; b < BATCH; b++) memcpy(q[b], q[0], qlen);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in local = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, argv[3], &local.sin_addr);
  inet_pton(AF_INET, argv[1], &dst.sin_addr);
  if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof local) < 0 || connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0) {
    perror("dns-flood: socket");
    return 1;
  }
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int b = 0; b < BATCH; b++) {
    iov[b].iov_base = q[b];
    iov[b].iov_len = qlen;
    msgs[b].msg_hdr.msg_iov = &iov[b];
    msgs[b].msg_hdr.msg_iovlen = 1;
  }
  long long sent = 0;
  unsigned short id = 1;
  double start = now(), t = start;
  while (sent < max && (t = now()) - start < seconds) {
    long long due = (long long)((t - start) * rate);
    if (due <= sent) {
      struct timespec pause = {0, 200000};
      nanosleep(&pause, NULL);
      continue;
    }
    int n = due - sent < BATCH ? (int)(due - sent) : BATCH;
    if (n > max - sent) n = (int)(max - sent);
    for (int b = 0; b < n; b++, id++) {
      q[b][0] = id >> 8;
      q[b][1] = id & 0xff;
    }
    int r = sendmmsg(fd, msgs, n, 0);
    // A full socket buffer (ENOBUFS/EAGAIN) just costs those datagrams, as on a wire.
    sent += r > 0 ? r : n;
  }
  printf("{\"sent\":%lld,\"seconds\":%.3f}\n", sent, now() - start);
  return 0;
}
