// CudaBackend: the Backend (core/backend.h) on one CUDA device. One cudaMalloc arena holds every
// buffer of the program at the planner's offsets; datasets are uploaded once per split (uint8 images
// stay uint8); kernels run from the kernel table (kernel-table.h) on one non-blocking stream, and
// the device-resident epoch loop (device-loop.cu) replays one captured CUDA graph per batch shape.
//
// Errors: every CUDA call goes through ck(), which turns its error into a Status naming what was
// being done; a sticky error (an illegal address: the context is lost) is kept in broken_, and
// every later call returns it instead of touching the device again.
#pragma once
#include <cuda_runtime.h>
#include <map>
#include <string>
#include <vector>
#include "cuda-args.h"

namespace nl {

// The device loop's state, in device memory: the kernels between the instructions (device-loop.cu)
// advance it, so that one captured graph serves every batch of an epoch.
struct LoopState {
    int64_t batch;            // the batch being run (its rows start at batch * batch_size in order)
    int64_t committed;        // optimizer steps taken
    int64_t halt_batch;       // the batch that halted the epoch, -1 while none did
    int32_t halt;             // DeviceHalt
    uint32_t step_bits;       // StepNonFinite bits of the halting step check
    uint32_t grad_flags;      // this batch's gradient check: 1 = non-finite, 2 = NaN among them
    uint32_t check_bits;      // this batch's optimizer step checks (cuda_check_step OR-s into it)
    int64_t batch_size;
    const int32_t * order;    // the epoch's sample order
    const float * lr;         // [batches] or null
    const float * momentum;   // [batches] or null
    float * losses;           // [batches]
    int32_t * correct;        // [batches]
};

// A learnable gradient the finite check reads.
struct GradSpan {
    const float * data;
    int64_t count;
};

class CudaBackend final : public Backend {
public:
    CudaBackend(int device, bool tf32) : device_(device) { cx_.tf32 = tf32; }
    ~CudaBackend() override;
    Status init();   // the stream and the small device allocations; after it the backend is usable

    const char * name() const override { return "CUDA"; }
    int threads() const override { return 1; }
    Status alloc_buffers(const Program & p) override;
    Status set_buffer(int32_t id, const void * src, size_t bytes) override;
    Status get_buffer(int32_t id, void * dst, size_t bytes) override;
    Status set_dataset(Split split, const DatasetView & data, bool borrow) override;
    Status gather_batch(Split split, const int32_t * index, int n) override;
    Status run(const Instr & in, const StepState & s) override;
    bool supports_op(Op op) const override { return op >= Op(0) && op < Op::COUNT; }   // the table is complete (link-checked)
    Status watch_gradients(const std::vector<int32_t> & ids) override;
    bool gradients_finite() override;
    bool gradients_have_nan() override;
    Status check_step(const Instr & in, const StepState & s, bool use_bounds, unsigned & nonfinite) override;
    uint64_t exact_step_checks() const override { return exact_checks_; }
    Status synchronize() override;

    bool device_loop() const override { return true; }
    Status epoch_begin(const DeviceEpoch & e) override;
    Status epoch_run(int64_t b0, int64_t b1) override;
    Status epoch_read(int64_t b0, int64_t b1, float * losses, int32_t * correct, DeviceChunk & out) override;

private:
    // One split's samples on the device.
    struct Data {
        uint8_t * images = nullptr;
        float * features = nullptr;
        uint8_t * labels = nullptr;
        float * targets = nullptr;
        int64_t count = 0, sample_size = 0, target_size = 0;
    } data_[2];

    Status enter();                                   // broken_, else cudaSetDevice (per calling thread)
    Status ck(cudaError_t e, const std::string & doing);
    Status device_alloc(void ** p, size_t bytes, const std::string & what, const std::string & fix);
    void free_data(Data & d);
    float * f32(int32_t id) const { return id < 0 ? nullptr : reinterpret_cast<float *>(cx_.arena + (size_t)prog_->buffers[id].offset * 4); }
    Status upload_step(const StepState & s);          // DeviceStep from the host's StepState, when it changed
    Status launch_gather(const Data & d, const int32_t * index, const LoopState * loop, int n);
    Status grad_flags(uint32_t * flags);              // the gradient reduction, OR-ed into *flags (device)
    Status read_grad_flags(uint32_t & flags);         // ... run and read back

    // The device loop (device-loop.cu).
    Status enqueue_batch(int n, bool train);
    Status launch_batch(int n, bool train);
    Status grow(void ** p, size_t & cap, size_t bytes, const std::string & what);
    void drop_graphs();

    int device_;
    const Program * prog_ = nullptr;
    CudaContext cx_;
    size_t arena_bytes_ = 0;
    StepState uploaded_;                  // what dstep holds (valid while step_valid_)
    bool step_valid_ = false;
    int32_t * index_ = nullptr;           // gather_batch's indices (max_batch)
    uint32_t * flags_ = nullptr;          // scratch: gradient flags [0], step-check bits [1]
    GradSpan * grads_ = nullptr;          // watched gradients (device copy of grad_list_)
    std::vector<GradSpan> grad_list_;
    int64_t grad_max_count_ = 0;
    uint64_t exact_checks_ = 0;
    Status broken_;

    // Device-loop state: the epoch, its arrays (grown, never shrunk: captured graphs keep their
    // addresses) and the graphs, one per (batch rows, train, split).
    DeviceEpoch epoch_;
    LoopState * loop_ = nullptr;
    int32_t * order_ = nullptr;
    float * lr_ = nullptr, * momentum_ = nullptr, * losses_ = nullptr;
    int32_t * correct_ = nullptr;
    size_t order_cap_ = 0, lr_cap_ = 0, momentum_cap_ = 0, losses_cap_ = 0, correct_cap_ = 0;
    std::map<int64_t, cudaGraphExec_t> graphs_;
    bool capture_ok_ = true;              // false once a capture failed: plain launches from then on
};

} // namespace nl
