// The CUDA kernel table (kernel-table.h), one entry per opcode in ops.def order: the same X-macro
// as the CPU's table (core/cpu-backend.cpp), so the two cannot disagree on an opcode.
#include "kernel-table.h"
#include <string>

namespace nl {

namespace {
typedef Status (*CudaKernel)(const CudaContext & cx, const Instr & in, const StepState & s);
typedef size_t (*CudaWorkspace)(const Instr & in, int max_batch);

template <class O> Status cuda_kernel(const CudaContext & cx, const Instr & in, const StepState & s) {
    return cuda_run<O>(CudaArgs<O>(in, cx, s));
}
template <class O> size_t cuda_scratch(const Instr & in, int max_batch) {
    return cuda_workspace<O>(OperandsOf<O>{in}, max_batch);
}

const CudaKernel CUDA_KERNELS[] = {
#define NL_OP(e, name, operands, ints, floats) &cuda_kernel<op::e>,
#include "ops.def"
#undef NL_OP
};
const CudaWorkspace CUDA_WORKSPACE[] = {
#define NL_OP(e, name, operands, ints, floats) &cuda_scratch<op::e>,
#include "ops.def"
#undef NL_OP
};
static_assert(sizeof(CUDA_KERNELS) / sizeof(CUDA_KERNELS[0]) == (size_t)Op::COUNT, "the CUDA kernel table misses an op");
static_assert(sizeof(CUDA_WORKSPACE) / sizeof(CUDA_WORKSPACE[0]) == (size_t)Op::COUNT, "the CUDA workspace table misses an op");
} // namespace

Status cuda_kernel_run(const CudaContext & cx, const Instr & in, const StepState & s) {
    return CUDA_KERNELS[(int)in.op](cx, in, s);
}

size_t cuda_kernel_workspace(const Instr & in, int max_batch) {
    return CUDA_WORKSPACE[(int)in.op](in, max_batch);
}

Status cuda_kernel_check_step(const CudaContext & cx, const Instr & in, const StepState & s, unsigned * bits) {
    switch (in.op) {
        case Op::SGD_STEP: return cuda_check_step(CudaArgs<op::SGD_STEP>(in, cx, s), bits);
        case Op::ADAM_STEP: return cuda_check_step(CudaArgs<op::ADAM_STEP>(in, cx, s), bits);
        case Op::RMSPROP_STEP: return cuda_check_step(CudaArgs<op::RMSPROP_STEP>(in, cx, s), bits);
        case Op::ADAGRAD_STEP: return cuda_check_step(CudaArgs<op::ADAGRAD_STEP>(in, cx, s), bits);
        default:
            return Status::error(NL_STATUS_INVALID_ARGUMENT, std::string(op_info(in.op).name) + " is not an optimizer step to check");
    }
}

} // namespace nl
