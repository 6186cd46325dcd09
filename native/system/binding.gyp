{
  "targets": [
    {
      "target_name": "system",
      "sources": ["system.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    },
    {
      "target_name": "notify_receiver",
      "sources": ["notify-receiver.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
