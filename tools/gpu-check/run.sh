#!/usr/bin/env bash
# The one script to run on the GPU machine (issue 16): no Node there, only cmake, ninja, nvcc and
# PyTorch with CUDA. From the repository root:
#   tools/gpu-check/run.sh
# 1. builds native/ with CUDA for this machine's GPU only (plain cmake + ninja: minutes, not the
#    release build's six architectures), 2. runs the loader's fallback test and the CPU-vs-CUDA
# parity program, 3. times PyTorch eager (torch_eager.py) and Netloom's CUDA epochs (bench_cuda on
# the fixtures of programs/) and prints them side by side. Under 8 minutes on an H100.
# Environment: PYTHON (default python3), BUILD (default build/gpu-check), JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=${BUILD:-$ROOT/build/gpu-check}
PYTHON=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc)}
step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }

# FashionMNIST's raw IDX files: the repository's assets, else the build's download (gzipped).
DATA=$BUILD/FashionMNIST
mkdir -p "$DATA"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte; do
  if [ -f "$DATA/$f" ]; then continue; fi
  if [ -f "assets/datasets/FashionMNIST/raw/$f" ]; then cp "assets/datasets/FashionMNIST/raw/$f" "$DATA/$f"
  elif [ -f "build/datasets/FashionMNIST/raw/$f.gz" ]; then gunzip -c "build/datasets/FashionMNIST/raw/$f.gz" > "$DATA/$f"
  else echo "no FashionMNIST $f in assets/datasets or build/datasets" >&2; exit 1; fi
done

step "build (cmake + ninja, CUDA for this GPU)"
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
CC_ARCH=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d '.')
# WERROR off: another machine's compilers may warn where ours do not, and this run must not stop on it.
cmake -S native -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNETLOOM_CUDA=ON -DNETLOOM_WERROR=OFF -DCMAKE_CUDA_COMPILER="$NVCC" \
  -DNETLOOM_CUDA_ARCHITECTURES="${CC_ARCH}-real" >/dev/null
cmake --build "$BUILD" -j "$JOBS" --target netloom_cuda test_cuda_fallback parity bench_cuda
export NETLOOM_CUDA_LIBRARY=$BUILD/Release/libnetloom_cuda.so

step "fallback test"
"$BUILD/test_cuda_fallback" | grep -v '^PASS' || true
step "parity (CPU vs CUDA)"
PARITY=0
"$BUILD/parity" | grep -v '^PASS' || PARITY=$?

RESULTS=$BUILD/results.txt
: > "$RESULTS"
step "PyTorch eager"
"$PYTHON" tools/gpu-check/torch_eager.py "$DATA" | tee -a "$RESULTS"
step "Netloom on CUDA"
for p in quickstart-b64 fashion-cnn-b256 quickstart-b256 fashion-cnn-b64; do
  "$BUILD/bench_cuda" "tools/gpu-check/programs/$p.bin" "$DATA" | tee -a "$RESULTS"
done

step "side by side (one FashionMNIST training epoch, seconds; ratio = Netloom / PyTorch)"
awk '$1 == "RESULT" { t[$2 " " $3] = $4; l[$2 " " $3] = $5; a[$2 " " $3] = $6 }
  END {
    printf "%-18s %-22s %9s %9s %9s\n", "config", "runner", "seconds", "loss", "accuracy"
    for (k in t) { split(k, p, " "); printf "%-18s %-22s %9.3f %9.4f %9.4f\n", p[2], p[1], t[k], l[k], a[k] }
    printf "\n"
    n = "netloom-cuda quickstart-b64"
    if ((n in t) && ("torch-dataloader quickstart-b64" in t)) printf "quickstart-b64   Netloom / PyTorch (tutorial DataLoader): %.2f\n", t[n] / t["torch-dataloader quickstart-b64"]
    if ((n in t) && ("torch-gpu quickstart-b64" in t)) printf "quickstart-b64   Netloom / PyTorch (tensors on the GPU):  %.2f\n", t[n] / t["torch-gpu quickstart-b64"]
    n = "netloom-cuda fashion-cnn-b256"
    if ((n in t) && ("torch-gpu fashion-cnn-b256" in t)) printf "fashion-cnn-b256 Netloom / PyTorch (tensors on the GPU):  %.2f\n", t[n] / t["torch-gpu fashion-cnn-b256"]
  }' "$RESULTS"
printf '\ntotal %ss; parity %s\n' "$SECONDS" "$([ "$PARITY" = 0 ] && echo passed || echo FAILED)"
exit "$PARITY"
