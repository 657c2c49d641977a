#!/usr/bin/env bash
# The one script to run on the GPU machine (issue 16): no Node there, only cmake, ninja, nvcc and
# PyTorch with CUDA. From the repository root:
#   tools/gpu-check/run.sh
# 1. builds native/ with CUDA for this machine's GPU only (plain cmake + ninja: minutes, not the
#    release build's six architectures), 2. runs the loader's fallback test and the CPU-vs-CUDA
# parity program, 3. times PyTorch eager (torch_eager.py) and Netloom's CUDA epochs (bench_cuda on
# the fixtures of programs/) and prints them side by side. Under 8 minutes on an H100: every part
# runs under its own `timeout` (build 180 s, fallback 15 s, parity 90 s, PyTorch 120 s, each
# Netloom epoch 20 s; 485 s at most in all, about 2 minutes when nothing hangs: estimate, not measured), so a hang costs that part, not the GPU session.
# Environment: PYTHON (default python3), BUILD (default build/gpu-check), JOBS (default nproc),
# OUT (where the logs are copied when set: the device tool's $OUT). The exact device-tool call is in
# tools/gpu-check/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build/gpu-check}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }
# limit SECONDS command...: runs it under timeout; a part that hangs or fails is reported and the
# script goes on (its status is returned for the caller to keep).
limit() {
  local secs=$1 rc=0
  shift
  timeout -k 5 "$secs" "$@" || rc=$?
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then echo "TIMEOUT after ${secs}s: $*" >&2; fi
  return "$rc"
}

# FashionMNIST's raw IDX files: the repository's assets, else the build's download (gzipped).
DATA=$BUILD/FashionMNIST
mkdir -p "$DATA"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ -f "$DATA/$f" ]; then continue; fi
  if [ -f "assets/datasets/FashionMNIST/raw/$f" ]; then cp "assets/datasets/FashionMNIST/raw/$f" "$DATA/$f"
  elif [ -f "build/datasets/FashionMNIST/raw/$f.gz" ]; then gunzip -c "build/datasets/FashionMNIST/raw/$f.gz" > "$DATA/$f"
  else echo "no FashionMNIST $f in assets/datasets or build/datasets" >&2; exit 1; fi
done

step "build (cmake + ninja, CUDA for this GPU)"
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
CC_ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.' || true)
CC_ARCH=${CC_ARCH:-90}   # H100 and H200 are 9.0
# WERROR off: another machine's compilers may warn where ours do not, and this run must not stop on it.
cmake -S native -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNETLOOM_CUDA=ON -DNETLOOM_WERROR=OFF -DCMAKE_CUDA_COMPILER="$NVCC" \
  -DNETLOOM_CUDA_ARCHITECTURES="${CC_ARCH}-real" >/dev/null
limit 180 cmake --build "$BUILD" -j "$JOBS" --target netloom_cuda test_cuda_fallback parity bench_cuda
export NETLOOM_CUDA_LIBRARY=$BUILD/Release/libnetloom_cuda.so

step "fallback test"
limit 15 "$BUILD/test_cuda_fallback" > "$BUILD/fallback.log" 2>&1 || true
grep -v '^PASS' "$BUILD/fallback.log" || true
step "parity (CPU vs CUDA): every row of test/native-cuda/op-cases.h, the own cases, the training curves"
PARITY=0
limit 90 "$BUILD/parity" > "$BUILD/parity.log" 2>&1 || PARITY=$?
# The failures and the summaries here; every row's line (error, tolerance) is in parity.log.
grep -v '^PASS' "$BUILD/parity.log" || true

RESULTS=$BUILD/results.txt
: > "$RESULTS"
step "PyTorch eager"
limit 120 "$PYTHON" tools/gpu-check/torch_eager.py "$DATA" | tee -a "$RESULTS" || true
step "Netloom on CUDA"
for p in quickstart-b64 fashion-cnn-b256 quickstart-b256 fashion-cnn-b64; do
  limit 20 "$BUILD/bench_cuda" "tools/gpu-check/programs/$p.bin" "$DATA" | tee -a "$RESULTS" || true
done

step "side by side (one FashionMNIST epoch, seconds, test pass included for the quickstart; ratio = Netloom / PyTorch)"
awk '$1 == "RESULT" { t[$2 " " $3] = $4; l[$2 " " $3] = $5; a[$2 " " $3] = $6; ta[$2 " " $3] = $7 }
  END {
    printf "%-18s %-22s %9s %9s %9s %9s\n", "config", "runner", "seconds", "loss", "accuracy", "test acc"
    for (k in t) { split(k, p, " "); printf "%-18s %-22s %9.3f %9.4f %9.4f %9s\n", p[2], p[1], t[k], l[k], a[k], ta[k] }
    printf "\n"
    n = "netloom-cuda quickstart-b64"
    if ((n in t) && ("torch-tutorial quickstart-b64" in t)) printf "quickstart-b64   Netloom / PyTorch (tutorial, torchvision):  %.2f (goal <= 0.20)\n", t[n] / t["torch-tutorial quickstart-b64"]
    if ((n in t) && ("torch-dataloader quickstart-b64" in t)) printf "quickstart-b64   Netloom / PyTorch (DataLoader, TensorDataset): %.2f (goal <= 0.20 where torchvision is missing)\n", t[n] / t["torch-dataloader quickstart-b64"]
    if ((n in t) && ("torch-gpu quickstart-b64" in t)) printf "quickstart-b64   Netloom / PyTorch (tensors on the GPU):  %.2f (goal <= 0.50)\n", t[n] / t["torch-gpu quickstart-b64"]
    n = "netloom-cuda fashion-cnn-b256"
    if ((n in t) && ("torch-gpu fashion-cnn-b256" in t)) printf "fashion-cnn-b256 Netloom / PyTorch (tensors on the GPU):  %.2f (goal <= 1.00)\n", t[n] / t["torch-gpu fashion-cnn-b256"]
  }' "$RESULTS"
printf '\ntotal %ss; parity %s\n' "$SECONDS" "$([ "$PARITY" = 0 ] && echo passed || echo "FAILED (status $PARITY)")"
if [ -n "${OUT:-}" ] && [ -d "$OUT" ]; then cp "$BUILD/parity.log" "$BUILD/fallback.log" "$RESULTS" "$OUT/" 2>/dev/null || true; fi
exit "$PARITY"
