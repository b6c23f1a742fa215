{
  # Builds the one native piece of selfsup: a thin N-API layer over libtorch.
  # LIBTORCH=/path/to/libtorch (with include/ and lib/) selects another libtorch,
  # for example PyTorch's own CUDA build; the default is Debian's libtorch-dev.
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    # A CUDA libtorch (libtorch_cuda.so beside libtorch.so) also gets ProcessGroupNCCL.
    "with_nccl%": "<!(node -p \"const l=process.env.LIBTORCH;l&&require('fs').existsSync(l+'/lib/libtorch_cuda.so')?1:0\")"
  },
  "targets": [{
    "target_name": "selfsup_native",
    "sources": ["native/selfsup.cc", "native/cpu-cache.cc", "native/skipgram.cc", "native/distributed.cc", "native/op-profiler.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8", "USE_C10D_GLOO"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y"],
    "cflags_cc": ["-std=c++17", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
    "conditions": [
      ["with_nccl==1", { "defines": ["USE_C10D_NCCL", "SELFSUP_WITH_NCCL"] }],
      ["libtorch==''", {
        "include_dirs": ["/usr/include/torch/csrc/api/include"],
        "libraries": ["-ltorch", "-ltorch_cpu", "-lc10"]
      }, {
        "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
        "libraries": [
          "-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-Wl,--no-as-needed",
          "<!@(node -e \"const fs=require('fs');const d=process.env.LIBTORCH+'/lib';const l=['torch','torch_cpu','c10','torch_cuda','c10_cuda'].filter(n=>fs.existsSync(d+'/lib'+n+'.so'));console.log(l.map(n=>'-l'+n).join(' '))\")",
          "-Wl,--as-needed"
        ]
      }]
    ]
  }]
}
