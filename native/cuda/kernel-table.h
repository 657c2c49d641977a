// The CUDA kernel table (kernel-table.cu): every op's cuda_run / cuda_workspace / cuda_check_step
// reached by opcode, generated from ops.def so that an op without its CUDA kernel is a link error.
#pragma once
#include <cstddef>
#include "cuda-args.h"

namespace nl {

// Runs instruction `in` (validated) on cx's stream: its cuda_run<O>.
Status cuda_kernel_run(const CudaContext & cx, const Instr & in, const StepState & s);
// The scratch bytes instruction `in` needs at `max_batch` rows: its cuda_workspace<O>.
size_t cuda_kernel_workspace(const Instr & in, int max_batch);
// An optimizer step's check mode (cuda_check_step<O>): OR-s its StepNonFinite bits into *bits
// (device memory). Any other opcode is NL_STATUS_INVALID_ARGUMENT.
Status cuda_kernel_check_step(const CudaContext & cx, const Instr & in, const StepState & s, unsigned * bits);

} // namespace nl
