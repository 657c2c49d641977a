// What a CUDA kernel call sees: the seam between the CUDA backend (native/cuda/backend.cu) and the
// per-family kernel files (native/cuda/ops/<family>.cu), in the manner of the CPU's CpuArgs/cpu_run
// (native/core/cpu-backend.h). Every rule below exists so that one training step can be captured
// as a CUDA graph once and replayed for every batch of an epoch.
//
// Rules for a cuda_run<O>:
//   - it only enqueues work on a.stream(): no cudaMalloc/cudaFree, no cudaDeviceSynchronize or
//     cudaStreamSynchronize, no cudaMemcpy to or from the host, no reading device memory on the host;
//     scratch memory is a.workspace(), sized before the run by cuda_workspace<O> (below);
//   - values that change from step to step are read on the device from a.dstep() (lr, momentum,
//     step counter, seed), never baked into the launch: a captured graph replays the launch as it was.
//     Host values in a.s (n, training) are fixed per captured graph (the backend captures one graph
//     per batch size: the full batch and the epoch's last, smaller one);
//   - a kernel that writes persistent state (a parameter, an optimizer state, BatchNorm's running
//     statistics and num_batches_tracked) returns without writing when a.dstep()->halted is non-zero:
//     the device-side loop sets it at the first non-finite loss, gradient or step, so the weights
//     stay as the last good step left them, exactly as the CPU's epoch loop stops there;
//   - numerics follow the CPU kernel of the same op (native/core/kernels/): same formulas, same
//     reductions (order may differ), same RNG for dropout (counter-based on seed and step), same
//     PyTorch semantics for every attribute; the tolerance against the CPU is stated per op in
//     test/native-cuda/parity.cpp;
//   - GEMM-shaped work (linear, conv, conv-transpose) uses TF32 tensor cores when a.tf32() and exact
//     fp32 otherwise (PyTorch's allow_tf32 semantics); our own kernels, no cuBLAS/cuDNN required;
//   - shapes in comments, as in the CPU kernels; it returns cuda_launched("<op>") (the launch's error,
//     if any, as a Status naming the op).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>
#include "backend.h"
#include "op-table.h"

namespace nl {

// The per-step values, in device memory (the backend owns one and writes it between steps, or the
// device-side loop advances it). Layout shared by host and device code.
struct DeviceStep {
    float lr;           // learning-rate override for this step; < 0: the instruction's lr
    float momentum;     // momentum / beta1 override; < 0: the instruction's
    int64_t step;       // optimizer steps taken, this one included (bias correction, dropout's counter)
    uint64_t seed;      // the run's seed (dropout)
    uint32_t halted;    // non-zero: a non-finite value stopped the epoch; persistent state is not written
    uint32_t pad_;
};

// What the backend hands every kernel call (backend.cu fills it).
struct CudaContext {
    const Program * prog = nullptr;
    char * arena = nullptr;               // every buffer of the program at the planner's offsets (bytes)
    cudaStream_t stream = nullptr;
    DeviceStep * dstep = nullptr;         // device memory
    void * workspace = nullptr;           // scratch shared by all kernels (one runs at a time on the stream)
    size_t workspace_bytes = 0;
    bool tf32 = true;                     // TF32 tensor cores for GEMM-shaped work (false: exact fp32)
    int sm_count = 0;                     // streaming multiprocessors (grid sizing)
    int cc_major = 0, cc_minor = 0;       // compute capability
};

template <class O> struct CudaArgs : OperandsOf<O> {
    const CudaContext & cx;
    const StepState & s;                  // host side: n and training are fixed per captured graph
    CudaArgs(const Instr & in, const CudaContext & c, const StepState & st) : OperandsOf<O>{in}, cx(c), s(st) {}
    float * f32(typename O::Buf k) const { return ptr<float>(k); }       // null when the operand is absent
    int32_t * i32(typename O::Buf k) const { return ptr<int32_t>(k); }
    int64_t elems(typename O::Buf k) const { return cx.prog->buffers[this->id(k)].elems; }   // per sample when batched
    int n() const { return s.n; }
    bool training() const { return s.training; }
    cudaStream_t stream() const { return cx.stream; }
    bool tf32() const { return cx.tf32; }
    const DeviceStep * dstep() const { return cx.dstep; }
    void * workspace() const { return cx.workspace; }
    size_t workspace_bytes() const { return cx.workspace_bytes; }
    int sm_count() const { return cx.sm_count; }

private:
    template <class T> T * ptr(typename O::Buf k) const {
        const int32_t id = this->id(k);
        return id < 0 ? nullptr : reinterpret_cast<T *>(cx.arena + (size_t)cx.prog->buffers[id].offset * 4);
    }
};

// The status of the launches just made (cudaGetLastError): OK, or NL_STATUS_INTERNAL naming `what`
// and CUDA's message (NL_STATUS_OUT_OF_MEMORY for cudaErrorMemoryAllocation). Defined in backend.cu.
Status cuda_launched(const char * what);

// Each op's CUDA kernel call and the scratch bytes it needs at the program's max_batch (0 for most),
// defined in ops/<family>.cu: a missing one fails to link.
template <class O> Status cuda_run(const CudaArgs<O> & a);
template <class O> size_t cuda_workspace(const OperandsOf<O> & a, int max_batch);
#define NL_OP(e, name, operands, ints, floats)                     \
    template <> Status cuda_run<op::e>(const CudaArgs<op::e> & a); \
    template <> size_t cuda_workspace<op::e>(const OperandsOf<op::e> & a, int max_batch);
#include "ops.def"
#undef NL_OP

// The optimizer steps in check mode (Backend::check_step, and the device-side loop before each step):
// the same arithmetic as cuda_run, nothing written, the StepNonFinite bits (kernels.h) of what the step
// would write OR-ed into *bits (device memory). Defined in ops/optim.cu.
template <class O> Status cuda_check_step(const CudaArgs<O> & a, unsigned * bits);
template <> Status cuda_check_step<op::SGD_STEP>(const CudaArgs<op::SGD_STEP> & a, unsigned * bits);
template <> Status cuda_check_step<op::ADAM_STEP>(const CudaArgs<op::ADAM_STEP> & a, unsigned * bits);
template <> Status cuda_check_step<op::RMSPROP_STEP>(const CudaArgs<op::RMSPROP_STEP> & a, unsigned * bits);
template <> Status cuda_check_step<op::ADAGRAD_STEP>(const CudaArgs<op::ADAGRAD_STEP> & a, unsigned * bits);

} // namespace nl
