// Backend: the one way the runtime reaches a device (in the manner of ggml's ggml-backend.h).
//
// A Session (runtime.h) decodes and validates its Program, keeps the training state (step
// counter, seed, lr overrides) and the epoch loop, and does everything that touches memory or
// runs a kernel through its Backend:
//   - the buffer plan:   alloc_buffers()      one arena holding every buffer at the planner's offsets
//   - host -> device:    set_buffer()         parameters, checkpoints, optimizer state
//                        set_dataset()        a split's samples (copied, or borrowed where the
//                                             device can read host memory: the CPU)
//                        gather_batch()       the batch's rows of a loaded split into the input,
//                                             labels and targets buffers (device-side)
//   - device -> host:    get_buffer()         parameters, the loss, the logits of a batch
//   - the kernel table:  run()                one instruction; the backend looks its kernel up by
//                                             opcode (validation is backend-independent: op-table.h)
//   - gradient checks:   watch_gradients(), gradients_finite(), gradients_have_nan()
//   - step checks:       check_step()         whether an optimizer step would leave a weight or
//                                             its state non-finite (a bound first, else computed,
//                                             nothing written)
//   - synchronisation:   synchronize()        returns when all queued work is done
//
// Two implementations, with no difference to Session or to the op checks:
//   - the CPU backend (cpu-backend.h): host memory, the thread pool, the CPU kernel table;
//   - the CUDA backend (native/cuda/cuda-backend-impl.h, in libnetloom_cuda.so, which the core
//     loads at run time only where a driver is: cuda-loader.h): one cudaMalloc arena, datasets
//     uploaded once, a gather kernel, the CUDA kernel table generated from ops.def (a missing
//     kernel is a link error of the library), and the device-resident epoch loop below.
// Every method returns a Status and never throws across this interface (an implementation runs
// its work under guarded(), memory.h), so the session's error paths do not depend on the device.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "program.h"

namespace nl {

enum Split : int { SPLIT_TRAIN = 0, SPLIT_TEST = 1 };

// What a kernel needs besides its operands: the batch and the session's training state.
struct StepState {
    int n = 0;                // rows in this batch (<= the program's max_batch)
    bool training = true;     // training mode (BatchNorm batch statistics, dropout on) or eval mode
    float lr = -1.f;          // learning-rate override for this step (< 0: the program's)
    float momentum = -1.f;    // momentum / beta1 override for this step (< 0: the program's)
    int64_t step = 0;         // optimizer steps taken, this one included (bias correction, dropout's RNG counter)
    uint64_t seed = 0;        // the run's seed (dropout)
};

// A split's samples as the host holds them: uint8 `images` (scaled by 1/255 when gathered) or
// float `features`; class `labels` (one per sample) and/or float `targets` (target_size each).
// The Session has validated them against the program before a backend sees them.
struct DatasetView {
    bool is_float = false;                 // features (true) or images (false), even when count is 0
    const uint8_t * images = nullptr;
    const float * features = nullptr;
    const uint8_t * labels = nullptr;
    const float * targets = nullptr;
    int64_t count = 0, sample_size = 0, target_size = 0;
};

// The device-resident epoch loop (optional: Backend::device_loop()). A backend whose kernels run
// asynchronously (CUDA) runs whole batches on the device without reading the loss back after each:
// the Session hands it the epoch once (epoch_begin), enqueues chunks of batches (epoch_run) and reads
// each chunk's outcome back at its progress-event throttle (epoch_read). Per batch the backend does
// what Session::run_epoch does on the host, in the same order: gather, forward, the loss check,
// backward, the gradient check, the step section's clipping, the optimizer steps' checks, the
// optimizer steps, and counts the step. The first non-finite loss, gradient or step halts the epoch
// on the device: nothing persistent is written after it, and the step counter stops there.
struct DeviceEpoch {
    Split split = SPLIT_TRAIN;
    const int32_t * order = nullptr;    // count sample indices, in visiting order
    int64_t count = 0;
    int batch = 0;                      // rows per batch (the last may be smaller)
    int64_t batches = 0;
    bool train = true;                  // forward + backward + step in training mode, else forward in eval mode
    const float * lr = nullptr;         // [batches] learning rate per batch, or null (the program's)
    const float * momentum = nullptr;   // [batches] momentum / beta1 per batch, or null
    int64_t steps = 0;                  // optimizer steps taken before this epoch
    uint64_t seed = 0;                  // the run's seed (dropout)
    size_t first_optimizer_step = 0;    // prog.step[first_optimizer_step..] are the optimizer steps
};

// What stopped a device-resident epoch (DeviceChunk::halt).
enum DeviceHalt : int {
    HALT_NONE = 0,
    HALT_LOSS_NAN,        // the batch's loss was NaN
    HALT_LOSS_INF,        // ... infinite
    HALT_GRADIENTS_NAN,   // a learnable gradient was NaN
    HALT_GRADIENTS_INF,   // ... infinite (none NaN)
    HALT_STEP,            // an optimizer step would have written a non-finite value (step_bits)
};

// The outcome of the batches enqueued so far (epoch_read).
struct DeviceChunk {
    int64_t halt_batch = -1;   // the batch that halted the epoch (nothing of it applied), or -1
    int halt = HALT_NONE;      // DeviceHalt
    unsigned step_bits = 0;    // StepNonFinite bits (kernels.h) when halt is HALT_STEP
    int64_t steps = 0;         // optimizer steps taken, this epoch's applied ones included
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual const char * name() const = 0;   // "CPU"
    virtual int threads() const = 0;         // host threads the backend computes with

    // The buffer plan: one zeroed arena for every buffer of `p`, at the planner's offsets. `p`
    // outlives the backend (the Session owns both).
    virtual Status alloc_buffers(const Program & p) = 0;

    // Host <-> device copies of `bytes` from the start of buffer `id` (the Session checks ids and sizes).
    virtual Status set_buffer(int32_t id, const void * src, size_t bytes) = 0;
    virtual Status get_buffer(int32_t id, void * dst, size_t bytes) = 0;

    // A split's samples (a replaced split is freed before its successor is allocated). borrow:
    // keep the host's pointers instead of copying, where the device can read host memory; the
    // caller then keeps that memory alive and unchanged until the split is set again or the
    // session is freed.
    virtual Status set_dataset(Split split, const DatasetView & data, bool borrow) = 0;
    // Rows index[0..n) of a loaded split into the program's input buffer, and their labels and
    // targets into its labels and targets buffers when it has them.
    virtual Status gather_batch(Split split, const int32_t * index, int n) = 0;

    // Runs one (validated) instruction: its kernel from the backend's kernel table.
    virtual Status run(const Instr & in, const StepState & s) = 0;
    // Whether this backend has a kernel for `op` (the CPU has them all).
    virtual bool supports_op(Op op) const = 0;

    // The buffers the non-finite check reads (the learnable gradients), set once; then per step,
    // whether they are all finite (fast), and on failure whether a NaN is among them (slow).
    virtual Status watch_gradients(const std::vector<int32_t> & ids) = 0;
    virtual bool gradients_finite() = 0;
    virtual bool gradients_have_nan() = 0;

    // An optimizer-step instruction (SGD_STEP, ADAM_STEP, RMSPROP_STEP, ADAGRAD_STEP) checked
    // before it runs: computes every value run(in, s) would write to the parameter and its optimizer
    // state, with the same arithmetic, writes nothing, and sets `nonfinite` to the StepNonFinite bits
    // (kernels.h) of those that would be NaN or infinite: 0 when the step is safe to apply. Any
    // other opcode is NL_STATUS_INVALID_ARGUMENT. (A CUDA backend runs the step kernel in its check
    // mode and reduces the bits on the device.)
    //
    // use_bounds: the Session has established (Session::find_optimizer_steps) that nothing but
    // set_buffer() and the instruction itself writes its parameter and state buffers, and nothing
    // but gradient clipping (which only scales down) writes its gradient between gradients_finite()
    // and this call. The backend may then first try a cheap sufficient condition: a bound from the
    // max |value| of the gradient (taken by gradients_finite()) and of the parameter and state
    // (as the check before the last step handed them on: measured, or the bound's own bounds on what
    // the step writes; forgotten by set_buffer() and alloc_buffers()); only
    // when the bound cannot prove every written value finite does it run the exact check. The
    // result is the same either way whenever the bound succeeds (nonfinite = 0).
    virtual Status check_step(const Instr & in, const StepState & s, bool use_bounds, unsigned & nonfinite) = 0;
    // How many check_step calls ran the exact check (the others were proven by the bound).
    virtual uint64_t exact_step_checks() const = 0;

    // Returns when all work queued on the device is done (the CPU runs synchronously).
    virtual Status synchronize() = 0;

    // The device-resident epoch loop (DeviceEpoch above); a backend without one (the CPU, whose
    // host loop costs nothing to read from) keeps these defaults and the Session never calls them.
    virtual bool device_loop() const { return false; }
    // Uploads the epoch's order and per-batch tables and resets the loop's accumulators and halt.
    virtual Status epoch_begin(const DeviceEpoch & e) { return no_device_loop(); }
    // Enqueues batches [b0, b1) of the epoch begun (b0 follows the previous chunk's b1, or is the
    // epoch's first); returns without waiting for them.
    virtual Status epoch_run(int64_t b0, int64_t b1) { return no_device_loop(); }
    // Waits for the enqueued batches and reads back batches [b0, b1)'s losses and correct counts
    // (the values of a halted batch and of those after it are unspecified) and the halt.
    virtual Status epoch_read(int64_t b0, int64_t b1, float * losses, int32_t * correct, DeviceChunk & out) {
        return no_device_loop();
    }

private:
    Status no_device_loop() const {
        return Status::error(NL_STATUS_INTERNAL, std::string("the ") + name() + " backend has no device-resident epoch loop");
    }
};

// The CPU backend: `threads` workers in one pool (0 = all hardware threads; fewer start if the
// system refuses some).
Status cpu_backend_create(int threads, std::unique_ptr<Backend> & out);

} // namespace nl
