#!/bin/sh
# Builds and runs ops-emulation.cpp: the non-GEMM CUDA ops (native/cuda/ops/{activation,loss,pool,norm,
# dropout,structure,optim}.cu) emulated on the CPU against the CPU kernels. No GPU or CUDA toolkit
# needed (g++ and Python 3). The shim, the launch rewriter and the build steps are shared with the GEMM
# emulation (../emulate-common/).
# Usage: test/native-cuda/emulate-ops/run.sh [build dir]   (from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-${TMPDIR:-/tmp}/netloom-ops-emulation}
. "$here/../emulate-common/run-lib.sh"
for f in activation loss pool norm dropout structure optim; do
    emu_cuda $f
done
for f in activation relu softmax cross-entropy nll-loss point-loss pool2d adaptive-pool2d batch-norm layer-norm dropout \
         structure sgd adam rmsprop adagrad grad-clip gemm gemm-portable gemm-avx2 gemm-avx512; do
    emu_cpu kernels/$f
done
for f in threadpool status; do
    emu_cpu $f
done
emu_link_run ops-emulation
