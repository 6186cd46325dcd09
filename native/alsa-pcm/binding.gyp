{
  "targets": [
    {
      "target_name": "alsa_pcm",
      "sources": ["pcm.c"],
      "libraries": ["-lasound"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
