#!/usr/bin/env bash
# selfsup's CUDA check, for a GPU machine that has PyTorch (pip, with CUDA) and g++
# but no Node.js, npm, node-gyp or internet. Run it from a copy of the working tree
# that also carries .tmp/device and dist/ (both made by scripts/device-pack.sh):
#
#   env        GPU, python with torch, libtorch location and C++ ABI, g++
#   unpack     node from .tmp/device/node.xz, npm packages into node_modules/
#   build      native/selfsup.cc compiled by g++ against PyTorch's own libtorch
#              (torch, torch_cpu, c10, torch_cuda, c10_cuda) into
#              build/Release/selfsup_native.node, where src/native/binding.ts looks
#   load       dist/ loads the addon; libtorch sees the GPU; a matmul on it
#   cuda-tests test/cuda.test.ts (CUDA against CPU: transfers, errors, autograd,
#              RotNet steps, optimizer state, checkpoints, loader; the device option
#              of pretraining, fine-tuning, kNN, probe, the experiment and the CLI)
#   gpu-tests  the GPU tests of test/checkpoint.test.ts and test/safetensors.test.ts
#   bench      RotNet training step on cuda, selfsup vs PyTorch (bench/rotnet-step.ts),
#              batch 128 (best of 2 rounds) and 512, images/s and their ratio
#   full-suite only with DEVICE_CHECK_FULL=1: every test, against this libtorch
#
# Every step runs under `timeout`, traced (set -x) into $OUT/<step>.log; a failed step
# is recorded and the next runs. The summary goes to stdout and $OUT/summary.txt,
# bench results to $OUT/bench.jsonl. Exit status 1 when any step failed.
#
#   bash scripts/device-check.sh            on the GPU machine
#   bash scripts/device-check.sh --dry-run  without CUDA (scripts/device-pack.sh
#       --simulate): no CUDA is reported, not failed; the CUDA tests run with the CPU
#       standing in; the bench runs a few CPU steps
#
# Environment: OUT (default .tmp/device-out), PYTHON (a python with torch; otherwise
# python3, python, /usr/bin/python3, the first that imports torch), DEVICE_PACK
# (.tmp/device), DEVICE_CHECK_BUDGET_S (all steps together, default 420),
# BENCH_STEPS (200), BENCH_WARMUP (20), DEVICE_CHECK_FULL=1.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2

DRY=${DEVICE_CHECK_DRY_RUN:-0}
for arg in "$@"; do
  case $arg in
    --dry-run) DRY=1 ;;
    -h | --help) sed -n '2,33p' "$0"; exit 0 ;;
    *) echo "device-check: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

OUT=${OUT:-$ROOT/.tmp/device-out}
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)
PACK=${DEVICE_PACK:-$ROOT/.tmp/device}
NODE=$PACK/bin/node
ADDON=build/Release/selfsup_native.node
BUDGET=${DEVICE_CHECK_BUDGET_S:-420}
BENCH_STEPS=${BENCH_STEPS:-200}
BENCH_WARMUP=${BENCH_WARMUP:-20}
SUMMARY=$OUT/summary.txt
T0=$SECONDS
FAILURES=0
declare -A STEP_RC=()
: >"$SUMMARY"
: >"$OUT/bench.jsonl"

note() { printf '[%3ds] %s\n' $((SECONDS - T0)) "$*"; }

# ---------------------------------------------------------------- python with torch
# Found here, not in a step, because every step needs its answers.
PY="" TORCH="" ABI="" TORCH_VERSION="" TORCH_CUDA=""
# shellcheck disable=SC2086 # PYTHON may be empty: then it adds no word
for candidate in ${PYTHON:-} python3 python /usr/bin/python3; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  info=$(timeout 120 "$candidate" -c 'import os, torch; print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI), torch.__version__, torch.version.cuda)' 2>>"$OUT/python-probe.log" | tail -n 1) || continue
  [[ -n $info ]] || continue
  PY=$(command -v "$candidate")
  read -r TORCH ABI TORCH_VERSION TORCH_CUDA <<<"$info"
  break
done
export ROOT OUT PACK NODE ADDON DRY BENCH_STEPS BENCH_WARMUP PY TORCH ABI TORCH_VERSION TORCH_CUDA

# ---------------------------------------------------------------- steps
# Each prints 'RESULT: ...' for the summary; exit 0 pass, 3 skip, anything else fail.

# Test counts from node's spec reporter ('ℹ pass 10' ...), on one line.
test_counts() { grep -E '(tests|pass|fail|skipped) [0-9]+$' "$1" | sed 's/^[^a-z]*//' | tr '\n' ' '; }
count_of() { grep -E "$2 [0-9]+\$" "$1" | tail -n 1 | grep -oE '[0-9]+$' || echo 0; }

step_env() {
  uname -a
  head -n 3 /etc/os-release
  echo "cores: $(nproc)"
  free -g | head -n 2
  df -h . | tail -n 1
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv || nvidia-smi || true
  g++ --version | head -n 1
  cat "$OUT/python-probe.log"
  if [[ -z $PY ]]; then echo "RESULT: no python with torch (tried \$PYTHON, python3, python, /usr/bin/python3)"; exit 1; fi
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "devices", torch.cuda.device_count(), "cudnn", torch.backends.cudnn.version())'
  ls -l "$TORCH"/lib/libtorch*.so "$TORCH"/lib/libc10*.so
  cat "$PACK/MANIFEST" || true
  if [[ ! -f dist/test/cuda.test.js ]]; then echo "RESULT: dist/ is missing or old: carry dist (scripts/device-pack.sh builds it)"; exit 1; fi
  echo "RESULT: $PY: torch $TORCH_VERSION (CUDA $TORCH_CUDA, CXX11 ABI $ABI) at $TORCH; g++ $(g++ -dumpfullversion 2>/dev/null || g++ -dumpversion)"
}

step_unpack() {
  if [[ ! -f $PACK/node.xz || ! -f $PACK/node_modules.tar.xz ]]; then
    echo "RESULT: $PACK has no node.xz or node_modules.tar.xz: carry .tmp/device (scripts/device-pack.sh makes it)"; exit 1
  fi
  mkdir -p "$PACK/bin" || exit 1
  if ! "$NODE" --version >/dev/null 2>&1; then
    if command -v xz >/dev/null; then
      xz -dc "$PACK/node.xz" >"$NODE.tmp" || exit 1
    else
      "$PY" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$PACK/node.xz" "$NODE.tmp" || exit 1
    fi
    chmod +x "$NODE.tmp" && mv -f "$NODE.tmp" "$NODE" || exit 1
  fi
  "$NODE" --version || { echo "RESULT: the unpacked node does not run"; exit 1; }
  if [[ -f node_modules/.package-lock.json ]]; then
    echo "node_modules/ was installed by npm here: left as it is"
  elif command -v xz >/dev/null; then
    tar -xJf "$PACK/node_modules.tar.xz" || exit 1
  else
    "$PY" -c 'import sys, tarfile; t = tarfile.open(sys.argv[1]); t.extractall(".", **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))' "$PACK/node_modules.tar.xz" || exit 1
  fi
  echo "RESULT: node $("$NODE" --version) (N-API $("$NODE" -p process.versions.napi)), $(find node_modules -mindepth 1 -maxdepth 1 | wc -l) entries in node_modules/"
}

step_build() {
  if [[ -f build/Makefile && ${DEVICE_CHECK_REPLACE_ADDON:-0} != 1 ]]; then
    echo "RESULT: build/ holds a node-gyp build; not replacing it (run in a copy: scripts/device-pack.sh --simulate, or set DEVICE_CHECK_REPLACE_ADDON=1)"
    exit 1
  fi
  if [[ -z $TORCH || ! -f $TORCH/include/ATen/ATen.h ]]; then echo "RESULT: no libtorch headers under '$TORCH/include'"; exit 1; fi
  if [[ ! -f $PACK/include/napi.h || ! -f $PACK/include/node_api.h ]]; then echo "RESULT: no N-API headers in $PACK/include"; exit 1; fi
  local libs=() n
  for n in torch torch_cpu c10 torch_cuda c10_cuda; do
    [[ -e $TORCH/lib/lib$n.so ]] && libs+=("-l$n")
  done
  echo "libraries: ${libs[*]}"
  local std=c++17
  if grep -qs 'C++20 or later' "$TORCH/include/ATen/ATen.h" "$TORCH/include/c10/macros/Macros.h" "$TORCH/include/torch/csrc/api/include/torch/all.h"; then std=c++20; fi
  mkdir -p build/Release || exit 1
  compile() {
    # The flags of binding.gyp / node-gyp, without node-gyp. --no-as-needed keeps
    # libtorch_cuda linked although nothing here calls it: loading it registers CUDA.
    g++ -std="$1" -O2 -fPIC -shared -pthread \
      -DNAPI_CPP_EXCEPTIONS -DNAPI_VERSION=8 -DBUILDING_NODE_EXTENSION -DNODE_GYP_MODULE_NAME=selfsup_native \
      -D_GLIBCXX_USE_CXX11_ABI="$ABI" -Wno-unused-parameter -Wno-deprecated-declarations \
      -I"$PACK/include" -I"$TORCH/include" -I"$TORCH/include/torch/csrc/api/include" \
      native/selfsup.cc -o "$ADDON.tmp" \
      -L"$TORCH/lib" -Wl,-rpath,"$TORCH/lib" -Wl,--no-as-needed "${libs[@]}" -Wl,--as-needed \
      2>"$OUT/g++-$1.err"
    local rc=$?
    head -c 20000 "$OUT/g++-$1.err"
    return $rc
  }
  local t=$SECONDS
  if ! compile "$std"; then
    if [[ $std == c++17 ]] && grep -qiE 'c\+\+20|c\+\+2a|concept|consteval|std::span' "$OUT/g++-c++17.err"; then
      std=c++20
      compile "$std" || { echo "RESULT: g++ failed with c++17 and c++20: $(grep -m 1 'error' "$OUT/g++-c++20.err")"; exit 1; }
    else
      echo "RESULT: g++ ($std) failed: $(grep -m 1 'error' "$OUT/g++-$std.err")"; exit 1
    fi
  fi
  mv -f "$ADDON.tmp" "$ADDON" || exit 1
  ldd "$ADDON" | grep -E 'torch|c10|cuda|not found'
  if ldd "$ADDON" | grep -q 'not found'; then echo "RESULT: the addon has unresolved libraries (ldd above)"; exit 1; fi
  nm -D --defined-only "$ADDON" | grep napi_register_module || { echo "RESULT: the addon exports no napi_register_module_v1"; exit 1; }
  echo "RESULT: built with -std=$std in $((SECONDS - t))s, linked ${libs[*]}"
}

step_load() {
  local out
  out=$("$NODE" --input-type=module -e "
    import { cuda, torchVersion, randn } from './dist/src/tensor/index.js';
    const info = { torch: torchVersion, cuda: cuda.isAvailable(), devices: cuda.deviceCount() };
    if (info.cuda) {
      const a = randn([1024, 1024], { device: 'cuda' });
      info.device = a.device;
      info.matmulFinite = Number.isFinite(a.matmul(a).sum().item());
    }
    console.log('LOAD ' + JSON.stringify(info));
  " 2>&1)
  local rc=$?
  echo "$out"
  ((rc == 0)) || { echo "RESULT: dist/ cannot load the addon: $(echo "$out" | grep -m 1 -i error)"; exit 1; }
  local info
  info=$(echo "$out" | grep '^LOAD ' | cut -c6-)
  if [[ $info == *'"cuda":true'* ]]; then echo "RESULT: $info"; exit 0; fi
  if ((DRY)); then echo "RESULT: no CUDA here (dry run): $info"; exit 3; fi
  echo "RESULT: the addon loads but libtorch sees no CUDA device: $info"; exit 1
}

step_cuda_tests() {
  local log=$OUT/cuda-tests.out rc
  if ((DRY)); then
    SELFSUP_TEST_DEVICE=cpu "$NODE" --test --test-reporter=spec dist/test/cuda.test.js 2>&1 | tee "$log"
  else
    SELFSUP_REQUIRE_CUDA=1 "$NODE" --test --test-reporter=spec dist/test/cuda.test.js 2>&1 | tee "$log"
  fi
  rc=${PIPESTATUS[0]}
  if ((rc == 0)) && (($(count_of "$log" pass) < 17)); then echo "RESULT: only $(count_of "$log" pass) tests passed, expected 17 (18 with CUDA required): $(test_counts "$log")"; exit 1; fi
  echo "RESULT: $(test_counts "$log")"
  exit "$rc"
}

step_gpu_tests() {
  local log=$OUT/gpu-tests.out rc
  "$NODE" --test --test-reporter=spec --test-name-pattern='loads onto the GPU when asked|loading onto a device other than the cpu' \
    dist/test/checkpoint.test.js dist/test/safetensors.test.js 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if ((rc == 0 && !DRY)) && (($(count_of "$log" pass) < 2)); then echo "RESULT: the 2 GPU tests did not both run: $(test_counts "$log")"; exit 1; fi
  echo "RESULT: $(test_counts "$log")"
  exit "$rc"
}

step_bench() {
  local device=cuda steps=$BENCH_STEPS warmup=$BENCH_WARMUP runs="128:2 512:1" run batch rounds rc=0 lines=""
  if ((DRY)); then device=cpu steps=3 warmup=1 runs="16:1"; fi
  for run in $runs; do
    batch=${run%:*} rounds=${run#*:}
    "$NODE" dist/bench/rotnet-step.js --device "$device" --steps "$steps" --warmup "$warmup" --batch "$batch" --rounds "$rounds" \
      --skip-tfjs --python "$PY" --threads "$(nproc)" 2>&1 | tee "$OUT/bench-$batch.out"
    if ((PIPESTATUS[0] != 0)); then rc=1; lines+="batch $batch failed; "; continue; fi
    grep '^{' "$OUT/bench-$batch.out" | tail -n 1 >>"$OUT/bench.jsonl"
    # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
    lines+=$(grep '^{' "$OUT/bench-$batch.out" | tail -n 1 | "$NODE" -e '
      const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
      process.stdout.write(`${j.device} batch ${j.batch}x4: selfsup ${j.selfsup_img_per_s.toFixed(0)} img/s, PyTorch ${j.pytorch_img_per_s.toFixed(0)} img/s, ratio ${j.ratio_vs_pytorch.toFixed(3)}; `);')
  done
  echo "RESULT: $lines"
  exit "$rc"
}

step_full_suite() {
  local log=$OUT/full-suite.out rc
  "$NODE" --test --test-reporter=spec dist/test/ 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  echo "RESULT: $(test_counts "$log")"
  exit "$rc"
}

export -f test_counts count_of step_env step_unpack step_build step_load step_cuda_tests step_gpu_tests step_bench step_full_suite

# ---------------------------------------------------------------- runner

record() { # name status seconds detail
  printf '%-11s %-5s %4ss  %s\n' "$1" "$2" "$3" "$4" | tee -a "$SUMMARY"
  if [[ $2 != PASS && $2 != SKIP ]]; then FAILURES=$((FAILURES + 1)); fi
}

# run_step NAME LIMIT_S FUNCTION [STEPS IT NEEDS...]
run_step() {
  local name=$1 limit=$2 fn=$3 dep
  shift 3
  local log=$OUT/$name.log
  for dep in "$@"; do
    if [[ ${STEP_RC[$dep]:-1} != 0 && ${STEP_RC[$dep]:-1} != 3 ]]; then
      STEP_RC[$name]=1
      record "$name" BLOCK 0 "not run: needs $dep, which failed"
      return
    fi
  done
  local left=$((BUDGET - (SECONDS - T0)))
  if ((left < 20)); then STEP_RC[$name]=1; record "$name" FAIL 0 "not run: the ${BUDGET}s budget is spent"; return; fi
  ((limit > left - 5)) && limit=$((left - 5))
  note "$name: start (limit ${limit}s, log $name.log)"
  local t=$SECONDS rc detail
  timeout -k 10 "$limit" bash -c "set -x; $fn" >"$log" 2>&1
  rc=$?
  STEP_RC[$name]=$rc
  detail=$(grep -h '^RESULT: ' "$log" | tail -n 1 | cut -c9-)
  case $rc in
    0) record "$name" PASS $((SECONDS - t)) "$detail" ;;
    3) record "$name" SKIP $((SECONDS - t)) "$detail" ;;
    124 | 137) record "$name" FAIL $((SECONDS - t)) "timed out after ${limit}s. $detail" ;;
    *) record "$name" FAIL $((SECONDS - t)) "exit $rc. $detail" ;;
  esac
  if [[ $rc != 0 && $rc != 3 ]]; then tail -n 25 "$log" | cut -c1-300 | sed 's/^/      | /'; fi
}

note "selfsup device check in $ROOT ($( ((DRY)) && echo 'dry run, no CUDA expected' || echo 'CUDA expected')); logs in $OUT"
note "python: ${PY:-none}; torch ${TORCH_VERSION:-?} at ${TORCH:-?}"
run_step env 60 step_env
run_step unpack 90 step_unpack
run_step build 330 step_build env unpack
run_step load 60 step_load build
run_step cuda-tests 180 step_cuda_tests load
run_step gpu-tests 90 step_gpu_tests load
run_step bench 200 step_bench load
if [[ ${DEVICE_CHECK_FULL:-0} == 1 ]]; then
  run_step full-suite 300 step_full_suite load
else
  record full-suite SKIP 0 "not run (DEVICE_CHECK_FULL=1 runs every test against this libtorch)"
fi

echo
echo "=== summary ($((SECONDS - T0))s, ${FAILURES} failed; logs: $OUT) ==="
cat "$SUMMARY"
((FAILURES == 0))
