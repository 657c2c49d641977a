#!/bin/sh
# Builds and runs gemm-emulation.cpp: the CUDA GEMM-shaped ops (native/cuda/ops/linear.cu, conv.cu,
# kernels/gemm.cuh) emulated on the CPU against the CPU kernels. No GPU or CUDA toolkit needed (g++ and
# Python 3). A small im2col budget makes the convolutions walk the batch in chunks. The shim, the launch
# rewriter and the build steps are shared with emulate-ops/ (../emulate-common/).
# Usage: test/native-cuda/emulate/run.sh [build dir]   (from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${TMPDIR:-/tmp}/netloom-gemm-emulation}
. "$here/../emulate-common/run-lib.sh"
emu_rewrite "$root/native/cuda/kernels/gemm.cuh" "$out/src/kernels/gemm.cuh"
for f in conv linear; do
    emu_cuda $f -DNL_CUDA_CONV_COL_BUDGET=2000
done
for f in kernels/conv2d kernels/conv-transpose2d kernels/linear kernels/bias kernels/gemm kernels/gemm-portable \
         kernels/gemm-avx2 kernels/gemm-avx512 threadpool; do
    emu_cpu $f
done
emu_link_run gemm-emulation
