/*
 * provlab_devsock: a UDP socket bound to one network device, for the DHCP
 * server on the provisioning VLAN.
 *
 * Why native: Node's dgram can neither set SO_BINDTODEVICE nor read
 * IP_PKTINFO. A DHCP server on a multi-homed host binds 0.0.0.0:67 (it must
 * hear 255.255.255.255 broadcasts from clients that have no address yet),
 * and without SO_BINDTODEVICE that socket answers broadcasts arriving on
 * *every* interface: a rogue DHCP server on the office LAN. With it, the
 * kernel delivers only datagrams that arrived on the named device and routes
 * our broadcasts out of that device only.
 *
 * JS API (wrapped by src/dhcp/device-socket.ts):
 *   open(ifname, port, onMessage, onError) -> handle {ifindex, port}
 *     onMessage(buf, address, port, ifindex, localAddress, destAddress)
 *   send(handle, bytes, address, port) -> bytes sent
 *   setArp(ifname, ip, mac) -> true
 *   close(handle), ref(handle), unref(handle)
 *   openBatch(address, port, ifname|null, {slots, slotSize, overflow, timestamps, rcvbuf, reusePort}, onBatch, onError)
 *     -> handle {port, ifindex, inData, inMeta, outData, outMeta, stats, inOverflow, overflow}
 *     see "batch mode" below: recvmmsg/sendmmsg through shared memory.
 *   sendTo(handle, bytes, ipv4AsUint32, port) -> bytes sent
 *   sendBatch(handle, count) -> count: send out slots 0..count-1 now
 *   realtime() -> [seconds, nanoseconds] of CLOCK_REALTIME
 *   openIcmp(ifname|null, onMessage, onError) -> handle {ifindex, port: 0}
 *     a raw ICMP socket (CAP_NET_RAW) that hears echo replies only: DHCP's
 *     conflict probe. onMessage gets the whole IP datagram; send with
 *     sendTo(handle, icmpBytes, ipv4AsUint32, 1) (the port is ignored).
 *   reusePort: true (openBatch takes the reusePort option)
 *   tryLock(fd) -> true when flock(LOCK_EX | LOCK_NB) took it, false when held
 *     (src/dhcp/lease-lock.ts)
 * Failures throw an Error with .code ("ENODEV"), .errno (negative, as in
 * Node) and .syscall; the message is "syscall: strerror text".
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <linux/icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Largest IPv4 UDP payload is 65507; one buffer per socket, reused. */
#define DATAGRAM_MAX 65536
/* Datagrams read per readiness event. epoll is level-triggered, so what is
 * left is read on the next loop turn; a flood cannot starve timers and
 * other sockets (libuv's own UDP reader does the same with 32). */
#define DRAIN_BUDGET 64
/* Shared arrays of a batch socket, kept alive by references. */
#define BATCH_ARRAYS 6

/* Batch mode (openBatch): see "batch mode" below. */
#define IN_WORDS 10 /* len, flags, src ip, src port, dst ip, local ip, ifindex, ts sec, ts nsec, spare */
#define OUT_WORDS 6 /* len, dst ip, dst port, src ip (0: the kernel's choice), flags, spare */
#define IN_TRUNCATED 1u /* longer than a slot and its overflow: only those bytes kept */
#define IN_TIMESTAMP 2u /* ts sec/nsec hold the kernel's receive time */
#define OUT_NTP_TRANSMIT 1u /* stamp CLOCK_REALTIME at bytes 40..47 right before sendmmsg() */
#define NTP_TRANSMIT_OFFSET 40
#define NTP_UNIX_OFFSET 2208988800u
#define STATS 6 /* datagrams received, truncated, batches, replies sent, send errors, last send errno */
/* recvmmsg() calls per readiness event (same reasoning as DRAIN_BUDGET). */
#define BATCH_ROUNDS 8
#define CTL_SPACE (CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(struct timespec)))

struct batch {
  unsigned slots, slot_size;
  /* Bytes a datagram may run past its slot, read into its own part of `ovf`
   * (a second iovec): rare long datagrams (a DNS query over 2 KiB, RFC 8906)
   * are read whole while the slots stay small. `ovf` is anonymous memory
   * with MAP_NORESERVE: pages exist only once a long datagram touched them.
   * It is owned by its external ArrayBuffer (unmapped by its finalizer). */
  unsigned overflow;
  unsigned char *ovf;
  napi_ref refs[BATCH_ARRAYS]; /* the six shared ArrayBuffers */
  unsigned char *in, *out;     /* slots * slot_size each, owned by JS (ArrayBuffer) */
  uint32_t *in_meta, *out_meta;
  double *stats;
  struct mmsghdr *rmsg, *smsg;
  struct iovec *riov, *siov;
  struct sockaddr_in *raddr, *saddr;
  unsigned char *rctl, *sctl;
};

typedef struct devsock {
  napi_env env;
  int fd;            /* -1 once closed */
  int polling;       /* poll handle initialised and uv_close not yet called */
  int handle_closed; /* uv_close finished, or the poll handle never existed */
  int finalized;     /* the JS handle object was collected */
  uv_poll_t poll;
  napi_ref self;     /* strong while open: an open socket is never collected */
  napi_ref on_message;
  napi_ref on_error;
  napi_async_context actx;
  napi_async_cleanup_hook_handle hook;
  struct batch *batch; /* NULL: one onMessage call per datagram (open) */
  unsigned char buf[DATAGRAM_MAX];
} devsock;

static void batch_free(struct batch *b);

/* Guards napi_unwrap against objects that merely look like our handles. */
static const napi_type_tag DEVSOCK_TAG = {0x70726f766c616231ULL, 0x646576736f636b31ULL};

/* ---- errors ------------------------------------------------------------ */

static napi_value errno_error(napi_env env, const char *syscall, int err) {
  char text[128], msg[256], code[64];
  const char *t = strerror_r(err, text, sizeof text); /* GNU variant */
  snprintf(msg, sizeof msg, "%s: %s", syscall, t);
  uv_err_name_r(-err, code, sizeof code);
  napi_value m, c, e = NULL, v;
  if (napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m) != napi_ok ||
      napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c) != napi_ok ||
      napi_create_error(env, c, m, &e) != napi_ok)
    return NULL;
  if (napi_create_int32(env, -err, &v) == napi_ok) napi_set_named_property(env, e, "errno", v);
  if (napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, e, "syscall", v);
  return e;
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  napi_value e = errno_error(env, syscall, err);
  if (e != NULL) napi_throw(env, e);
  else napi_throw_error(env, NULL, syscall);
  return NULL;
}

/* An N-API call failed: make sure JS sees an exception, then return. */
static napi_value napi_failed(napi_env env) {
  const napi_extended_error_info *info = NULL;
  const char *msg = "N-API call failed";
  if (napi_get_last_error_info(env, &info) == napi_ok && info && info->error_message)
    msg = info->error_message;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, msg);
  return NULL;
}

#define CHECK(call) do { if ((call) != napi_ok) return napi_failed(env); } while (0)

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

/* ---- argument helpers (return 0 and leave an exception on failure) ---- */

static int arg_string(napi_env env, napi_value v, char *out, size_t cap, const char *what) {
  napi_valuetype t;
  size_t len;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_string) return throw_type(env, what), 0;
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return napi_failed(env), 0;
  /* empty, truncated, or with an embedded NUL */
  if (len == 0 || len >= cap - 1 || strlen(out) != len) return throw_type(env, what), 0;
  return 1;
}

static int arg_ifname(napi_env env, napi_value v, char name[IFNAMSIZ]) {
  char tmp[IFNAMSIZ + 2];
  if (!arg_string(env, v, tmp, sizeof tmp, "interface name must be a string of 1-15 bytes")) return 0;
  if (strlen(tmp) >= IFNAMSIZ) return throw_type(env, "interface name must be a string of 1-15 bytes"), 0;
  memcpy(name, tmp, IFNAMSIZ);
  return 1;
}

static int arg_ipv4(napi_env env, napi_value v, struct in_addr *out) {
  char tmp[32];
  if (!arg_string(env, v, tmp, sizeof tmp, "address must be a dotted-quad IPv4 string")) return 0;
  if (inet_pton(AF_INET, tmp, out) != 1) return throw_type(env, "address must be a dotted-quad IPv4 string"), 0;
  return 1;
}

static int arg_port(napi_env env, napi_value v, int lo, int *out) {
  napi_valuetype t;
  double d;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      !(d >= lo && d <= 65535) || d != (double)(int)d) /* NaN fails the range test */
    return throw_type(env, "port must be an integer in range"), 0;
  *out = (int)d;
  return 1;
}

static int arg_function(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_function) return throw_type(env, "callback must be a function"), 0;
  return 1;
}

static devsock *arg_handle(napi_env env, napi_value v) {
  bool ok = false;
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_object || napi_check_object_type_tag(env, v, &DEVSOCK_TAG, &ok) != napi_ok ||
      !ok || napi_unwrap(env, v, &p) != napi_ok || p == NULL)
    return throw_type(env, "expected a provlab_devsock handle"), NULL;
  return p;
}

/* ---- lifetime ---------------------------------------------------------- */
/* The struct is freed when both the JS handle was collected and the uv poll
 * handle finished closing; whichever comes second frees it. */

static void maybe_free(devsock *s) {
  if (!s->finalized || !s->handle_closed) return;
  batch_free(s->batch);
  free(s);
}

static void on_closed(uv_handle_t *h) {
  devsock *s = h->data;
  s->handle_closed = 1;
  if (s->hook != NULL) { /* tells Node our async cleanup (if it started one) is done */
    napi_remove_async_cleanup_hook(s->hook);
    s->hook = NULL;
  }
  maybe_free(s);
}

/* Stops polling and closes the fd; idempotent. with_js=0 when called from a
 * GC finalizer, where the refs are left for the environment to drop. */
static void shutdown_socket(devsock *s, int with_js) {
  if (s->fd < 0) return;
  if (s->polling) {
    uv_poll_stop(&s->poll); /* before close(): epoll must not watch a dead fd */
    s->polling = 0;
    uv_close((uv_handle_t *)&s->poll, on_closed);
  } else {
    s->handle_closed = 1; /* the poll handle was never initialised */
  }
  close(s->fd);
  s->fd = -1;
  if (!with_js) return;
  napi_env env = s->env;
  if (s->on_message) napi_delete_reference(env, s->on_message);
  if (s->on_error) napi_delete_reference(env, s->on_error);
  if (s->self) napi_delete_reference(env, s->self); /* now collectable */
  if (s->actx) napi_async_destroy(env, s->actx);
  if (s->batch != NULL)
    for (int i = 0; i < BATCH_ARRAYS; i++)
      if (s->batch->refs[i]) {
        napi_delete_reference(env, s->batch->refs[i]);
        s->batch->refs[i] = NULL;
      }
  s->on_message = s->on_error = s->self = NULL;
  s->actx = NULL;
}

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  devsock *s = data;
  s->finalized = 1;
  shutdown_socket(s, 0); /* only if still open, i.e. at environment teardown */
  maybe_free(s);
}

/* Environment (main thread or Worker) going away with the socket open: the
 * poll handle must be uv_close()d before the loop closes; on_closed tells
 * Node when that is done. */
static void on_env_cleanup(napi_async_cleanup_hook_handle h, void *arg) {
  (void)h;
  shutdown_socket(arg, 1);
}

/* ---- calling JS from the loop ----------------------------------------- */

/* Returns what the function returned, or NULL if it threw. */
static napi_value call_js(devsock *s, napi_ref fn_ref, size_t argc, napi_value *argv) {
  napi_env env = s->env;
  napi_value fn, recv, result = NULL, exc;
  bool pending = false;
  /* make_callback needs an object receiver; the global will do. */
  if (fn_ref == NULL || napi_get_reference_value(env, fn_ref, &fn) != napi_ok || napi_get_global(env, &recv) != napi_ok)
    return NULL;
  if (napi_make_callback(env, s->actx, recv, fn, argc, argv, &result) == napi_ok) return result;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending && napi_get_and_clear_last_exception(env, &exc) == napi_ok)
    /* The wrapper catches its callbacks' throws; anything left behaves as
     * an uncaught exception would for a dgram listener. */
    napi_fatal_exception(env, exc);
  return NULL;
}

static void report(devsock *s, const char *syscall, int err) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(s->env, &scope) != napi_ok) return;
  napi_value e = errno_error(s->env, syscall, err);
  if (e != NULL) call_js(s, s->on_error, 1, &e);
  napi_close_handle_scope(s->env, scope);
}

static void deliver(devsock *s, size_t n, const struct sockaddr_in *from, const struct in_pktinfo *pi) {
  napi_env env = s->env;
  napi_handle_scope scope; /* per datagram: the Buffer and strings die with it */
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  char src[INET_ADDRSTRLEN], local[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &from->sin_addr, src, sizeof src);
  /* ipi_spec_dst: our address on the arrival interface (what a reply is
   * sent from); ipi_addr: the header destination (broadcast or unicast). */
  inet_ntop(AF_INET, &pi->ipi_spec_dst, local, sizeof local);
  inet_ntop(AF_INET, &pi->ipi_addr, dst, sizeof dst);
  napi_value argv[6];
  if (napi_create_buffer_copy(env, n, s->buf, NULL, &argv[0]) == napi_ok &&
      napi_create_string_utf8(env, src, NAPI_AUTO_LENGTH, &argv[1]) == napi_ok &&
      napi_create_uint32(env, ntohs(from->sin_port), &argv[2]) == napi_ok &&
      napi_create_uint32(env, (uint32_t)pi->ipi_ifindex, &argv[3]) == napi_ok &&
      napi_create_string_utf8(env, local, NAPI_AUTO_LENGTH, &argv[4]) == napi_ok &&
      napi_create_string_utf8(env, dst, NAPI_AUTO_LENGTH, &argv[5]) == napi_ok)
    call_js(s, s->on_message, 6, argv);
  else
    report(s, "napi (datagram dropped)", ENOMEM);
  napi_close_handle_scope(env, scope);
}

static void batch_drain(devsock *s);

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  devsock *s = h->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value pin = NULL;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  /* Keep the handle object (and so *s) alive even if a callback closes it. */
  if (s->self) napi_get_reference_value(env, s->self, &pin);
  (void)pin;
  if (status < 0) {
    uv_poll_stop(h); /* a broken fd would otherwise spin the loop */
    report(s, "poll", -status);
    goto out;
  }
  if (s->batch != NULL) {
    batch_drain(s);
    goto out;
  }
  for (int i = 0; i < DRAIN_BUDGET && s->fd >= 0; i++) {
    struct sockaddr_in from;
    union { char buf[CMSG_SPACE(sizeof(struct in_pktinfo))]; struct cmsghdr align; } ctl;
    struct iovec iov = {s->buf, sizeof s->buf};
    struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
    ssize_t n = recvmsg(s->fd, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) report(s, "recvmsg", errno);
      break; /* drained (or an error reported once; epoll will tell us again) */
    }
    struct in_pktinfo pi = {0};
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) memcpy(&pi, CMSG_DATA(c), sizeof pi);
    deliver(s, (size_t)n, &from, &pi);
  }
out:
  napi_close_handle_scope(env, scope);
}

/* ---- exported functions ------------------------------------------------ */

static int batch_expose(napi_env env, devsock *s, napi_value obj);

/* Everything after socket(): the handle object, its references, the poll.
 * Takes ownership of fd and b (closed/freed on failure). */
static napi_value start_socket(napi_env env, int fd, napi_value on_message, napi_value on_error, struct batch *b,
                               unsigned ifindex, unsigned port) {
  napi_value obj, v;
  devsock *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    batch_free(b);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->batch = b; /* owned by s from here: freed with it */
  s->env = env;
  s->fd = fd;
  s->poll.data = s;
  uv_loop_t *loop = NULL;
  int rc;
  /* Until wrapped, failures free s here; after, the finalizer owns it. */
  if (napi_create_object(env, &obj) != napi_ok || napi_wrap(env, obj, s, on_finalize, NULL, NULL) != napi_ok) {
    napi_value e = napi_failed(env);
    close(fd);
    batch_free(b);
    free(s);
    return e;
  }
  if (napi_type_tag_object(env, obj, &DEVSOCK_TAG) != napi_ok ||
      napi_create_reference(env, obj, 1, &s->self) != napi_ok ||
      napi_create_reference(env, on_message, 1, &s->on_message) != napi_ok ||
      napi_create_reference(env, on_error, 1, &s->on_error) != napi_ok ||
      napi_create_string_utf8(env, "provlab_devsock", NAPI_AUTO_LENGTH, &v) != napi_ok ||
      napi_async_init(env, NULL, v, &s->actx) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok ||
      napi_create_uint32(env, ifindex, &v) != napi_ok ||
      napi_set_named_property(env, obj, "ifindex", v) != napi_ok ||
      napi_create_uint32(env, port, &v) != napi_ok ||
      napi_set_named_property(env, obj, "port", v) != napi_ok || (b != NULL && !batch_expose(env, s, obj))) {
    napi_value e = napi_failed(env);
    shutdown_socket(s, 1);
    return e;
  }
  if ((rc = uv_poll_init(loop, &s->poll, fd)) < 0) {
    shutdown_socket(s, 1);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  s->polling = 1;
  if (napi_add_async_cleanup_hook(env, on_env_cleanup, s, &s->hook) != napi_ok) {
    napi_value e = napi_failed(env);
    s->hook = NULL;
    shutdown_socket(s, 1);
    return e;
  }
  if ((rc = uv_poll_start(&s->poll, UV_READABLE, on_poll)) < 0) {
    shutdown_socket(s, 1);
    return throw_errno(env, "uv_poll_start", -rc);
  }
  return obj;
}



static int set_int(int fd, int level, int opt, int v) { return setsockopt(fd, level, opt, &v, sizeof v); }

/* A bound, non-blocking UDP socket with IP_PKTINFO. ifname != NULL binds it
 * to that device (and allows several such sockets on one port, one per
 * device); otherwise a second bind of the same address and port fails with
 * EADDRINUSE, as it should, unless both set reuseport (SO_REUSEPORT: several
 * sockets of one effective UID share the port, the kernel spreads the flows
 * over them). Returns the fd, or -1 with an exception pending. */
static int make_socket(napi_env env, const char *ifname, struct in_addr addr, int port, int timestamps, int rcvbuf,
                       int reuseport, unsigned *bound_port) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno), -1;
  const char *step = NULL;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr = addr};
  if (ifname != NULL && set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) step = "setsockopt(SO_REUSEADDR)";
  else if (set_int(fd, SOL_SOCKET, SO_BROADCAST, 1) < 0) step = "setsockopt(SO_BROADCAST)";
  /* The guarantee this file exists for: only datagrams that arrived on
   * ifname are delivered, and sends (255.255.255.255 included) leave by it. */
  else if (ifname != NULL && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
    step = "setsockopt(SO_BINDTODEVICE)";
  else if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0) step = "setsockopt(IP_PKTINFO)";
  /* NTP: the kernel's receive time, not the event loop's (which is late by
   * however long the loop was busy). */
  else if (timestamps && set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) < 0) step = "setsockopt(SO_TIMESTAMPNS)";
  /* A bigger queue rides out a busy loop turn (a GC pause). SO_RCVBUFFORCE
   * (root or CAP_NET_ADMIN, which a DHCP server has) is not capped by
   * net.core.rmem_max; without the privilege, SO_RCVBUF up to that cap. */
  else if (rcvbuf > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0 &&
           set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf) < 0)
    step = "setsockopt(SO_RCVBUF)";
  else if (reuseport && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0) step = "setsockopt(SO_REUSEPORT)";
  else if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) step = "bind";
  socklen_t alen = sizeof sa; /* port 0 asks the kernel to pick; learn which */
  if (step == NULL && getsockname(fd, (struct sockaddr *)&sa, &alen) < 0) step = "getsockname";
  if (step != NULL) {
    int err = errno;
    close(fd);
    return throw_errno(env, step, err), -1;
  }
  *bound_port = ntohs(sa.sin_port);
  return fd;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char ifname[IFNAMSIZ];
  int port;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "open(ifname, port, onMessage, onError)");
  if (!arg_ifname(env, argv[0], ifname) || !arg_port(env, argv[1], 0, &port) || !arg_function(env, argv[2]) ||
      !arg_function(env, argv[3]))
    return NULL;

  struct in_addr any = {.s_addr = htonl(INADDR_ANY)};
  unsigned bound = 0;
  int fd = make_socket(env, ifname, any, port, 0, 0, 0, &bound);
  if (fd < 0) return NULL;
  return start_socket(env, fd, argv[2], argv[3], NULL, if_nametoindex(ifname), bound);
}

/* A raw ICMP socket for DHCP's conflict probe (an echo request before the
 * first offer of an address, as ISC dhcpd and dnsmasq do). Opened before
 * privileges are dropped: the fd keeps CAP_NET_RAW's grant. ICMP_FILTER
 * leaves only echo replies, so other ICMP traffic never reaches JS. */
static napi_value js_open_icmp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char ifname[IFNAMSIZ];
  napi_valuetype t;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "openIcmp(ifname|null, onMessage, onError)");
  CHECK(napi_typeof(env, argv[0], &t));
  int device = t != napi_null && t != napi_undefined;
  if ((device && !arg_ifname(env, argv[0], ifname)) || !arg_function(env, argv[1]) || !arg_function(env, argv[2])) return NULL;
  int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) return throw_errno(env, "socket(SOCK_RAW, IPPROTO_ICMP)", errno);
  struct icmp_filter filter = {.data = ~(1u << ICMP_ECHOREPLY)};
  const char *step = NULL;
  if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof filter) < 0) step = "setsockopt(ICMP_FILTER)";
  else if (device && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname) + 1) < 0)
    step = "setsockopt(SO_BINDTODEVICE)";
  else if (set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0) step = "setsockopt(IP_PKTINFO)";
  if (step != NULL) {
    int err = errno;
    close(fd);
    return throw_errno(env, step, err);
  }
  return start_socket(env, fd, argv[1], argv[2], NULL, device ? if_nametoindex(ifname) : 0, 0);
}

/* bytes: a Uint8Array (0 and an exception pending otherwise). */
static int arg_bytes(napi_env env, napi_value v, void **data, size_t *len) {
  bool is_ta = false;
  napi_typedarray_type tt;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok) return napi_failed(env), 0;
  if (!is_ta) return throw_type(env, "bytes must be a Uint8Array"), 0;
  if (napi_get_typedarray_info(env, v, &tt, len, data, NULL, NULL) != napi_ok) return napi_failed(env), 0;
  if (tt != napi_uint8_array) return throw_type(env, "bytes must be a Uint8Array"), 0;
  return 1;
}

/* One synchronous sendto(); returns the byte count, or throws. */
static napi_value send_one(napi_env env, devsock *s, const void *data, size_t len, const struct sockaddr_in *to) {
  napi_value out;
  if (s->fd < 0) return throw_errno(env, "sendto", EBADF);
  ssize_t n;
  do n = sendto(s->fd, data, len, 0, (const struct sockaddr *)to, sizeof *to);
  while (n < 0 && errno == EINTR);
  if (n < 0) return throw_errno(env, "sendto", errno);
  CHECK(napi_create_int64(env, n, &out));
  return out;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  size_t len;
  void *data;
  int port;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "send(handle, bytes, address, port)");
  devsock *s = arg_handle(env, argv[0]);
  struct sockaddr_in to = {.sin_family = AF_INET};
  if (s == NULL || !arg_bytes(env, argv[1], &data, &len) || !arg_ipv4(env, argv[2], &to.sin_addr) || !arg_port(env, argv[3], 1, &port))
    return NULL;
  to.sin_port = htons((uint16_t)port);
  return send_one(env, s, data, len, &to);
}

/* RFC 2131 §4.1: a client with no address that did not ask for broadcast
 * gets its reply unicast to yiaddr at chaddr. It cannot answer ARP for an
 * address it does not have yet, so we put the IP->MAC pair in the kernel's
 * neighbour table ourselves (as dnsmasq does) before sendto(). ATF_COM
 * marks it complete; without ATF_PERM it ages out like a learned entry. */
static napi_value js_set_arp(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  char ifname[IFNAMSIZ], mac_text[32];
  struct arpreq r;
  unsigned int m[6];
  char tail;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3) return throw_type(env, "setArp(ifname, ip, mac)");
  memset(&r, 0, sizeof r);
  struct sockaddr_in *pa = (struct sockaddr_in *)&r.arp_pa;
  pa->sin_family = AF_INET;
  if (!arg_ifname(env, argv[0], ifname) || !arg_ipv4(env, argv[1], &pa->sin_addr) ||
      !arg_string(env, argv[2], mac_text, sizeof mac_text, "mac must be aa:bb:cc:dd:ee:ff"))
    return NULL;
  if (sscanf(mac_text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6 &&
      sscanf(mac_text, "%2x-%2x-%2x-%2x-%2x-%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
    return throw_type(env, "mac must be aa:bb:cc:dd:ee:ff");
  r.arp_ha.sa_family = ARPHRD_ETHER;
  for (int i = 0; i < 6; i++) r.arp_ha.sa_data[i] = (char)m[i];
  r.arp_flags = ATF_COM;
  memcpy(r.arp_dev, ifname, IFNAMSIZ);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int rc = ioctl(fd, SIOCSARP, &r), err = errno;
  close(fd);
  if (rc < 0) return throw_errno(env, "ioctl(SIOCSARP)", err);
  CHECK(napi_get_boolean(env, true, &out));
  return out;
}

/* close(handle) / ref(handle) / unref(handle) share argument handling. */
static napi_value handle_op(napi_env env, napi_callback_info info, int op) {
  size_t argc = 1;
  napi_value argv[1], undef;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_undefined(env, &undef));
  if (argc < 1) return throw_type(env, "expected a provlab_devsock handle");
  devsock *s = arg_handle(env, argv[0]);
  if (s == NULL) return NULL;
  if (op == 0) shutdown_socket(s, 1);
  else if (s->polling && op == 1) uv_ref((uv_handle_t *)&s->poll);
  else if (s->polling) uv_unref((uv_handle_t *)&s->poll);
  return undef;
}
static napi_value js_close(napi_env env, napi_callback_info info) { return handle_op(env, info, 0); }
static napi_value js_ref(napi_env env, napi_callback_info info) { return handle_op(env, info, 1); }
static napi_value js_unref(napi_env env, napi_callback_info info) { return handle_op(env, info, 2); }

/* ---- batch mode -------------------------------------------------------- */
/* For the DNS and NTP hot paths. Node's dgram costs, per datagram, a call
 * into JS, a Buffer, a string address, a send request and a syscall each
 * way. Here one recvmmsg() reads up to `slots` datagrams into memory that JS
 * sees as a Buffer plus a Uint32Array of metadata, one call into JS answers
 * them all by writing replies into the out arrays, and one sendmmsg() sends
 * those replies. JS must finish with the in slots before it returns: they
 * are overwritten by the next recvmmsg(). */

static void batch_free(struct batch *b) {
  if (b == NULL) return;
  free(b->rmsg), free(b->smsg), free(b->riov), free(b->siov);
  free(b->raddr), free(b->saddr), free(b->rctl), free(b->sctl);
  free(b);
}

static struct batch *batch_alloc(unsigned slots, unsigned slot_size, unsigned overflow) {
  struct batch *b = calloc(1, sizeof *b);
  if (b == NULL) return NULL;
  b->slots = slots;
  b->slot_size = slot_size;
  b->overflow = overflow;
  b->rmsg = calloc(slots, sizeof *b->rmsg), b->smsg = calloc(slots, sizeof *b->smsg);
  b->riov = calloc((size_t)slots * 2, sizeof *b->riov), b->siov = calloc(slots, sizeof *b->siov);
  b->raddr = calloc(slots, sizeof *b->raddr), b->saddr = calloc(slots, sizeof *b->saddr);
  b->rctl = calloc(slots, CTL_SPACE), b->sctl = calloc(slots, CTL_SPACE);
  if (!b->rmsg || !b->smsg || !b->riov || !b->siov || !b->raddr || !b->saddr || !b->rctl || !b->sctl) {
    batch_free(b);
    return NULL;
  }
  return b;
}

static void unmap_overflow(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/* The shared arrays become properties of the handle; JS wraps them in views. */
static int batch_expose(napi_env env, devsock *s, napi_value obj) {
  struct batch *b = s->batch;
  static const char *names[BATCH_ARRAYS] = {"inData", "inMeta", "outData", "outMeta", "stats", "inOverflow"};
  size_t sizes[BATCH_ARRAYS] = {(size_t)b->slots * b->slot_size, (size_t)b->slots * IN_WORDS * 4,
                                (size_t)b->slots * b->slot_size, (size_t)b->slots * OUT_WORDS * 4, STATS * 8,
                                (size_t)b->slots * b->overflow};
  void *data[BATCH_ARRAYS];
  for (int i = 0; i < BATCH_ARRAYS; i++) {
    napi_value ab;
    void *m = MAP_FAILED;
    if (i == 5 && sizes[i] > 0) m = mmap(NULL, sizes[i], PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m != MAP_FAILED && napi_create_external_arraybuffer(env, m, sizes[i], unmap_overflow, (void *)(uintptr_t)sizes[i], &ab) != napi_ok) {
      munmap(m, sizes[i]); /* a runtime without external buffers: an ordinary one below */
      m = MAP_FAILED;
    }
    if (m != MAP_FAILED) {
      data[i] = m; /* zero already, and left untouched until a long datagram arrives */
    } else {
      if (napi_create_arraybuffer(env, sizes[i], &data[i], &ab) != napi_ok) return 0;
      if (i != 5) memset(data[i], 0, sizes[i]); /* V8 zero-fills too; the overflow's pages stay untouched */
    }
    if (napi_create_reference(env, ab, 1, &b->refs[i]) != napi_ok || napi_set_named_property(env, obj, names[i], ab) != napi_ok) return 0;
  }
  b->in = data[0], b->in_meta = data[1], b->out = data[2], b->out_meta = data[3], b->stats = data[4], b->ovf = data[5];
  for (unsigned i = 0; i < b->slots; i++) {
    struct iovec *iov = &b->riov[(size_t)i * 2];
    iov[0] = (struct iovec){b->in + (size_t)i * b->slot_size, b->slot_size};
    iov[1] = (struct iovec){b->ovf + (size_t)i * b->overflow, b->overflow};
    b->rmsg[i].msg_hdr = (struct msghdr){.msg_name = &b->raddr[i], .msg_iov = iov, .msg_iovlen = b->overflow > 0 ? 2 : 1,
                                         .msg_control = b->rctl + (size_t)i * CTL_SPACE};
  }
  napi_value v;
  return napi_create_uint32(env, b->slots, &v) == napi_ok && napi_set_named_property(env, obj, "slots", v) == napi_ok &&
         napi_create_uint32(env, b->slot_size, &v) == napi_ok && napi_set_named_property(env, obj, "slotSize", v) == napi_ok &&
         napi_create_uint32(env, b->overflow, &v) == napi_ok && napi_set_named_property(env, obj, "overflow", v) == napi_ok;
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16), p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Sends out slots 0..count-1. A message the kernel refuses (EAGAIN with a
 * full send queue, ENETUNREACH, ...) is counted and skipped, not retried. */
static void batch_send(devsock *s, unsigned count) {
  struct batch *b = s->batch;
  if (count > b->slots) count = b->slots;
  if (count == 0) return;
  for (unsigned i = 0; i < count; i++) {
    const uint32_t *o = b->out_meta + (size_t)i * OUT_WORDS;
    unsigned len = o[0] > b->slot_size ? b->slot_size : o[0];
    b->siov[i] = (struct iovec){b->out + (size_t)i * b->slot_size, len};
    b->saddr[i] = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)o[2]), .sin_addr.s_addr = htonl(o[1])};
    struct msghdr *h = &b->smsg[i].msg_hdr;
    *h = (struct msghdr){.msg_name = &b->saddr[i], .msg_namelen = sizeof b->saddr[i], .msg_iov = &b->siov[i], .msg_iovlen = 1};
    if (o[3] != 0) { /* answer from the address the query was sent to */
      h->msg_control = b->sctl + (size_t)i * CTL_SPACE;
      h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
      struct cmsghdr *c = CMSG_FIRSTHDR(h);
      c->cmsg_level = IPPROTO_IP, c->cmsg_type = IP_PKTINFO, c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
      struct in_pktinfo pi = {.ipi_spec_dst.s_addr = htonl(o[3])};
      memcpy(CMSG_DATA(c), &pi, sizeof pi);
    }
  }
  /* Last thing before the syscall: NTP transmit timestamps (RFC 5905 §7.3). */
  struct timespec now;
  int stamped = 0;
  for (unsigned i = 0; i < count; i++) {
    if (!(b->out_meta[(size_t)i * OUT_WORDS + 4] & OUT_NTP_TRANSMIT) || b->siov[i].iov_len < NTP_TRANSMIT_OFFSET + 8) continue;
    if (!stamped) clock_gettime(CLOCK_REALTIME, &now), stamped = 1;
    unsigned char *p = b->out + (size_t)i * b->slot_size + NTP_TRANSMIT_OFFSET;
    put_be32(p, (uint32_t)((uint64_t)now.tv_sec + NTP_UNIX_OFFSET));
    put_be32(p + 4, (uint32_t)(((uint64_t)now.tv_nsec << 32) / 1000000000u));
  }
  unsigned sent = 0;
  while (sent < count) {
    int r = sendmmsg(s->fd, b->smsg + sent, count - sent, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      b->stats[4] += 1, b->stats[5] = errno;
      sent++; /* the first message failed: skip it, try the rest */
      continue;
    }
    b->stats[3] += r;
    sent += (unsigned)r;
  }
}

static void batch_drain(devsock *s) {
  struct batch *b = s->batch;
  napi_env env = s->env;
  for (int round = 0; round < BATCH_ROUNDS && s->fd >= 0; round++) {
    for (unsigned i = 0; i < b->slots; i++) {
      struct msghdr *h = &b->rmsg[i].msg_hdr;
      h->msg_namelen = sizeof b->raddr[i];
      h->msg_controllen = CTL_SPACE;
      h->msg_flags = 0;
    }
    int n = recvmmsg(s->fd, b->rmsg, b->slots, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) report(s, "recvmmsg", errno);
      return;
    }
    if (n == 0) return;
    for (int i = 0; i < n; i++) {
      struct msghdr *h = &b->rmsg[i].msg_hdr;
      uint32_t *m = b->in_meta + (size_t)i * IN_WORDS;
      unsigned len = b->rmsg[i].msg_len;
      memset(m, 0, IN_WORDS * sizeof *m);
      m[0] = len > b->slot_size + b->overflow ? b->slot_size + b->overflow : len;
      if (h->msg_flags & MSG_TRUNC) m[1] |= IN_TRUNCATED, b->stats[1] += 1;
      m[2] = ntohl(b->raddr[i].sin_addr.s_addr);
      m[3] = ntohs(b->raddr[i].sin_port);
      for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          m[4] = ntohl(pi.ipi_addr.s_addr), m[5] = ntohl(pi.ipi_spec_dst.s_addr), m[6] = (uint32_t)pi.ipi_ifindex;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          m[1] |= IN_TIMESTAMP, m[7] = (uint32_t)ts.tv_sec, m[8] = (uint32_t)ts.tv_nsec;
        }
      }
    }
    b->stats[0] += n, b->stats[2] += 1;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value arg, result = NULL;
    uint32_t replies = 0;
    if (napi_create_uint32(env, (uint32_t)n, &arg) == napi_ok) result = call_js(s, s->on_message, 1, &arg);
    if (result != NULL && napi_get_value_uint32(env, result, &replies) != napi_ok) replies = 0;
    napi_close_handle_scope(env, scope);
    if (s->fd < 0) return; /* closed from JS */
    batch_send(s, replies);
    if ((unsigned)n < b->slots) return; /* the queue is empty */
  }
}

/* Optional number property of an options object, in [lo, hi]. */
static int opt_uint(napi_env env, napi_value obj, const char *name, uint32_t dflt, uint32_t lo, uint32_t hi, uint32_t *out) {
  bool has = false;
  napi_value v;
  napi_valuetype t;
  double d;
  *out = dflt;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return napi_failed(env), 0;
  if (!has || napi_get_named_property(env, obj, name, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t == napi_undefined)
    return 1;
  if (t == napi_boolean) {
    bool bv;
    napi_get_value_bool(env, v, &bv);
    d = bv ? 1 : 0;
  } else if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok) {
    return throw_type(env, "batch socket options must be numbers"), 0;
  }
  if (!(d >= lo && d <= hi) || d != (double)(uint32_t)d) return throw_type(env, "batch socket option out of range"), 0;
  *out = (uint32_t)d;
  return 1;
}

static napi_value js_open_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  char ifname[IFNAMSIZ];
  struct in_addr addr;
  int port;
  napi_valuetype t;
  uint32_t slots, slot_size, overflow, timestamps, rcvbuf, reuseport;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_type(env, "openBatch(address, port, ifname|null, options, onBatch, onError)");
  if (!arg_ipv4(env, argv[0], &addr) || !arg_port(env, argv[1], 0, &port)) return NULL;
  CHECK(napi_typeof(env, argv[2], &t));
  int device = t != napi_null && t != napi_undefined;
  if (device && !arg_ifname(env, argv[2], ifname)) return NULL;
  CHECK(napi_typeof(env, argv[3], &t));
  if (t != napi_object) return throw_type(env, "options must be an object");
  if (!opt_uint(env, argv[3], "slots", 64, 1, 1024, &slots) || !opt_uint(env, argv[3], "slotSize", 2048, 512, DATAGRAM_MAX, &slot_size) ||
      !opt_uint(env, argv[3], "overflow", 0, 0, DATAGRAM_MAX, &overflow) ||
      !opt_uint(env, argv[3], "timestamps", 0, 0, 1, &timestamps) || !opt_uint(env, argv[3], "rcvbuf", 0, 0, 1u << 30, &rcvbuf) ||
      !opt_uint(env, argv[3], "reusePort", 0, 0, 1, &reuseport) ||
      !arg_function(env, argv[4]) || !arg_function(env, argv[5]))
    return NULL;
  unsigned bound = 0;
  int fd = make_socket(env, device ? ifname : NULL, addr, port, (int)timestamps, (int)rcvbuf, (int)reuseport, &bound);
  if (fd < 0) return NULL;
  struct batch *b = batch_alloc(slots, slot_size, overflow);
  if (b == NULL) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  return start_socket(env, fd, argv[4], argv[5], b, device ? if_nametoindex(ifname) : 0, bound);
}

/* One reply outside a batch (a forwarded DNS answer arriving later). */
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  size_t len;
  void *data;
  uint32_t ip;
  int port;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4) return throw_type(env, "sendTo(handle, bytes, ipv4AsUint32, port)");
  devsock *s = arg_handle(env, argv[0]);
  if (s == NULL || !arg_bytes(env, argv[1], &data, &len)) return NULL;
  if (napi_get_value_uint32(env, argv[2], &ip) != napi_ok) return throw_type(env, "address must be an IPv4 address as a uint32");
  if (!arg_port(env, argv[3], 1, &port)) return NULL;
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(ip)};
  return send_one(env, s, data, len, &to);
}

/* Sends out slots 0..count-1 now, outside a batch: replies that waited for
 * something (a DHCP lease written to disk). Send failures are counted in
 * stats, as for a batch. Returns how many were handed to sendmmsg(). */
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  uint32_t count;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) return throw_type(env, "sendBatch(handle, count)");
  devsock *s = arg_handle(env, argv[0]);
  if (s == NULL) return NULL;
  if (s->batch == NULL) return throw_type(env, "not a batch socket");
  if (napi_get_value_uint32(env, argv[1], &count) != napi_ok || count > s->batch->slots)
    return throw_type(env, "count must be a number of out slots");
  if (s->fd < 0) return throw_errno(env, "sendmmsg", EBADF);
  batch_send(s, count);
  CHECK(napi_create_uint32(env, count, &result));
  return result;
}

/* CLOCK_REALTIME as [seconds, nanoseconds]: the clock batch_send() stamps. */
static napi_value js_realtime(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec now;
  napi_value arr, v;
  clock_gettime(CLOCK_REALTIME, &now);
  CHECK(napi_create_array_with_length(env, 2, &arr));
  CHECK(napi_create_double(env, (double)now.tv_sec, &v));
  CHECK(napi_set_element(env, arr, 0, v));
  CHECK(napi_create_double(env, (double)now.tv_nsec, &v));
  CHECK(napi_set_element(env, arr, 1, v));
  return arr;
}

/* The lease state dir's lock (src/dhcp/lease-lock.ts): flock(LOCK_EX | LOCK_NB) on
 * an fd Node opened. A pid file cannot be a lock (as PID 1 in a container the
 * stale pid is always our own); the kernel drops a flock when its holder dies.
 * true: locked; false: another open file description holds it. */
static napi_value js_try_lock(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], v;
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_errno(env, "flock", EBADF);
  int r;
  do r = flock(fd, LOCK_EX | LOCK_NB);
  while (r != 0 && errno == EINTR);
  if (r != 0 && errno != EWOULDBLOCK) return throw_errno(env, "flock", errno);
  CHECK(napi_get_boolean(env, r == 0, &v));
  return v;
}

NAPI_MODULE_INIT() {
  napi_value yes; /* reusePort: openBatch knows the option (an addon built before it ignores it) */
  if (napi_get_boolean(env, true, &yes) != napi_ok) return napi_failed(env);
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setArp", NULL, js_set_arp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ref", NULL, js_ref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unref", NULL, js_unref, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openBatch", NULL, js_open_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"realtime", NULL, js_realtime, NULL, NULL, NULL, napi_enumerable, NULL},
      {"openIcmp", NULL, js_open_icmp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reusePort", NULL, NULL, NULL, NULL, yes, napi_enumerable, NULL},
      {"tryLock", NULL, js_try_lock, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return napi_failed(env);
  return exports;
}
