/*
 * What Node cannot do for the Linux GPIO character device
 * (include/uapi/linux/gpio.h): ioctl(2) on a file descriptor with a buffer,
 * and waiting for a line request's edge events without a timer. Everything
 * else (structs, open, read of edge events) is done in JavaScript.
 *
 *   ioctl(fd: number, request: number, buf: Buffer): number
 *   setNonBlocking(fd: number): void   (line request fds: read returns EAGAIN
 *                                        instead of holding a thread)
 *   watch(fd: number, ready: (error: string | null) => void): { close(): void }
 *       calls `ready` on the event loop whenever fd is readable: an edge event
 *       is queued, or the chip went away (the kernel's linereq_poll says
 *       EPOLLERR|EPOLLHUP; the read then fails with ENODEV). A libuv poll
 *       handle (epoll on Linux, in the loop's own epoll set): no thread, no
 *       timer, no wake-up while nothing happens. Level-triggered: `ready` is
 *       called again while something is left unread, so whoever stops
 *       reading (a failing device) must close the watch. `error` is libuv's
 *       error name ("EBADF") when polling itself failed. close() before the
 *       fd is closed.
 *   throws an Error with .code = "EBUSY", "EINVAL", … (errno) on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <node_api.h>
#include <uv.h>

static const char *errno_code(int e) {
  switch (e) {
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV";
    case EIO: return "EIO";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTTY: return "ENOTTY";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENXIO: return "ENXIO";
    case ENOMEM: return "ENOMEM";
    case EEXIST: return "EEXIST";
    default: return "EUNKNOWN";
  }
}

/* Throws an Error whose .code is the errno's name, as Node's own errors do. */
static void throw_errno(napi_env env, int e) {
  napi_value msg, code, err;
  napi_create_string_utf8(env, strerror(e), NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, errno_code(e), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, code, msg, &err);
  napi_throw(env, err);
}

static napi_value do_ioctl(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 3) {
    napi_throw_type_error(env, NULL, "ioctl(fd, request, buffer)");
    return NULL;
  }
  int32_t fd;
  uint32_t request;
  void *data;
  size_t len;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &request) != napi_ok ||
      napi_get_buffer_info(env, argv[2], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "ioctl(fd: number, request: number, buffer: Buffer)");
    return NULL;
  }
  /* The request encodes the size the kernel reads and writes (_IOC_SIZE). */
  size_t want = (request >> 16) & 0x3fff;
  if (len < want) {
    napi_throw_range_error(env, NULL, "buffer smaller than the ioctl's struct");
    return NULL;
  }
  int r = ioctl(fd, (unsigned long)request, data);
  if (r < 0) {
    throw_errno(env, errno);
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, r, &result);
  return result;
}

static napi_value set_nonblocking(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "setNonBlocking(fd: number)");
    return NULL;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_errno(env, errno);
  return NULL;
}


typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref ready;
  napi_ref self; /* the JS watch object lives as long as the poll does */
  napi_async_context context;
  int closing;
  int handle_closed;
  int finalized;
} watch_t;

static void watch_free_if_done(watch_t *w) {
  if (w->handle_closed && w->finalized) free(w);
}

static void on_handle_closed(uv_handle_t *h) {
  watch_t *w = (watch_t *)h->data;
  w->handle_closed = 1;
  watch_free_if_done(w);
}

static void watch_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watch_t *w = data;
  w->finalized = 1;
  watch_free_if_done(w);
}

static void watch_stop(watch_t *w, int in_teardown);

static void on_env_teardown(void *arg) { watch_stop((watch_t *)arg, 1); }

static void watch_stop(watch_t *w, int in_teardown) {
  if (w->closing) return;
  w->closing = 1;
  uv_poll_stop(&w->poll);
  if (!in_teardown) napi_remove_env_cleanup_hook(w->env, on_env_teardown, w);
  napi_async_destroy(w->env, w->context);
  napi_delete_reference(w->env, w->ready);
  napi_delete_reference(w->env, w->self);
  uv_close((uv_handle_t *)&w->poll, on_handle_closed);
}

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  watch_t *w = (watch_t *)h->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value fn, recv, arg, result;
  napi_get_reference_value(env, w->ready, &fn);
  napi_get_global(env, &recv); /* make_callback wants an object */
  if (status < 0) napi_create_string_utf8(env, uv_err_name(status), NAPI_AUTO_LENGTH, &arg);
  else napi_get_null(env, &arg);
  /* make_callback: microtasks and async hooks run as for any I/O callback. */
  if (napi_make_callback(env, w->context, recv, fn, 1, &arg, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
}

static napi_value watch_close(napi_env env, napi_callback_info info) {
  napi_value self;
  watch_t *w = NULL;
  napi_get_cb_info(env, info, NULL, NULL, &self, NULL);
  if (napi_unwrap(env, self, (void **)&w) == napi_ok && w) watch_stop(w, 0);
  return NULL;
}

static napi_value watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  napi_valuetype t = napi_undefined;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == 2) napi_typeof(env, argv[1], &t);
  if (argc != 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "watch(fd: number, ready: (error: string | null) => void)");
    return NULL;
  }
  uv_loop_t *loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, NULL, "watch: no event loop");
    return NULL;
  }
  watch_t *w = calloc(1, sizeof *w);
  if (!w) {
    throw_errno(env, ENOMEM);
    return NULL;
  }
  int r = uv_poll_init(loop, &w->poll, fd);
  if (r < 0) {
    free(w);
    throw_errno(env, -r);
    return NULL;
  }
  w->poll.data = w;
  w->env = env;
  r = uv_poll_start(&w->poll, UV_READABLE, on_poll);
  if (r < 0) {
    w->finalized = 1;
    uv_close((uv_handle_t *)&w->poll, on_handle_closed);
    throw_errno(env, -r);
    return NULL;
  }
  napi_value obj, fn, name;
  napi_create_object(env, &obj);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, watch_close, NULL, &fn);
  napi_set_named_property(env, obj, "close", fn);
  napi_wrap(env, obj, w, watch_finalize, NULL, NULL);
  napi_create_reference(env, argv[1], 1, &w->ready);
  napi_create_reference(env, obj, 1, &w->self);
  napi_create_string_utf8(env, "deskphone:gpio-watch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &w->context);
  napi_add_env_cleanup_hook(env, on_env_teardown, w);
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "ioctl", NAPI_AUTO_LENGTH, do_ioctl, NULL, &fn);
  napi_set_named_property(env, exports, "ioctl", fn);
  napi_create_function(env, "setNonBlocking", NAPI_AUTO_LENGTH, set_nonblocking, NULL, &fn);
  napi_set_named_property(env, exports, "setNonBlocking", fn);
  napi_create_function(env, "watch", NAPI_AUTO_LENGTH, watch, NULL, &fn);
  napi_set_named_property(env, exports, "watch", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
