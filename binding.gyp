{
  "targets": [
    {
      "target_name": "provlab_devsock",
      "sources": ["native/devsock.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["native/devsock.c"] }]
      ]
    }
  ]
}
