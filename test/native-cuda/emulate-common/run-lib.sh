# Sourced (not run) by test/native-cuda/emulate/run.sh and emulate-ops/run.sh: the build steps the two
# CUDA emulation checks share. The caller sets `here` (its own directory) and `out` (the build dir)
# before sourcing; this sets common, root, py, cxx, inc and objs (and emu_* scratch names) and defines
# the steps below. Plain sh, no bash.
common=$(cd "$(dirname "$here")/emulate-common" && pwd)
root=$(cd "$here/../../.." && pwd)
mkdir -p "$out/src/kernels"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
# -I$common first: the shim's cuda_runtime.h stands in for the toolkit's.
inc="-I$common -I$out/src -I$root/native/core -I$root/native/cuda"
cxx="${CXX:-g++} -std=c++17 -O1 -pthread -Wall -Wno-unused-function -Wno-unknown-pragmas"
objs=""

# emu_rewrite IN.cu OUT: the CUDA source with its <<<...>>> launches turned into nl_emu::launch calls.
emu_rewrite() {
    $py "$common/rewrite-launches.py" "$1" "$2"
}

# emu_cuda NAME [CXXFLAGS...]: rewrites native/cuda/ops/NAME.cu and compiles it against the shim.
emu_cuda() {
    emu_name=$1
    shift
    emu_rewrite "$root/native/cuda/ops/$emu_name.cu" "$out/src/$emu_name.cpp"
    $cxx $inc "$@" -c "$out/src/$emu_name.cpp" -o "$out/$emu_name.o"
    objs="$objs $out/$emu_name.o"
}

# emu_cpu PATH: compiles native/core/PATH.cpp (the CPU reference) into cpu-BASENAME.o, unless that
# object is newer than the source and than every native/core header (a rerun then skips ~20 compiles).
emu_cpu() {
    emu_src="$root/native/core/$1.cpp"
    emu_obj="$out/cpu-$(basename "$1").o"
    if [ ! "$emu_obj" -nt "$emu_src" ] || [ -n "$(find "$root/native/core" -name '*.h' -newer "$emu_obj" | head -n 1)" ]; then
        $cxx -I"$root/native/core" -c "$emu_src" -o "$emu_obj"
    fi
    objs="$objs $emu_obj"
}

# emu_link_run NAME: compiles $here/NAME.cpp, links it with everything built so far and runs it.
emu_link_run() {
    $cxx $inc -c "$here/$1.cpp" -o "$out/$1.o"
    $cxx "$out/$1.o" $objs -o "$out/$1"
    "$out/$1"
}
