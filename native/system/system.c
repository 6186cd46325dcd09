/*
 * Two calls to the system Node cannot make itself:
 *
 *   notify(socket: string, message: string): void
 *     sd_notify(3) by hand: one datagram on the AF_UNIX socket named by
 *     $NOTIFY_SOCKET ("/run/systemd/notify", or "@name" for the abstract
 *     namespace: sun_path[0] = '\0'). Sent from this process, so the kernel
 *     attaches our own PID (SCM_CREDENTIALS) and NotifyAccess=main accepts
 *     it. MSG_DONTWAIT: a full queue is EAGAIN, never a blocked event loop.
 *     Throws an Error with .code = the errno's name.
 *
 *   trimHeap(): boolean
 *     glibc malloc_trim(0): gives the free memory at the top of the heap and
 *     in whole free pages back to the kernel; true when some was released.
 */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <node_api.h>

static const char *errno_code(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    case EPROTOTYPE: return "EPROTOTYPE";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    default: return "EUNKNOWN";
  }
}

static void throw_errno(napi_env env, const char *what, int e) {
  char text[256];
  snprintf(text, sizeof text, "%s: %s", what, strerror(e));
  napi_value msg, code, err;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &err);
  napi_throw(env, err);
}

static napi_value notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  size_t path_len = 0, msg_len = 0;
  if (argc != 2 ||
      napi_get_value_string_utf8(env, argv[0], path, sizeof path, &path_len) != napi_ok ||
      napi_get_value_string_utf8(env, argv[1], NULL, 0, &msg_len) != napi_ok) {
    napi_throw_type_error(env, NULL, "notify(socket: string, message: string)");
    return NULL;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  /* A path must be absolute, an abstract name starts with '@' (sd_notify(3)). */
  if (path_len < 2 || (path[0] != '/' && path[0] != '@')) {
    napi_throw_range_error(env, NULL, "NOTIFY_SOCKET is neither an absolute path nor an @abstract name");
    return NULL;
  }
  if (path_len >= sizeof sa.sun_path) {
    throw_errno(env, "notify socket", ENAMETOOLONG);
    return NULL;
  }
  memcpy(sa.sun_path, path, path_len);
  socklen_t sa_len = offsetof(struct sockaddr_un, sun_path) + path_len;
  if (path[0] == '@') sa.sun_path[0] = '\0';
  else sa_len += 1; /* the path's NUL */

  char small[512];
  char *msg = msg_len < sizeof small ? small : malloc(msg_len + 1);
  if (!msg) {
    throw_errno(env, "notify", ENOMEM);
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[1], msg, msg_len + 1, &msg_len);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int e = 0;
  if (fd < 0) e = errno;
  else if (sendto(fd, msg, msg_len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa, sa_len) < 0)
    e = errno;
  if (fd >= 0) close(fd);
  if (msg != small) free(msg);
  if (e) throw_errno(env, "notify", e);
  return NULL;
}

static napi_value trim_heap(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "notify", NAPI_AUTO_LENGTH, notify, NULL, &fn);
  napi_set_named_property(env, exports, "notify", fn);
  napi_create_function(env, "trimHeap", NAPI_AUTO_LENGTH, trim_heap, NULL, &fn);
  napi_set_named_property(env, exports, "trimHeap", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
