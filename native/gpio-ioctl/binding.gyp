{
  "targets": [
    {
      "target_name": "gpio_ioctl",
      "sources": ["ioctl.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
