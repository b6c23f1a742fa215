#!/usr/bin/env bash
# Installs everything selfsup needs on a fresh Debian 12 machine and builds it.
# Run as root (or with sudo available). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  g++ make python3          # node-gyp builds the addon
  libtorch-dev              # the engine: PyTorch's C++ core (1.13 on Debian 12)
  libgloo-dev               # headers of Gloo, the CPU collectives of libtorch's c10d (data-parallel training)
  libopenblas0-openmp       # an optimized BLAS for libtorch (the reference BLAS is several times slower)
  dataset-fashion-mnist     # the default data set, under /usr/share/datasets/fashion-mnist
  python3-torch             # PyTorch itself: reference fixtures, interop checks, benchmarks
  wordnet-base              # text corpus and labels: WordNet glosses by lexicographer file
  fortunes fortunes-min     # text corpus and labels: quotes by fortune file
  chromium                  # headless checks of the HTML report
  fasttext python3-gensim   # the skip-gram benchmark's references (bench/skipgram-bench.ts)
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "selfsup setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# python3-gensim pulls in OpenBLAS's pthread build, which outranks the OpenMP one as the
# system BLAS; keep libtorch on the OpenMP build (its threads share libtorch's OpenMP pool).
for lib in libblas.so.3 liblapack.so.3 libopenblas.so.0; do
  alt="$lib-x86_64-linux-gnu"
  target="$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-openmp || true)"
  if [ -n "$target" ]; then $SUDO update-alternatives --set "$alt" "$target" >/dev/null; fi
done

# npm ci runs the package's install script, which builds the native addon with node-gyp.
# onnxruntime-node (tests and benches) ships its CPU binaries in the package; its install
# script would only download CUDA providers from outside npm, which fails here: skip it.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
