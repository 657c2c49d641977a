#!/bin/sh
# Builds and runs gemm-emulation.cpp: the CUDA GEMM-shaped ops (native/cuda/ops/linear.cu, conv.cu,
# kernels/gemm.cuh) emulated on the CPU against the CPU kernels. No GPU or CUDA toolkit needed (g++ and
# Python 3). A small im2col budget makes the convolutions walk the batch in chunks.
# Usage: test/native-cuda/emulate/run.sh [build dir]   (from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-${TMPDIR:-/tmp}/netloom-gemm-emulation}
mkdir -p "$out/src/kernels"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
$py "$here/rewrite-launches.py" "$root/native/cuda/kernels/gemm.cuh" "$out/src/kernels/gemm.cuh"
$py "$here/rewrite-launches.py" "$root/native/cuda/ops/conv.cu" "$out/src/conv.cpp"
$py "$here/rewrite-launches.py" "$root/native/cuda/ops/linear.cu" "$out/src/linear.cpp"
inc="-I$here -I$out/src -I$root/native/core -I$root/native/cuda"
cxx="${CXX:-g++} -std=c++17 -O1 -pthread -Wall -Wno-unused-function -Wno-unknown-pragmas"
objs=""
for f in conv linear; do
    $cxx $inc -DNL_CUDA_CONV_COL_BUDGET=2000 -c "$out/src/$f.cpp" -o "$out/$f.o"
    objs="$objs $out/$f.o"
done
for f in kernels/conv2d kernels/conv-transpose2d kernels/linear kernels/bias kernels/gemm kernels/gemm-portable \
         kernels/gemm-avx2 kernels/gemm-avx512 threadpool; do
    o="$out/cpu-$(basename $f).o"
    $cxx -I"$root/native/core" -c "$root/native/core/$f.cpp" -o "$o"
    objs="$objs $o"
done
$cxx $inc -c "$here/gemm-emulation.cpp" -o "$out/gemm-emulation.o"
$cxx "$out/gemm-emulation.o" $objs -o "$out/gemm-emulation"
"$out/gemm-emulation"
