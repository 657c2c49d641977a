// The device-resident epoch loop (Backend::device_loop, core/backend.h) of CudaBackend: one batch
// is a fixed sequence of launches that reads everything that changes between batches from device
// memory (LoopState, DeviceStep), so it is captured once as a CUDA graph per batch shape (rows,
// train, split) and replayed; where capture fails, the same launches run plainly.
//
// One batch, in Session::run_epoch_unguarded's order:
//   begin_batch      dstep <- lr/momentum of this batch, the step counter (forward and backward see
//                    the steps taken; the step section sees steps + 1, as on the host)
//   gather           the batch's rows of the split, by the epoch's order at loop->batch
//   forward          the program's instructions
//   check_loss       the loss and correct count into this batch's slots; a non-finite loss halts
//   backward         (train)
//   grad flags       the watched gradients' non-finite check; check_grads halts on it
//   step section     clipping, then each optimizer step's check mode OR-ing into check_bits;
//                    check_steps halts on any bit; then the optimizer steps (they write nothing
//                    once halted, cuda-args.h)
//   end_batch        counts the step unless halted; moves to the next batch
// Once halted, later batches still run their launches (at most the rest of a chunk) but write no
// persistent state and count nothing; the host reads the halt at the chunk's end.
#include <algorithm>
#include <cstring>
#include <string>
#include "cuda-backend-impl.h"
#include "kernel-table.h"
#include "kernels.h"
#include "memory.h"

namespace nl {

namespace {

__global__ void set_batch_kernel(LoopState * L, int64_t batch) { L->batch = batch; }

__global__ void begin_batch_kernel(LoopState * L, DeviceStep * ds) {
    const int64_t b = L->batch;
    ds->lr = L->lr ? L->lr[b] : -1.f;
    ds->momentum = L->momentum ? L->momentum[b] : -1.f;
    ds->step = L->committed;
    L->grad_flags = 0;
    L->check_bits = 0;
}

__device__ void halt_at(LoopState * L, DeviceStep * ds, int kind, uint32_t bits) {
    if (ds->halted) return;   // the first halt is the one reported
    ds->halted = 1;
    L->halt_batch = L->batch;
    L->halt = kind;
    L->step_bits = bits;
}

// loss / correct: the program's buffers (null when it has none: the host loop reads 0 then).
__global__ void check_loss_kernel(LoopState * L, DeviceStep * ds, const float * loss, const int32_t * correct) {
    const float v = loss ? *loss : 0.f;
    L->losses[L->batch] = v;
    L->correct[L->batch] = correct ? *correct : 0;
    if (!isfinite(v)) halt_at(L, ds, isnan(v) ? HALT_LOSS_NAN : HALT_LOSS_INF, 0);
}

__global__ void check_grads_kernel(LoopState * L, DeviceStep * ds) {
    if (L->grad_flags & 1u) halt_at(L, ds, (L->grad_flags & 2u) ? HALT_GRADIENTS_NAN : HALT_GRADIENTS_INF, 0);
}

__global__ void before_step_kernel(LoopState * L, DeviceStep * ds) { ds->step = L->committed + 1; }

__global__ void check_steps_kernel(LoopState * L, DeviceStep * ds) {
    if (L->check_bits) halt_at(L, ds, HALT_STEP, L->check_bits);
}

__global__ void end_batch_kernel(LoopState * L, const DeviceStep * ds, int train) {
    if (train && !ds->halted) L->committed++;
    L->batch++;
}

} // namespace

// Grows a device array to `bytes` (never shrinks: a captured graph keeps the address it saw, so a
// new address drops the graphs).
Status CudaBackend::grow(void ** p, size_t & cap, size_t bytes, const std::string & what) {
    if (*p && cap >= bytes) return {};
    drop_graphs();
    if (*p) cudaFree(*p);
    *p = nullptr;
    cap = 0;
    Status st = device_alloc(p, bytes, what, "train on fewer samples");
    if (st.ok()) cap = bytes;
    return st;
}

void CudaBackend::drop_graphs() {
    for (auto & g : graphs_) cudaGraphExecDestroy(g.second);
    graphs_.clear();
}

Status CudaBackend::epoch_begin(const DeviceEpoch & e) {
    Status st = enter();
    if (!st.ok()) return st;
    if (!(st = synchronize()).ok()) return st;   // the arrays below may still be read by queued work
    epoch_ = e;
    const size_t nb = (size_t)std::max<int64_t>(e.batches, 1);
    if (!(st = grow((void **)&order_, order_cap_, (size_t)std::max<int64_t>(e.count, 1) * sizeof(int32_t), "the epoch's sample order")).ok() ||
        !(st = grow((void **)&losses_, losses_cap_, nb * sizeof(float), "the epoch's batch losses")).ok() ||
        !(st = grow((void **)&correct_, correct_cap_, nb * sizeof(int32_t), "the epoch's correct counts")).ok() ||
        (e.lr && !(st = grow((void **)&lr_, lr_cap_, nb * sizeof(float), "the epoch's learning rates")).ok()) ||
        (e.momentum && !(st = grow((void **)&momentum_, momentum_cap_, nb * sizeof(float), "the epoch's momentum values")).ok()))
        return st;
    auto up = [&](void * dst, const void * src, size_t bytes, const char * what) {
        return bytes ? ck(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), std::string("copying ") + what) : Status{};
    };
    if (!(st = up(order_, e.order, (size_t)e.count * sizeof(int32_t), "the epoch's sample order")).ok() ||
        (e.lr && !(st = up(lr_, e.lr, (size_t)e.batches * sizeof(float), "the epoch's learning rates")).ok()) ||
        (e.momentum && !(st = up(momentum_, e.momentum, (size_t)e.batches * sizeof(float), "the epoch's momentum values")).ok()))
        return st;
    LoopState L{};
    L.batch = 0;
    L.committed = e.steps;
    L.halt_batch = -1;
    L.halt = HALT_NONE;
    L.batch_size = e.batch;
    L.order = order_;
    L.lr = e.lr ? lr_ : nullptr;
    L.momentum = e.momentum ? momentum_ : nullptr;
    L.losses = losses_;
    L.correct = correct_;
    if (!(st = ck(cudaMemcpy(loop_, &L, sizeof L, cudaMemcpyHostToDevice), "starting the device loop")).ok()) return st;
    DeviceStep h{};
    h.lr = -1.f;
    h.momentum = -1.f;
    h.step = e.steps;
    h.seed = e.seed;
    step_valid_ = false;   // the loop writes dstep from here on
    return ck(cudaMemcpy(cx_.dstep, &h, sizeof h, cudaMemcpyHostToDevice), "starting the device loop");
}

// One batch's launches (the sequence in the file comment). Host values are fixed: n and the mode
// (StepState's lr, momentum, step and seed are placeholders; the kernels read dstep).
Status CudaBackend::enqueue_batch(int n, bool train) {
    StepState s;
    s.n = n;
    s.training = train;
    s.seed = epoch_.seed;
    const Program & p = *prog_;
    cudaStream_t st_ = cx_.stream;
    begin_batch_kernel<<<1, 1, 0, st_>>>(loop_, cx_.dstep);
    Status st = launch_gather(data_[epoch_.split == SPLIT_TEST], nullptr, loop_, n);
    for (size_t k = 0; st.ok() && k < p.forward.size(); k++) st = cuda_kernel_run(cx_, p.forward[k], s);
    if (!st.ok()) return st;
    check_loss_kernel<<<1, 1, 0, st_>>>(loop_, cx_.dstep, p.loss >= 0 ? f32(p.loss) : nullptr,
                                        p.correct >= 0 ? reinterpret_cast<const int32_t *>(f32(p.correct)) : nullptr);
    if (train) {
        for (size_t k = 0; st.ok() && k < p.backward.size(); k++) st = cuda_kernel_run(cx_, p.backward[k], s);
        if (st.ok()) st = grad_flags(&loop_->grad_flags);
        if (!st.ok()) return st;
        check_grads_kernel<<<1, 1, 0, st_>>>(loop_, cx_.dstep);
        before_step_kernel<<<1, 1, 0, st_>>>(loop_, cx_.dstep);
        const size_t opt = std::min(epoch_.first_optimizer_step, p.step.size());
        for (size_t k = 0; st.ok() && k < opt; k++) st = cuda_kernel_run(cx_, p.step[k], s);
        for (size_t k = opt; st.ok() && k < p.step.size(); k++) st = cuda_kernel_check_step(cx_, p.step[k], s, &loop_->check_bits);
        if (!st.ok()) return st;
        check_steps_kernel<<<1, 1, 0, st_>>>(loop_, cx_.dstep);
        for (size_t k = opt; st.ok() && k < p.step.size(); k++) st = cuda_kernel_run(cx_, p.step[k], s);
        if (!st.ok()) return st;
    }
    end_batch_kernel<<<1, 1, 0, st_>>>(loop_, cx_.dstep, train ? 1 : 0);
    return cuda_launched("the device loop");
}

// Replays the batch's graph, capturing it first; a failed capture (an op whose launches cannot be
// captured) switches this backend to plain launches, which do the same work.
Status CudaBackend::launch_batch(int n, bool train) {
    const int64_t key = ((int64_t)n * 2 + (train ? 1 : 0)) * 2 + (epoch_.split == SPLIT_TEST ? 1 : 0);
    auto it = graphs_.find(key);
    if (it == graphs_.end() && capture_ok_) {
        cudaGraph_t graph = nullptr;
        cudaGraphExec_t exec = nullptr;
        cudaError_t e = cudaStreamBeginCapture(cx_.stream, cudaStreamCaptureModeThreadLocal);
        Status st = e == cudaSuccess ? enqueue_batch(n, train) : Status{};
        if (e == cudaSuccess) e = cudaStreamEndCapture(cx_.stream, &graph);
        if (e == cudaSuccess && st.ok()) e = cudaGraphInstantiate(&exec, graph, 0);
        if (graph) cudaGraphDestroy(graph);
        if (e == cudaSuccess && st.ok() && exec) {
            it = graphs_.emplace(key, exec).first;
        } else {
            // Nothing captured ran; the plain launches below do the batch (and report a real error).
            if (exec) cudaGraphExecDestroy(exec);
            cudaGetLastError();
            capture_ok_ = false;
        }
    }
    if (it != graphs_.end()) return ck(cudaGraphLaunch(it->second, cx_.stream), "replaying a training step");
    return enqueue_batch(n, train);
}

Status CudaBackend::epoch_run(int64_t b0, int64_t b1) {
    Status st = enter();
    if (!st.ok()) return st;
    set_batch_kernel<<<1, 1, 0, cx_.stream>>>(loop_, b0);
    if (!(st = cuda_launched("the device loop")).ok()) return st;
    for (int64_t b = b0; b < b1; b++) {
        const int n = (int)std::min<int64_t>(epoch_.batch, epoch_.count - b * epoch_.batch);
        if (!(st = launch_batch(n, epoch_.train)).ok()) return st;
    }
    return {};
}

Status CudaBackend::epoch_read(int64_t b0, int64_t b1, float * losses, int32_t * correct, DeviceChunk & out) {
    Status st = enter();
    if (!st.ok()) return st;
    const size_t nb = (size_t)(b1 - b0);
    LoopState L{};
    if (!(st = ck(cudaMemcpyAsync(losses, losses_ + b0, nb * sizeof(float), cudaMemcpyDeviceToHost, cx_.stream), "reading the batch losses")).ok() ||
        !(st = ck(cudaMemcpyAsync(correct, correct_ + b0, nb * sizeof(int32_t), cudaMemcpyDeviceToHost, cx_.stream), "reading the correct counts")).ok() ||
        !(st = ck(cudaMemcpyAsync(&L, loop_, sizeof L, cudaMemcpyDeviceToHost, cx_.stream), "reading the device loop's state")).ok() ||
        !(st = ck(cudaStreamSynchronize(cx_.stream), "running the epoch's batches")).ok())
        return st;
    out.halt_batch = L.halt_batch;
    out.halt = L.halt;
    out.step_bits = L.step_bits;
    out.steps = L.committed;
    return {};
}

} // namespace nl
