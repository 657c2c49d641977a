#!/bin/sh
# Builds and runs ops-emulation.cpp: the non-GEMM CUDA ops (native/cuda/ops/{activation,loss,pool,norm,
# dropout,structure,optim}.cu) emulated on the CPU against the CPU kernels. No GPU or CUDA toolkit
# needed (g++ and Python 3). rewrite-launches.py is a copy of the GEMM emulation's
# (test/native-cuda/emulate/), kept here so this check builds on its own.
# Usage: test/native-cuda/emulate-ops/run.sh [build dir]   (from anywhere)
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-${TMPDIR:-/tmp}/netloom-ops-emulation}
mkdir -p "$out/src"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
rewrite="$here/rewrite-launches.py"
inc="-I$here -I$out/src -I$root/native/core -I$root/native/cuda"
cxx="${CXX:-g++} -std=c++17 -O1 -pthread -Wall -Wno-unused-function -Wno-unknown-pragmas"
objs=""
for f in activation loss pool norm dropout structure optim; do
    $py "$rewrite" "$root/native/cuda/ops/$f.cu" "$out/src/$f.cpp"
    $cxx $inc -c "$out/src/$f.cpp" -o "$out/$f.o"
    objs="$objs $out/$f.o"
done
for f in activation relu softmax cross-entropy nll-loss point-loss pool2d adaptive-pool2d batch-norm layer-norm dropout \
         structure sgd adam rmsprop adagrad grad-clip gemm gemm-portable gemm-avx2 gemm-avx512; do
    o="$out/cpu-$f.o"
    [ "$o" -nt "$root/native/core/kernels/$f.cpp" ] || $cxx -I"$root/native/core" -c "$root/native/core/kernels/$f.cpp" -o "$o"
    objs="$objs $o"
done
for f in threadpool status; do
    o="$out/cpu-$f.o"
    [ "$o" -nt "$root/native/core/$f.cpp" ] || $cxx -I"$root/native/core" -c "$root/native/core/$f.cpp" -o "$o"
    objs="$objs $o"
done
$cxx $inc -c "$here/ops-emulation.cpp" -o "$out/ops-emulation.o"
$cxx "$out/ops-emulation.o" $objs -o "$out/ops-emulation"
"$out/ops-emulation"
