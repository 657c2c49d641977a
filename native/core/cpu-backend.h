// The CPU backend: one arena in host memory, the persistent thread pool, and the CPU kernel table
// (one run function per opcode, defined beside the op's check in ops/<family>.cpp).
#pragma once
#include <atomic>
#include <memory>
#include <vector>
#include "backend.h"
#include "kernels.h"
#include "memory.h"
#include "op-table.h"
#include "threadpool.h"

namespace nl {

class CpuBackend;

// A dataset array's deleter: frees an array the backend copied, leaves a borrowed one
// (Backend::set_dataset with borrow) to its owner. (At namespace scope: a nested class with a default
// member initializer is not default-constructible inside its enclosing class, as unique_ptr needs.)
struct MaybeOwned {
    bool owned = true;
    template <class T> void operator()(T * p) const {
        if (owned) delete[] p;
    }
};

// What a CPU kernel reads: op O's named operands as arena pointers, its attributes, the step.
template <class O> struct CpuArgs : OperandsOf<O> {
    CpuBackend & be;
    const StepState & s;
    float * f32(typename O::Buf k) const;      // null when the operand is absent
    int32_t * i32(typename O::Buf k) const;
    int64_t elems(typename O::Buf k) const;    // the buffer's elems (per sample when batched)
    ThreadPool * pool() const;
    int n() const { return s.n; }
};

// Each op's CPU kernel call, defined in ops/<family>.cpp (a missing one fails to link).
template <class O> Status cpu_run(const CpuArgs<O> & a);
#define NL_OP(e, name, operands, ints, floats) template <> Status cpu_run<op::e>(const CpuArgs<op::e> & a);
#include "ops.def"
#undef NL_OP

// The optimizer ops' checks (CpuBackend::check_step), defined beside their cpu_run in ops/optim.cpp:
// the StepNonFinite bits (kernels.h) of what the step would write, nothing written.
// With use_bounds, the bound (*_step_bounded, kernels.h) is tried first.
template <class O> unsigned cpu_check_step(const CpuArgs<O> & a, bool use_bounds);
template <> unsigned cpu_check_step<op::SGD_STEP>(const CpuArgs<op::SGD_STEP> & a, bool use_bounds);
template <> unsigned cpu_check_step<op::ADAM_STEP>(const CpuArgs<op::ADAM_STEP> & a, bool use_bounds);
template <> unsigned cpu_check_step<op::RMSPROP_STEP>(const CpuArgs<op::RMSPROP_STEP> & a, bool use_bounds);
template <> unsigned cpu_check_step<op::ADAGRAD_STEP>(const CpuArgs<op::ADAGRAD_STEP> & a, bool use_bounds);

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int threads) : pool_(new ThreadPool(threads)) {}
    const char * name() const override { return "CPU"; }
    int threads() const override { return pool_->size(); }
    Status alloc_buffers(const Program & p) override;
    Status set_buffer(int32_t id, const void * src, size_t bytes) override;
    Status get_buffer(int32_t id, void * dst, size_t bytes) override;
    Status set_dataset(Split split, const DatasetView & data, bool borrow) override;
    Status gather_batch(Split split, const int32_t * index, int n) override;
    Status run(const Instr & in, const StepState & s) override;
    bool supports_op(Op op) const override { return op >= Op(0) && op < Op::COUNT; }
    Status watch_gradients(const std::vector<int32_t> & ids) override;
    bool gradients_finite() override;
    bool gradients_have_nan() override;
    Status check_step(const Instr & in, const StepState & s, bool use_bounds, unsigned & nonfinite) override;
    uint64_t exact_step_checks() const override { return exact_checks_; }
    Status synchronize() override { return {}; }

    // For the kernels (CpuArgs): buffer `id` in the arena (null for -1), the pool, and
    // elementwise work split over the pool when it is large enough to pay for the hand-off.
    float * f32(int32_t id) const { return id < 0 ? nullptr : arena_ + prog_->buffers[id].offset; }
    int32_t * i32(int32_t id) const { return reinterpret_cast<int32_t *>(f32(id)); }
    int64_t elems(int32_t id) const { return prog_->buffers[id].elems; }
    ThreadPool * pool() const { return pool_.get(); }
    template <class F> void for_chunks(size_t count, F && fn);

    // The step bound's inputs (check_step): max |value| of buffer `id` as the last optimizer step
    // left it, < 0 when unknown (never stepped, or written since by set_buffer/alloc_buffers);
    // whether it is known to hold no negative value; max |gradient| from the last gradients_finite()
    // that found them all finite, < 0 when unknown or stale (another kernel ran since: see run()).
    double stored_max(int32_t id) const;
    bool stored_nonneg(int32_t id) const;
    double gradient_max(int32_t id) const;
    // A step check that passed leaves what the step will store, for its buffers ids[0] (the
    // parameter) and ids[1..n) (state slots 1..): bounds (`after` of *_step_bounded) or measured
    // maxima (the exact check's StepStats). The step's run() makes them current; without a passed
    // check before it, its buffers become unknown.
    void expect_bounds(const int32_t * ids, int n, const StepBounds & after);
    void expect_measured(const int32_t * ids, int n, const StepStats & st);
    void step_stored(const int32_t * ids, int n);
    void count_exact_check() { exact_checks_++; }

private:
    const Program * prog_ = nullptr;
    Allocation arena_mem_;     // every buffer of the program, at the planner's offsets
    float * arena_ = nullptr;  // arena_mem_.data()
    std::unique_ptr<ThreadPool> pool_;

    template <class T> using DataPtr = std::unique_ptr<T[], MaybeOwned>;
    template <class T> static DataPtr<T> borrowed(const T * p) { return DataPtr<T>(const_cast<T *>(p), MaybeOwned{false}); }
    // One split's samples: uint8 `images` or float `features` (exactly one is set once loaded),
    // class `labels` and/or float `targets` (target_size per sample); copies, or borrowed.
    struct Data {
        DataPtr<uint8_t> images, labels;
        DataPtr<float> features, targets;
        int64_t sample_size = 0, target_size = 0;
    } data_[2];
    Status copy_dataset(Split split, const DatasetView & v);

    // The learnable gradients as one virtual range: tensor k covers [start, start + elems) of
    // grad_total_ values, so the finite check wakes the pool once per step.
    struct GradRange { int32_t buffer; size_t start, elems; };
    std::vector<GradRange> grads_;
    size_t grad_total_ = 0;

    // For the step bound. stats_[id]: what the last optimizer step left in buffer id (known = false
    // from alloc_buffers() and after any set_buffer() of it). grad_max_[k]: max |grad| bits of
    // grads_[k] from the last gradients_finite(), valid while grad_max_valid_.
    struct Stored { bool known = false; bool nonneg = false; double max = 0; };
    std::vector<Stored> stats_, pending_;   // pending_[id]: what the checked step will leave (pending_set_)
    std::vector<char> pending_set_;
    std::unique_ptr<std::atomic<uint32_t>[]> grad_max_;
    std::vector<int32_t> grad_of_buffer_;   // buffer id -> index in grads_, or -1
    bool grad_max_valid_ = false;
    uint64_t exact_checks_ = 0;
};

template <class F> void CpuBackend::for_chunks(size_t count, F && fn) {
    constexpr size_t MIN_CHUNK = 32768;
    int parts = (int)std::min<size_t>((size_t)pool_->size(), count / MIN_CHUNK);
    if (parts <= 1) {
        fn(0, count);
        return;
    }
    size_t per = (count + parts - 1) / parts;
    per = (per + 15) / 16 * 16;   // keep chunk starts 64-byte aligned
    pool_->run(parts, [&](int t) {
        size_t at = (size_t)t * per;
        if (at < count) fn(at, std::min(per, count - at));
    });
}

template <class O> float * CpuArgs<O>::f32(typename O::Buf k) const { return be.f32(this->id(k)); }
template <class O> int32_t * CpuArgs<O>::i32(typename O::Buf k) const { return be.i32(this->id(k)); }
template <class O> int64_t CpuArgs<O>::elems(typename O::Buf k) const { return be.elems(this->id(k)); }
template <class O> ThreadPool * CpuArgs<O>::pool() const { return be.pool(); }

} // namespace nl
