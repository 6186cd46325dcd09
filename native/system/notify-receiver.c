/*
 * Test support only (not used by the phone): the receiving end of the
 * sd_notify protocol, as systemd's manager is. Node cannot bind an AF_UNIX
 * datagram socket, so this does.
 *
 *   bind(path: string): number
 *     a non-blocking AF_UNIX SOCK_DGRAM socket bound to `path` ("@name": the
 *     abstract namespace) with SO_PASSCRED, so every datagram carries the
 *     sender's credentials (unix(7), SCM_CREDENTIALS).
 *   receive(fd: number): { pid, uid, message } | null   (null: nothing waiting)
 *   close(fd: number): void
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

static void throw_errno(napi_env env, const char *what, int e) {
  napi_value msg, err;
  char text[256];
  snprintf(text, sizeof text, "%s: %s", what, strerror(e));
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  napi_throw(env, err);
}

static napi_value do_bind(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  struct sockaddr_un sa;
  char path[sizeof sa.sun_path];
  size_t len = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok ||
      len < 2 || len >= sizeof path - 1) {
    napi_throw_type_error(env, NULL, "bind(path: string)");
    return NULL;
  }
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path, len);
  socklen_t sa_len = offsetof(struct sockaddr_un, sun_path) + len;
  if (path[0] == '@') sa.sun_path[0] = '\0';
  else sa_len += 1;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0 ||
      bind(fd, (struct sockaddr *)&sa, sa_len) < 0) {
    int e = errno;
    if (fd >= 0) close(fd);
    throw_errno(env, "bind", e);
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

static napi_value do_receive(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "receive(fd: number)");
    return NULL;
  }
  char data[4096];
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(struct ucred))];
  } control;
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                      .msg_controllen = sizeof control.buf};
  ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  napi_value result;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      napi_get_null(env, &result);
      return result;
    }
    throw_errno(env, "recvmsg", errno);
    return NULL;
  }
  int pid = -1, uid = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred cred;
      memcpy(&cred, CMSG_DATA(c), sizeof cred);
      pid = cred.pid;
      uid = (int)cred.uid;
    }
  }
  napi_value v;
  napi_create_object(env, &result);
  napi_create_int32(env, pid, &v);
  napi_set_named_property(env, result, "pid", v);
  napi_create_int32(env, uid, &v);
  napi_set_named_property(env, result, "uid", v);
  napi_create_string_utf8(env, data, (size_t)n, &v);
  napi_set_named_property(env, result, "message", v);
  return result;
}

static napi_value do_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 1 && napi_get_value_int32(env, argv[0], &fd) == napi_ok) close(fd);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "bind", NAPI_AUTO_LENGTH, do_bind, NULL, &fn);
  napi_set_named_property(env, exports, "bind", fn);
  napi_create_function(env, "receive", NAPI_AUTO_LENGTH, do_receive, NULL, &fn);
  napi_set_named_property(env, exports, "receive", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, do_close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
