// Netloom native core: the public surface, for the Node binding and for plain C++ programs.
//
// =================================================================================================
//  What is here
// =================================================================================================
//   status.h      nl_status codes (NL_OK, NL_INVALID_PROGRAM, ...) shared with the engine and API
//   program.h     the Program wire format and its validating decoder
//   runtime.h     Session: a Program's memory, its data, its threads; whole epochs natively
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
//   - Kernels trust their operands; program_decode() is where operands are checked, once.
#pragma once
#include "status.h"
#include "program.h"
#include "runtime.h"
#include "kernels.h"
#include "gemm.h"
#include "threadpool.h"
#include "memory.h"

namespace nl {
// Short description of the CPU for `netloom devices`: model name from /proc/cpuinfo (or "unknown").
std::string cpu_model_name();
}
