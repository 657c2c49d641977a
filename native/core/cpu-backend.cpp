// The CPU backend (cpu-backend.h): host memory, the thread pool, and the CPU kernel table.
#include "cpu-backend.h"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include "kernels.h"

namespace nl {

namespace {
typedef Status (*CpuKernel)(CpuBackend & be, const Instr & in, const StepState & s);
template <class O> Status cpu_kernel(CpuBackend & be, const Instr & in, const StepState & s) {
    return cpu_run<O>(CpuArgs<O>{{in}, be, s});
}
// The kernel table: one entry per opcode, in ops.def order.
const CpuKernel CPU_KERNELS[] = {
#define NL_OP(e, name, operands, ints, floats) &cpu_kernel<op::e>,
#include "ops.def"
#undef NL_OP
};
static_assert(sizeof(CPU_KERNELS) / sizeof(CPU_KERNELS[0]) == (size_t)Op::COUNT, "the CPU kernel table misses an op");

// "the session's copy of the training split (60000 samples of 784 bytes)"
std::string dataset_copy_name(Split split, int64_t count, int64_t per_sample, const char * unit) {
    return std::string("the session's copy of the ") + (split == SPLIT_TEST ? "test" : "training") + " split (" + std::to_string(count) +
           " samples of " + std::to_string(per_sample) + " " + unit + ")";
}
} // namespace

Status cpu_backend_create(int threads, std::unique_ptr<Backend> & out) {
    return guarded("starting the CPU backend", [&]() -> Status {
        out.reset(new CpuBackend(threads));   // starts fewer threads if it cannot start them all
        return {};
    });
}

Status CpuBackend::alloc_buffers(const Program & p) {
    prog_ = &p;
    const size_t bytes = (size_t)std::max<int64_t>(p.arena_words, 16) * 4;
    const std::string what = "the model's buffers (parameters, gradients, optimizer state and activations at batch size " +
                             std::to_string(p.max_batch) + ")";
    Status st = check_room(bytes, what, "lower the batch size or use a smaller model");
    if (!st.ok()) return st;
    st = Allocation::make(bytes, what, arena_mem_);
    if (!st.ok()) return st;
    arena_ = static_cast<float *>(arena_mem_.data());
    return {};
}

Status CpuBackend::set_buffer(int32_t id, const void * src, size_t bytes) {
    std::memcpy(f32(id), src, bytes);
    return {};
}

Status CpuBackend::get_buffer(int32_t id, void * dst, size_t bytes) {
    std::memcpy(dst, f32(id), bytes);
    return {};
}

Status CpuBackend::set_dataset(Split split, const DatasetView & v, bool borrow) {
    Data & d = data_[split];
    d = Data{};   // a replaced split is freed before its successor is allocated
    d.sample_size = v.sample_size;
    d.target_size = v.target_size;
    if (!borrow) return copy_dataset(split, v);
    static const uint8_t no_images = 0;   // an empty split still counts as loaded
    static const float no_features = 0.f;
    if (v.is_float) d.features = borrowed(v.features ? v.features : &no_features);
    else d.images = borrowed(v.images ? v.images : &no_images);
    d.labels = borrowed(v.labels);   // may be null: read only when the program reads labels, which requires them
    if (v.targets) d.targets = borrowed(v.targets);
    return {};
}

Status CpuBackend::copy_dataset(Split split, const DatasetView & v) {
    Data & d = data_[split];
    const int64_t count = v.count, width = v.sample_size, tsize = v.targets ? v.target_size : 0;
    const std::string what = v.is_float ? dataset_copy_name(split, count, width + tsize, "float values")
                                        : dataset_copy_name(split, count, width, "bytes");
    const uint64_t bytes = v.is_float ? (uint64_t)count * (uint64_t)(4 * (width + tsize) + 1) : (uint64_t)count * (uint64_t)(width + 1);
    Status st = check_room(bytes, what, "train on fewer samples");
    if (!st.ok()) return st;
    if (v.is_float) d.features.reset(new (std::nothrow) float[(size_t)(count * width) + 1]);
    else d.images.reset(new (std::nothrow) uint8_t[(size_t)(count * width) + 1]);
    d.labels.reset(new (std::nothrow) uint8_t[(size_t)count + 1]);
    if (tsize) d.targets.reset(new (std::nothrow) float[(size_t)(count * tsize) + 1]);
    if ((v.is_float ? !d.features : !d.images) || !d.labels || (tsize && !d.targets)) {
        d = Data{};
        return Status::error(NL_STATUS_OUT_OF_MEMORY, "could not allocate " + format_bytes(bytes) + " for " + what + ": train on fewer samples");
    }
    if (v.is_float) std::memcpy(d.features.get(), v.features, (size_t)(count * width) * sizeof(float));
    else std::memcpy(d.images.get(), v.images, (size_t)(count * width));
    if (v.labels) std::memcpy(d.labels.get(), v.labels, (size_t)count);
    else std::memset(d.labels.get(), 0, (size_t)count);
    if (tsize) std::memcpy(d.targets.get(), v.targets, (size_t)(count * tsize) * sizeof(float));
    return {};
}

Status CpuBackend::gather_batch(Split split, const int32_t * index, int n) {
    const Data & d = data_[split == SPLIT_TEST];
    int32_t * labels_out = prog_->labels >= 0 ? i32(prog_->labels) : nullptr;
    if (d.images) {
        gather_batch_u8(d.images.get(), d.labels.get(), (size_t)d.sample_size, index, n, f32(prog_->input), labels_out);
    } else {
        gather_batch_f32(d.features.get(), d.labels.get(), (size_t)d.sample_size, index, n, f32(prog_->input), labels_out);
        if (prog_->targets >= 0)
            gather_batch_f32(d.targets.get(), nullptr, (size_t)d.target_size, index, n, f32(prog_->targets), nullptr);
    }
    return {};
}

Status CpuBackend::run(const Instr & in, const StepState & s) { return CPU_KERNELS[(int)in.op](*this, in, s); }

Status CpuBackend::watch_gradients(const std::vector<int32_t> & ids) {
    grads_.clear();
    grad_total_ = 0;
    for (int32_t g : ids) {
        const size_t elems = (size_t)prog_->buffers[g].words(prog_->max_batch);
        grads_.push_back(GradRange{g, grad_total_, elems});
        grad_total_ += elems;
    }
    return {};
}

bool CpuBackend::gradients_finite() {
    std::atomic<bool> bad{false};
    // One pass over all gradients as a single range, so the pool is woken once per step.
    for_chunks(grad_total_, [&](size_t at, size_t len) {
        size_t end = at + len;
        for (const GradRange & g : grads_) {
            size_t lo = std::max(at, g.start), hi = std::min(end, g.start + g.elems);
            if (lo < hi && !all_finite(f32(g.buffer) + (lo - g.start), hi - lo)) bad.store(true, std::memory_order_relaxed);
        }
    });
    return !bad.load();
}

Status CpuBackend::check_step(const Instr & in, const StepState & s, unsigned & nonfinite) {
    switch (in.op) {
        case Op::SGD_STEP: nonfinite = cpu_check_step(CpuArgs<op::SGD_STEP>{{in}, *this, s}); return {};
        case Op::ADAM_STEP: nonfinite = cpu_check_step(CpuArgs<op::ADAM_STEP>{{in}, *this, s}); return {};
        case Op::RMSPROP_STEP: nonfinite = cpu_check_step(CpuArgs<op::RMSPROP_STEP>{{in}, *this, s}); return {};
        case Op::ADAGRAD_STEP: nonfinite = cpu_check_step(CpuArgs<op::ADAGRAD_STEP>{{in}, *this, s}); return {};
        default:
            return Status::error(NL_STATUS_INVALID_ARGUMENT, std::string(op_info(in.op).name) + " is not an optimizer step to check");
    }
}

bool CpuBackend::gradients_have_nan() {
    for (const GradRange & g : grads_) {
        const float * p = f32(g.buffer);
        for (size_t i = 0; i < g.elems; i++)
            if (std::isnan(p[i])) return true;
    }
    return false;
}

} // namespace nl
