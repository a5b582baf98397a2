{
  "targets": [
    {
      "target_name": "piece_cid",
      "sources": ["piece_cid.c"],
      "cflags": ["-O3", "-std=c11", "-pthread"],
      "ldflags": ["-pthread"],
      "defines": ["NAPI_VERSION=8"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] }
    }
  ]
}
