// CudaBackend (cuda-backend-impl.h): memory, datasets, the kernel table, the gradient and step
// checks. The device-resident epoch loop is in device-loop.cu, the C entry points in entry.cu.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include "cuda-backend-impl.h"
#include "kernel-table.h"
#include "kernels.h"
#include "memory.h"

namespace nl {

namespace {

// Errors after which the context is unusable: every later call fails the same way.
bool is_sticky(cudaError_t e) {
    switch (e) {
        case cudaErrorIllegalAddress:
        case cudaErrorLaunchFailure:
        case cudaErrorIllegalInstruction:
        case cudaErrorMisalignedAddress:
        case cudaErrorInvalidAddressSpace:
        case cudaErrorInvalidPc:
        case cudaErrorHardwareStackError:
        case cudaErrorAssert:
        case cudaErrorLaunchTimeout:
        case cudaErrorECCUncorrectable:
        case cudaErrorUnknown: return true;
        default: return false;
    }
}

std::string cuda_text(cudaError_t e) {
    return std::string(cudaGetErrorString(e)) + " (" + cudaGetErrorName(e) + ")";
}

// uint8 rows scaled as the CPU does ((float)v / 255.f, gather.cpp), float rows as they are; labels
// widened to int32. index: the plain path's uploaded indices, or (loop non-null) the epoch's order
// at the loop's current batch.
__global__ void gather_kernel(const uint8_t * images, const float * features, const uint8_t * labels, const float * targets,
                              int64_t sample_size, int64_t target_size, const int32_t * index, const LoopState * loop, int n,
                              float * input, int32_t * labels_out, float * targets_out) {
    const int32_t * idx = loop ? loop->order + loop->batch * loop->batch_size : index;
    const int64_t total = (int64_t)n * sample_size;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / sample_size, col = i - row * sample_size;
        const int64_t src = (int64_t)idx[row] * sample_size + col;
        input[i] = images ? (float)images[src] / 255.f : features[src];
    }
    const int64_t tt = targets_out ? (int64_t)n * target_size : 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < tt; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t row = i / target_size, col = i - row * target_size;
        targets_out[i] = targets[(int64_t)idx[row] * target_size + col];
    }
    if (labels_out && labels)
        for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) labels_out[i] = labels[idx[i]];
}

// Non-finite check of every watched gradient: blockIdx.y picks the gradient; bit 1 of *flags when
// any value is NaN or infinite, bit 2 when one is NaN (the same |x| bit test as the CPU's max_abs_bits).
__global__ void grad_flags_kernel(const GradSpan * grads, uint32_t * flags) {
    const GradSpan g = grads[blockIdx.y];
    uint32_t f = 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < g.count; i += (int64_t)gridDim.x * blockDim.x) {
        const uint32_t u = __float_as_uint(g.data[i]) & 0x7fffffffu;
        if (u > 0x7f7fffffu) f |= u > 0x7f800000u ? 3u : 1u;
    }
    for (int o = 16; o; o >>= 1) f |= __shfl_xor_sync(0xffffffffu, f, o);   // every thread of the warp gets here
    if (f && (threadIdx.x & 31) == 0) atomicOr(flags, f);
}

} // namespace

Status cuda_launched(const char * what) {
    const cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) return {};
    return Status::error(e == cudaErrorMemoryAllocation ? NL_STATUS_OUT_OF_MEMORY : NL_STATUS_INTERNAL,
                         std::string("the CUDA kernel of ") + what + " failed to launch: " + cuda_text(e));
}

CudaBackend::~CudaBackend() {
    // Nothing may fail here: errors are ignored (a broken context frees nothing anyway).
    cudaSetDevice(device_);
    if (cx_.stream) cudaStreamSynchronize(cx_.stream);
    drop_graphs();
    for (Data & d : data_) free_data(d);
    for (void * p : {(void *)cx_.arena, cx_.workspace, (void *)cx_.dstep, (void *)index_, (void *)flags_, (void *)grads_, (void *)loop_,
                     (void *)order_, (void *)lr_, (void *)momentum_, (void *)losses_, (void *)correct_})
        if (p) cudaFree(p);
    if (cx_.stream) cudaStreamDestroy(cx_.stream);
}

Status CudaBackend::enter() {
    if (!broken_.ok()) return broken_;
    return ck(cudaSetDevice(device_), "selecting the device");
}

Status CudaBackend::ck(cudaError_t e, const std::string & doing) {
    if (e == cudaSuccess) return {};
    cudaGetLastError();   // a non-sticky error is cleared; a sticky one stays whatever we do
    if (is_sticky(e)) {
        broken_ = Status::error(NL_STATUS_INTERNAL, "the GPU (cuda:" + std::to_string(device_) + ") failed " + doing + ": " + cuda_text(e) +
                                                        "; the CUDA backend cannot continue: start the run again (or train on the CPU)");
        return broken_;
    }
    return Status::error(e == cudaErrorMemoryAllocation ? NL_STATUS_OUT_OF_MEMORY : NL_STATUS_INTERNAL,
                         "CUDA failed " + doing + " (cuda:" + std::to_string(device_) + "): " + cuda_text(e));
}

Status CudaBackend::init() {
    Status st = enter();
    if (!st.ok()) return st;
    if (!(st = ck(cudaStreamCreateWithFlags(&cx_.stream, cudaStreamNonBlocking), "creating a stream")).ok()) return st;
    cudaDeviceProp prop;
    if (!(st = ck(cudaGetDeviceProperties(&prop, device_), "reading the device's properties")).ok()) return st;
    cx_.sm_count = prop.multiProcessorCount;
    cx_.cc_major = prop.major;
    cx_.cc_minor = prop.minor;
    if (!(st = device_alloc((void **)&cx_.dstep, sizeof(DeviceStep), "the step's state", "")).ok()) return st;
    if (!(st = device_alloc((void **)&flags_, 4 * sizeof(uint32_t), "the check flags", "")).ok()) return st;
    if (!(st = device_alloc((void **)&loop_, sizeof(LoopState), "the device loop's state", "")).ok()) return st;
    return ck(cudaMemset(cx_.dstep, 0, sizeof(DeviceStep)), "clearing the step's state");
}

// cudaMalloc, its failure NL_STATUS_OUT_OF_MEMORY naming what, its size and the device's free memory.
Status CudaBackend::device_alloc(void ** p, size_t bytes, const std::string & what, const std::string & fix) {
    *p = nullptr;
    const cudaError_t e = cudaMalloc(p, std::max<size_t>(bytes, 16));
    if (e == cudaSuccess) return {};
    cudaGetLastError();
    *p = nullptr;
    if (e != cudaErrorMemoryAllocation) return ck(e, "allocating " + format_bytes(bytes) + " for " + what);
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    cudaGetLastError();
    return Status::error(NL_STATUS_OUT_OF_MEMORY, "could not allocate " + format_bytes(bytes) + " on cuda:" + std::to_string(device_) + " for " +
                                                      what + ": " + format_bytes(free_b) + " of " + format_bytes(total_b) + " is free" +
                                                      (fix.empty() ? "" : ": " + fix));
}

Status CudaBackend::alloc_buffers(const Program & p) {
    Status st = enter();
    if (!st.ok()) return st;
    drop_graphs();
    prog_ = &p;
    cx_.prog = &p;
    if (cx_.arena) cudaFree(cx_.arena);
    if (cx_.workspace) cudaFree(cx_.workspace);
    if (index_) cudaFree(index_);
    cx_.arena = nullptr;
    cx_.workspace = nullptr;
    index_ = nullptr;
    arena_bytes_ = (size_t)std::max<int64_t>(p.arena_words, 16) * 4;
    const std::string what = "the model's buffers (parameters, gradients, optimizer state and activations at batch size " +
                             std::to_string(p.max_batch) + ")";
    if (!(st = device_alloc((void **)&cx_.arena, arena_bytes_, what, "lower the batch size or use a smaller model")).ok()) return st;
    if (!(st = ck(cudaMemset(cx_.arena, 0, arena_bytes_), "clearing the model's buffers")).ok()) return st;
    // One workspace for every kernel (one runs at a time on the stream): the largest any asks for.
    size_t ws = 0;
    for (const std::vector<Instr> * section : {&p.forward, &p.backward, &p.step})
        for (const Instr & in : *section) ws = std::max(ws, cuda_kernel_workspace(in, p.max_batch));
    cx_.workspace_bytes = ws;
    if (ws && !(st = device_alloc(&cx_.workspace, ws, "the kernels' scratch memory", "lower the batch size")).ok()) return st;
    step_valid_ = false;
    return device_alloc((void **)&index_, (size_t)p.max_batch * sizeof(int32_t), "the batch's sample indices", "");
}

Status CudaBackend::set_buffer(int32_t id, const void * src, size_t bytes) {
    Status st = enter();
    if (!st.ok()) return st;
    // Pageable memory: the copy has left the caller's memory when the call returns.
    st = ck(cudaMemcpyAsync(f32(id), src, bytes, cudaMemcpyHostToDevice, cx_.stream), "copying buffer " + std::to_string(id) + " to the device");
    if (!st.ok()) return st;
    return ck(cudaStreamSynchronize(cx_.stream), "copying buffer " + std::to_string(id) + " to the device");
}

Status CudaBackend::get_buffer(int32_t id, void * dst, size_t bytes) {
    Status st = enter();
    if (!st.ok()) return st;
    st = ck(cudaMemcpyAsync(dst, f32(id), bytes, cudaMemcpyDeviceToHost, cx_.stream), "reading buffer " + std::to_string(id));
    if (!st.ok()) return st;
    return ck(cudaStreamSynchronize(cx_.stream), "reading buffer " + std::to_string(id));
}

void CudaBackend::free_data(Data & d) {
    for (void * p : {(void *)d.images, (void *)d.features, (void *)d.labels, (void *)d.targets})
        if (p) cudaFree(p);
    d = Data{};
}

// Always a copy (`borrow` is for devices that read host memory): uploaded once, read by every
// epoch's gathers. uint8 images stay uint8 (FashionMNIST's training split is 47 MB so).
Status CudaBackend::set_dataset(Split split, const DatasetView & v, bool /*borrow*/) {
    Status st = enter();
    if (!st.ok()) return st;
    Data & d = data_[split == SPLIT_TEST];
    if (!(st = synchronize()).ok()) return st;
    drop_graphs();   // they read the replaced split's addresses
    free_data(d);    // before its successor is allocated
    const std::string name = std::string("the ") + (split == SPLIT_TEST ? "test" : "training") + " split on the GPU (" +
                             std::to_string(v.count) + " samples)";
    const size_t rows = (size_t)v.count * (size_t)v.sample_size;
    const size_t tsize = v.targets ? (size_t)v.count * (size_t)v.target_size : 0;
    auto upload = [&](void ** p, const void * src, size_t bytes) -> Status {
        Status s = device_alloc(p, bytes, name, "train on fewer samples");
        if (!s.ok() || !src || !bytes) return s;
        return ck(cudaMemcpy(*p, src, bytes, cudaMemcpyHostToDevice), "copying " + name);
    };
    if (v.is_float) st = upload((void **)&d.features, v.features, rows * sizeof(float));
    else st = upload((void **)&d.images, v.images, rows);
    if (st.ok() && v.labels) st = upload((void **)&d.labels, v.labels, (size_t)v.count);
    if (st.ok() && tsize) st = upload((void **)&d.targets, v.targets, tsize * sizeof(float));
    if (!st.ok()) {
        free_data(d);
        return st;
    }
    d.count = v.count;
    d.sample_size = v.sample_size;
    d.target_size = v.targets ? v.target_size : 0;
    return {};
}

Status CudaBackend::launch_gather(const Data & d, const int32_t * index, const LoopState * loop, int n) {
    const int64_t total = std::max<int64_t>((int64_t)n * std::max(d.sample_size, d.target_size), 1);
    const int blocks = (int)std::min<int64_t>((total + 255) / 256, (int64_t)std::max(cx_.sm_count, 1) * 8);
    int32_t * labels_out = prog_->labels >= 0 ? reinterpret_cast<int32_t *>(f32(prog_->labels)) : nullptr;
    float * targets_out = prog_->targets >= 0 && d.targets ? f32(prog_->targets) : nullptr;
    gather_kernel<<<blocks, 256, 0, cx_.stream>>>(d.images, d.features, d.labels, d.targets, d.sample_size, d.target_size, index, loop, n,
                                                  f32(prog_->input), labels_out, targets_out);
    return cuda_launched("the batch gather");
}

Status CudaBackend::gather_batch(Split split, const int32_t * index, int n) {
    Status st = enter();
    if (!st.ok()) return st;
    st = ck(cudaMemcpyAsync(index_, index, (size_t)n * sizeof(int32_t), cudaMemcpyHostToDevice, cx_.stream), "copying the batch's indices");
    if (!st.ok()) return st;
    return launch_gather(data_[split == SPLIT_TEST], index_, nullptr, n);
}

// The kernels read lr, momentum, the step counter and the seed from dstep; the plain path writes
// it from the host's StepState whenever those change (a copy from pageable memory leaves the
// caller's memory before it returns), with halted cleared.
Status CudaBackend::upload_step(const StepState & s) {
    if (step_valid_ && s.lr == uploaded_.lr && s.momentum == uploaded_.momentum && s.step == uploaded_.step && s.seed == uploaded_.seed)
        return {};
    DeviceStep h{};
    h.lr = s.lr;
    h.momentum = s.momentum;
    h.step = s.step;
    h.seed = s.seed;
    Status st = ck(cudaMemcpyAsync(cx_.dstep, &h, sizeof h, cudaMemcpyHostToDevice, cx_.stream), "copying the step's state");
    if (!st.ok()) return st;
    uploaded_ = s;
    step_valid_ = true;
    return {};
}

Status CudaBackend::run(const Instr & in, const StepState & s) {
    Status st = enter();
    if (!st.ok()) return st;
    if (!(st = upload_step(s)).ok()) return st;
    st = cuda_kernel_run(cx_, in, s);
    if (st.ok()) return st;
    // A launch error may hide a sticky one; it shows at the next synchronisation.
    Status sync = ck(cudaStreamSynchronize(cx_.stream), std::string("running ") + op_info(in.op).name);
    return sync.ok() ? st : sync;
}

Status CudaBackend::watch_gradients(const std::vector<int32_t> & ids) {
    Status st = enter();
    if (!st.ok()) return st;
    grad_list_.clear();
    grad_max_count_ = 0;
    for (int32_t g : ids) {
        const int64_t count = prog_->buffers[g].words(prog_->max_batch);
        grad_list_.push_back(GradSpan{f32(g), count});
        grad_max_count_ = std::max(grad_max_count_, count);
    }
    if (grads_) cudaFree(grads_);
    grads_ = nullptr;
    drop_graphs();
    if (!(st = device_alloc((void **)&grads_, grad_list_.size() * sizeof(GradSpan) + 16, "the gradient list", "")).ok()) return st;
    if (grad_list_.empty()) return {};
    return ck(cudaMemcpy(grads_, grad_list_.data(), grad_list_.size() * sizeof(GradSpan), cudaMemcpyHostToDevice), "copying the gradient list");
}

Status CudaBackend::grad_flags(uint32_t * flags) {
    if (grad_list_.empty()) return {};
    const int blocks = (int)std::min<int64_t>((grad_max_count_ + 255) / 256, (int64_t)std::max(cx_.sm_count, 1) * 4);
    grad_flags_kernel<<<dim3((unsigned)std::max(blocks, 1), (unsigned)grad_list_.size()), 256, 0, cx_.stream>>>(grads_, flags);
    return cuda_launched("the gradient check");
}

Status CudaBackend::read_grad_flags(uint32_t & flags) {
    flags = 0;
    Status st = enter();
    if (st.ok()) st = ck(cudaMemsetAsync(flags_, 0, sizeof(uint32_t), cx_.stream), "clearing the gradient check");
    if (st.ok()) st = grad_flags(flags_);
    if (st.ok()) st = ck(cudaMemcpyAsync(&flags, flags_, sizeof(uint32_t), cudaMemcpyDeviceToHost, cx_.stream), "reading the gradient check");
    if (st.ok()) st = ck(cudaStreamSynchronize(cx_.stream), "checking the gradients");
    return st;
}

// Backend's bool interface has no Status: a failed check counts as not finite, and the broken
// backend then reports the error from its next call (the Session's step check or synchronize).
bool CudaBackend::gradients_finite() {
    uint32_t flags = 0;
    return read_grad_flags(flags).ok() && (flags & 1u) == 0;
}

bool CudaBackend::gradients_have_nan() {
    uint32_t flags = 0;
    return read_grad_flags(flags).ok() && (flags & 2u) != 0;
}

// Always the exact check (the step kernel in check mode, reduced on the device): use_bounds is a
// permission, and the CPU's bound saves host work that the GPU does not need to save.
Status CudaBackend::check_step(const Instr & in, const StepState & s, bool /*use_bounds*/, unsigned & nonfinite) {
    nonfinite = 0;
    Status st = enter();
    if (!st.ok()) return st;
    if (!(st = upload_step(s)).ok()) return st;
    if (!(st = ck(cudaMemsetAsync(flags_ + 1, 0, sizeof(uint32_t), cx_.stream), "clearing the step check")).ok()) return st;
    if (!(st = cuda_kernel_check_step(cx_, in, s, flags_ + 1)).ok()) return st;
    uint32_t bits = 0;
    st = ck(cudaMemcpyAsync(&bits, flags_ + 1, sizeof bits, cudaMemcpyDeviceToHost, cx_.stream), "reading the step check");
    if (st.ok()) st = ck(cudaStreamSynchronize(cx_.stream), std::string("checking ") + op_info(in.op).name);
    if (!st.ok()) return st;
    exact_checks_++;
    nonfinite = bits;
    return {};
}

Status CudaBackend::synchronize() {
    Status st = enter();
    if (!st.ok()) return st;
    return ck(cudaStreamSynchronize(cx_.stream), "finishing the queued work");
}

} // namespace nl
