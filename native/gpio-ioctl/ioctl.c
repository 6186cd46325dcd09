/*
 * The one system call Node cannot make: ioctl(2) on a file descriptor with a
 * buffer, for the Linux GPIO character device (include/uapi/linux/gpio.h).
 * Everything else (structs, open, read of edge events) is done in JavaScript.
 *
 *   ioctl(fd: number, request: number, buf: Buffer): number
 *   setNonBlocking(fd: number): void   (line request fds: read returns EAGAIN
 *                                        instead of holding a thread)
 *   throws an Error with .code = "EBUSY", "EINVAL", … (errno) on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <node_api.h>

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

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "ioctl", NAPI_AUTO_LENGTH, do_ioctl, NULL, &fn);
  napi_set_named_property(env, exports, "ioctl", fn);
  napi_create_function(env, "setNonBlocking", NAPI_AUTO_LENGTH, set_nonblocking, NULL, &fn);
  napi_set_named_property(env, exports, "setNonBlocking", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
