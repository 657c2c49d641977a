// Netloom native core: the public surface, for the Node binding and for plain C++ programs.
//
// =================================================================================================
//  What is here
// =================================================================================================
//   status.h      nl_status codes (NL_OK, NL_INVALID_PROGRAM, ...) shared with the engine and API
//   program.h     the Program wire format and its validating decoder
//   ops.def       the op list (names, operand and attribute names); activation.def, reduction.def,
//                 point-loss.def: the codes of the kind/reduction attributes
//   op-table.h    per opcode: name, counts, named positions (op::<ENUM>), its check (ops/<family>.cpp)
//   backend.h     the Backend interface: buffers, datasets, copies, the kernel table, synchronisation
//   cpu-backend.h the CPU backend (the only one today); its kernels are called from ops/<family>.cpp
//   runtime.h     Session: a Program, its training state and the epoch loop, over a Backend
//   kernels.h     the CPU kernels as forward/backward pairs
//   gemm.h        SGEMM with run-time SIMD dispatch (AVX-512, AVX2+FMA, portable)
//   threadpool.h  the persistent worker pool every kernel shares
//   memory.h      checked allocation: the memory available (MemAvailable, cgroup limits), NL_OOM naming the buffer
//
// =================================================================================================
//  Rules
// =================================================================================================
//   - Nothing here includes Node headers: test/native/*.cpp link this core without Node.
//   - Nothing here aborts or throws across the API: every failure is a Status with a message that
//     names what was wrong (the instruction, the buffer, the sample) for the user. Out of memory is
//     such a failure too, never a signal: large buffers are checked against the memory available
//     before they are allocated, and no exception leaves a worker thread.
//   - Kernels trust their operands; program_decode() is where operands are checked, once (each op's
//     check sits beside its CPU kernel call in ops/<family>.cpp, reached through the op table).
//   - The Session reaches memory and kernels only through its Backend.
//
// Adding an op: a row in ops.def; its check and CPU call in ops/<family>.cpp (a missing one
// fails to link); the kernel in kernels/ (declared in kernels.h); the same row in
// engine/compile/ops.ts (test/unit/op-table.test.ts compares them); a case in test/native/.
#pragma once
#include "status.h"
#include "program.h"
#include "op-table.h"
#include "backend.h"
#include "runtime.h"
#include "kernels.h"
#include "gemm.h"
#include "threadpool.h"
#include "memory.h"

namespace nl {
// Short description of the CPU for `netloom devices`: model name from /proc/cpuinfo (or "unknown").
std::string cpu_model_name();
}
