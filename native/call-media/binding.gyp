{
  "targets": [
    {
      "target_name": "call_media",
      "sources": ["addon.c", "engine.c", "devices.c", "rtp.c", "events.c", "jitter.c", "g711.c", "handover.c"],
      "libraries": ["-lasound", "-lpthread", "-lm"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-std=gnu11"]
    }
  ]
}
