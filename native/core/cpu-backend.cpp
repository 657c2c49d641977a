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
    stats_.assign(p.buffers.size(), Stored{});   // nothing known until a step stores it
    pending_.assign(p.buffers.size(), Stored{});
    pending_set_.assign(p.buffers.size(), 0);
    grad_of_buffer_.assign(p.buffers.size(), -1);
    grad_max_valid_ = false;
    return {};
}

Status CpuBackend::set_buffer(int32_t id, const void * src, size_t bytes) {
    std::memcpy(f32(id), src, bytes);
    stats_[id].known = false;   // a checkpoint, JS, a test: whatever it holds now is unknown to the bound
    pending_set_[id] = 0;
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

Status CpuBackend::run(const Instr & in, const StepState & s) {
    // The gradient maxima of gradients_finite() hold until a kernel that may write a gradient runs:
    // any but gradient clipping, whose norm pass writes only the norm and whose scale is in [0, 1]
    // when max_norm >= 0 (ops/optim.cpp), so |g| can only shrink.
    const bool keeps = in.op == Op::GRAD_NORM_SQ || (in.op == Op::CLIP_GRAD && in.floats[op::CLIP_GRAD::max_norm] >= 0.f);
    if (!keeps) grad_max_valid_ = false;
    return CPU_KERNELS[(int)in.op](*this, in, s);
}

Status CpuBackend::watch_gradients(const std::vector<int32_t> & ids) {
    grads_.clear();
    grad_total_ = 0;
    std::fill(grad_of_buffer_.begin(), grad_of_buffer_.end(), -1);
    for (int32_t g : ids) {
        const size_t elems = (size_t)prog_->buffers[g].words(prog_->max_batch);
        grad_of_buffer_[g] = (int32_t)grads_.size();
        grads_.push_back(GradRange{g, grad_total_, elems});
        grad_total_ += elems;
    }
    grad_max_.reset(new std::atomic<uint32_t>[grads_.size() + 1]);
    grad_max_valid_ = false;
    return {};
}

bool CpuBackend::gradients_finite() {
    // One pass over all gradients as a single range, so the pool is woken once per step. It takes
    // max |g| per gradient (finite is |g| <= FLT_MAX, so the finite check is that max's test, at
    // the same cost): the step bound's gradient input. A gradient split over two chunks is merged
    // by a compare-and-swap max, once per chunk.
    std::atomic<uint32_t> * mx = grad_max_.get();
    for (size_t k = 0; k < grads_.size(); k++) mx[k].store(0, std::memory_order_relaxed);
    for_chunks(grad_total_, [&](size_t at, size_t len) {
        size_t end = at + len;
        for (size_t k = 0; k < grads_.size(); k++) {
            const GradRange & g = grads_[k];
            size_t lo = std::max(at, g.start), hi = std::min(end, g.start + g.elems);
            if (lo >= hi) continue;
            const uint32_t m = max_abs_bits(f32(g.buffer) + (lo - g.start), hi - lo);
            uint32_t cur = mx[k].load(std::memory_order_relaxed);
            while (m > cur && !mx[k].compare_exchange_weak(cur, m, std::memory_order_relaxed)) {
            }
        }
    });
    bool finite = true;
    for (size_t k = 0; k < grads_.size(); k++) finite = finite && mx[k].load(std::memory_order_relaxed) <= 0x7f7fffffu;
    grad_max_valid_ = finite;
    return finite;
}

namespace {
double from_bits(uint32_t u) {
    if (u > 0x7f7fffffu) return -1.0;   // not finite: no bound
    float f;
    std::memcpy(&f, &u, 4);
    return (double)f;
}
} // namespace

double CpuBackend::stored_max(int32_t id) const { return id >= 0 && stats_[id].known ? stats_[id].max : -1.0; }
bool CpuBackend::stored_nonneg(int32_t id) const { return id >= 0 && stats_[id].known && stats_[id].nonneg; }
double CpuBackend::gradient_max(int32_t id) const {
    if (!grad_max_valid_ || id < 0 || grad_of_buffer_[id] < 0) return -1.0;
    return from_bits(grad_max_[grad_of_buffer_[id]].load(std::memory_order_relaxed));
}

void CpuBackend::expect_bounds(const int32_t * ids, int n, const StepBounds & after) {
    for (int k = 0; k < n; k++) {
        if (ids[k] < 0) continue;
        const double m = k == 0 ? after.param : after.state[k - 1];
        pending_[ids[k]] = Stored{m >= 0, k > 0 && after.state_nonneg[k - 1], m};
        pending_set_[ids[k]] = 1;
    }
}

void CpuBackend::expect_measured(const int32_t * ids, int n, const StepStats & st) {
    for (int k = 0; k < n; k++) {
        if (ids[k] < 0) continue;
        const uint32_t bits = st.max_bits[k];
        if (!(st.written >> k & 1u)) pending_[ids[k]] = stats_[ids[k]];   // not written: as it is
        else if (st.raw >> k & 1u) pending_[ids[k]] = Stored{bits <= 0x7f7fffffu, true, from_bits(bits)};   // above: a negative value
        else pending_[ids[k]] = Stored{bits <= 0x7f7fffffu, false, from_bits(bits)};
        pending_set_[ids[k]] = 1;
    }
}

void CpuBackend::step_stored(const int32_t * ids, int n) {
    for (int k = 0; k < n; k++) {
        if (ids[k] < 0) continue;
        stats_[ids[k]] = pending_set_[ids[k]] ? pending_[ids[k]] : Stored{};
        pending_set_[ids[k]] = 0;
    }
}

Status CpuBackend::check_step(const Instr & in, const StepState & s, bool use_bounds, unsigned & nonfinite) {
    switch (in.op) {
        case Op::SGD_STEP: nonfinite = cpu_check_step(CpuArgs<op::SGD_STEP>{{in}, *this, s}, use_bounds); return {};
        case Op::ADAM_STEP: nonfinite = cpu_check_step(CpuArgs<op::ADAM_STEP>{{in}, *this, s}, use_bounds); return {};
        case Op::RMSPROP_STEP: nonfinite = cpu_check_step(CpuArgs<op::RMSPROP_STEP>{{in}, *this, s}, use_bounds); return {};
        case Op::ADAGRAD_STEP: nonfinite = cpu_check_step(CpuArgs<op::ADAGRAD_STEP>{{in}, *this, s}, use_bounds); return {};
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
