// Session: one compiled Program with its memory, its data and its thread pool, all reached
// through its Backend (backend.h): the Session validates, keeps the training state and runs the
// epoch loop; the backend holds the buffers, the datasets and the kernels.
//
// Intended usage (the Node binding and the C++ tests do exactly this):
//   1. Session::create(words, n, threads, s)        decode + validate the Program, allocate the arena
//   2. s->set_buffer(id, data, bytes)                parameters (initial or checkpoint), optimizer state
//   3. s->set_dataset(TRAIN|TEST, images, labels...) a uint8 dataset (images), copied, labels checked;
//      or s->set_dataset_f32(TRAIN|TEST, features,    a float dataset (CSV rows): features as they are,
//                            labels | targets, ...)   class labels or regression targets per sample
//      (after s->borrow_datasets(true) they are read in place, not copied: see there)
//   4. s->run_epoch(TRAIN, opts, progress, ctx, r)   whole epochs on native threads; progress is
//                                                    called from the running thread, throttled
//      s->run_epoch(TEST, {train=false}, ...)        the test pass: loss and accuracy, no updates;
//                                                    optionally each sample's predicted class and
//                                                    probabilities (EpochOptions.predictions/probabilities)
//                                                    or raw output row (EpochOptions.outputs, regression)
//   5. s->get_buffer(id, out, bytes)                 read parameters back to save a checkpoint
//
// Stopping and resuming: request_stop() may be called from any thread; the running epoch (or, when
// none runs, the next one to start) returns within one batch with result.stopped = true, the
// weights of the last completed step and result.next_batch = the first batch not run. An epoch
// that stops consumes the request; clear_stop() withdraws one that no epoch has seen (the binding
// calls it when JS asks for an epoch, so a stop made after that call is never lost). Running the same epoch again with the same order,
// lr/momentum tables and start_batch = next_batch continues it exactly: the step counter (which
// also drives dropout's counter-based RNG) lives in the Session, so an epoch split into pieces
// applies bit for bit the same updates as one uninterrupted epoch.
//
// Non-finite values never reach the weights: in training, a batch whose loss is NaN/inf, any of
// whose learnable gradients (the operands of the optimizer-step instructions) hold a NaN/inf, or
// whose optimizer step would make a weight or an optimizer state value NaN/inf (a finite gradient
// times a large learning rate can overflow), ends the epoch with NL_STATUS_NON_FINITE before that
// batch's step is applied: no parameter or state is written and steps() is unchanged for it. The
// gradient check is one vectorized read of the gradients, split over the pool, which also takes max
// |g|; the step check (Backend::check_step, before any step is applied) first tries a bound from
// those maxima and the parameter's and state's (known from the previous check), and only when the
// bound cannot prove the step finite runs each optimizer kernel once without storing.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "backend.h"
#include "memory.h"
#include "program.h"

namespace nl {

struct EpochOptions {
    const int32_t * order = nullptr;   // sample indices in visiting order (count of them); null = 0..count-1
    int64_t count = 0;                 // samples to visit (<= dataset size)
    int batch = 0;                     // <= program max_batch
    bool drop_last = false;
    bool train = true;                 // forward+backward+step in training mode, else forward in eval mode
    double event_interval_s = 0.1;     // progress throttle
    const float * lr = nullptr;        // learning rate per batch (LR schedulers), indexed by batch; null = the program's
    const float * momentum = nullptr;  // SGD/RMSprop momentum or Adam beta1 per batch (OneCycleLR's cycle_momentum)
    int64_t start_batch = 0;           // first batch to run, 0..batches: resumes a stopped epoch at result.next_batch
                                       // (batches before it are skipped, not re-run; the order stays the epoch's)

    // Outputs, all optional and owned by the caller (the binding's worker). Indexed by position in
    // the epoch, so a resumed epoch fills in the rest of the same arrays.
    int32_t * predictions = nullptr;   // eval only, [count]: argmax of io.logits for the k-th visited sample
                                       // (first maximum on ties)
    float * probabilities = nullptr;   // eval only, [count, classes]: softmax(io.logits) of the k-th visited sample
    float * outputs = nullptr;         // eval only, [count, width]: the raw io.logits row of the k-th visited sample
                                       // (a regression model's predictions; width = io.logits' elems)
    float * batch_losses = nullptr;    // [batches]: the loss of each batch run, at its batch index
};

struct ProgressEvent {
    int64_t batch;          // batches done in this epoch (start_batch included)
    int64_t batches;        // batches in this epoch
    int64_t samples;        // samples done in this epoch (those of skipped batches included)
    float loss;             // loss of the latest batch
    double mean_loss;       // mean of the batch losses of this call (not of skipped batches)
    double samples_per_s;   // samples of this call / seconds since this call started
    double elapsed_s;       // since this call started
};

struct EpochResult {
    double loss_sum = 0;    // sum of per-batch mean losses of the batches run (the tutorial divides by batches)
    int64_t batches = 0, samples = 0, correct = 0;   // batches / samples run by this call; correct predictions among them
    int64_t next_batch = 0; // the first batch not run: == the epoch's batch count when it completed
    double seconds = 0;
    bool stopped = false;
};

typedef void (*ProgressFn)(void * ctx, const ProgressEvent & ev);

class Session {
public:
    static Status create(const int32_t * words, size_t n, int threads, std::unique_ptr<Session> & out);
    // The same on a backend the caller made (cuda_backend_create, cuda-loader.h); the session owns it.
    static Status create(const int32_t * words, size_t n, std::unique_ptr<Backend> backend, std::unique_ptr<Session> & out);
    ~Session();
    const char * backend_name() const { return backend_->name(); }

    const Program & program() const { return prog_; }
    int threads() const { return backend_->threads(); }
    int64_t steps() const { return steps_; }
    void set_steps(int64_t s) { steps_ = s; }
    uint64_t seed() const { return seed_; }
    void set_seed(uint64_t s) { seed_ = s; }

    // Copies `bytes` into buffer `id`. Fixed buffers take exactly their size; batched ones take
    // up to max_batch rows (whole rows).
    Status set_buffer(int32_t id, const void * data, size_t bytes);
    Status get_buffer(int32_t id, void * out, size_t bytes) const;
    size_t buffer_bytes(int32_t id) const;   // capacity (batched: max_batch rows)

    // A uint8 dataset: count samples of sample_size bytes, scaled by 1/255 when gathered; one class
    // label per sample (checked against the program's classes when it reads labels).
    Status set_dataset(Split split, const uint8_t * images, const uint8_t * labels, int64_t count, int64_t sample_size);
    // A float dataset: count rows of sample_size features, gathered as they are. `labels` (class
    // indices, one per row) or `targets` (target_size floats per row) may be null, but not the one
    // the program reads (io.labels / io.targets); the other is ignored. Features and targets must be
    // finite (a NaN would only surface later as a NaN loss). Everything is copied.
    Status set_dataset_f32(Split split, const float * features, const uint8_t * labels, const float * targets, int64_t count,
                           int64_t sample_size, int64_t target_size);
    int64_t dataset_count(Split split) const;
    // Borrowing: set_dataset / set_dataset_f32 keep the caller's pointers instead of copying, and the
    // caller keeps that memory alive and unchanged until the split is set again or the session is
    // freed. The Node binding does (it holds the typed arrays), so runs on one dataset share one copy.
    void borrow_datasets(bool on) { borrow_ = on; }

    Status run_epoch(Split split, const EpochOptions & opts, ProgressFn progress, void * ctx, EpochResult & result);
    // One step on whatever the input/labels buffers hold (n rows): forward, and when train also
    // backward and the optimizer step (training mode; else eval mode: BatchNorm uses running
    // statistics, dropout is off). Used by parity tests and single-batch inference. lr < 0 keeps
    // the program's learning rate. Non-finite gradients, or a step that would make a weight or its
    // optimizer state non-finite, refuse the step (NL_STATUS_NON_FINITE).
    Status run_step(int n, bool train, bool update = true, float lr = -1.f);

    // How many optimizer-step checks ran the exact (full-cost) check so far; the others were proven
    // finite by the cheap bound (Backend::check_step). For tests and benchmarks.
    uint64_t exact_step_checks() const { return backend_->exact_step_checks(); }
    bool step_bounds_enabled() const { return step_bounds_ok_; }

    void request_stop() { stop_.store(true); }
    void clear_stop() { stop_.store(false); }

    // true when every learnable gradient is finite (the check run_epoch makes before each step)
    bool gradients_finite();

private:
    Session() = default;
    // The public calls run these under guarded() (memory.h): no exception crosses the API.
    static Status create_unguarded(const int32_t * words, size_t n, std::unique_ptr<Backend> backend, std::unique_ptr<Session> & out);
    Status run_epoch_unguarded(Split split, const EpochOptions & opts, ProgressFn progress, void * ctx, EpochResult & result);
    // The same epoch through the backend's device-resident loop (Backend::device_loop()), in chunks
    // between progress events; `order` and `batches` as run_epoch_unguarded validated them.
    Status run_epoch_device(Split split, const EpochOptions & o, const int32_t * order, int64_t batches, ProgressFn progress, void * ctx,
                            EpochResult & r);
    static Status device_halt_status(const DeviceChunk & c, int64_t batches, bool train);
    Status run_step_unguarded(int n, bool train, bool update, float lr);
    StepState step_state(int n, int64_t step) const;
    Status exec_all(const std::vector<Instr> & section, int n);   // at steps_
    Status exec_range(const Instr * begin, const Instr * end, int n, int64_t step);
    Status check_gradients(const std::string & where);
    static bool is_optimizer_step(Op op);
    Status find_optimizer_steps();
    bool bounds_are_sound(const std::vector<int32_t> & written) const;
    Status apply_step(int n, const std::string & where);
    Status check_dataset_args(Split split, int64_t count, int64_t sample_size, const uint8_t * labels) const;
    Status load_dataset(Split split, const DatasetView & v);
    Status read_scalar(int32_t id, void * out) { return backend_->get_buffer(id, out, 4); }

    Program prog_;
    std::unique_ptr<Backend> backend_;   // after prog_: it reads the program, so it goes first
    // What the session knows of each split; the samples themselves are the backend's.
    struct SplitInfo {
        bool loaded = false, has_targets = false;
        int64_t count = 0;
    } splits_[2];
    bool borrow_ = false;
    int64_t steps_ = 0;
    size_t first_optimizer_step_ = 0;   // prog_.step[first_optimizer_step_..] are the optimizer steps
    bool step_bounds_ok_ = false;       // the step checks may use the backend's bound (bounds_are_sound)
    uint64_t seed_ = 0;
    bool training_ = true;   // mode of the section being executed
    float lr_ = -1.f;        // learning-rate override for this step (< 0: none)
    float momentum_ = -1.f;  // momentum / beta1 override for this step (< 0: none)
    std::atomic<bool> stop_{false};
};

} // namespace nl
