// The executor: runs Program sections and whole epochs over the loaded data, through the
// session's Backend (buffers, datasets, kernels).
#include "runtime.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include "kernels.h"
#include "memory.h"
#include "op-table.h"

namespace nl {

Session::~Session() = default;

Status Session::create(const int32_t * words, size_t n, int threads, std::unique_ptr<Session> & out) {
    // Nothing may throw past this function: a failed allocation anywhere below is a Status.
    return guarded("creating the session", [&] {
        if (threads < 0) return Status::error(NL_STATUS_INVALID_ARGUMENT, "thread count must be >= 0");
        std::unique_ptr<Backend> cpu;
        Status st = cpu_backend_create(threads, cpu);
        if (!st.ok()) return st;
        return create_unguarded(words, n, std::move(cpu), out);
    });
}

Status Session::create(const int32_t * words, size_t n, std::unique_ptr<Backend> backend, std::unique_ptr<Session> & out) {
    return guarded("creating the session", [&] { return create_unguarded(words, n, std::move(backend), out); });
}

Status Session::create_unguarded(const int32_t * words, size_t n, std::unique_ptr<Backend> backend, std::unique_ptr<Session> & out) {
    if (!backend) return Status::error(NL_STATUS_INVALID_ARGUMENT, "no backend to create the session on");
    std::unique_ptr<Session> s(new Session());
    Status st = program_decode(words, n, s->prog_);
    if (!st.ok()) return st;
    s->backend_ = std::move(backend);
    st = s->backend_->alloc_buffers(s->prog_);
    if (!st.ok()) return st;
    // The gradients the optimizer reads, each once (clip_grad/grad_norm_sq read the same ones).
    std::vector<int32_t> grads;
    for (const Instr & in : s->prog_.step) {
        if (!is_optimizer_step(in.op) || in.bufs.size() < 2 || in.bufs[1] < 0) continue;
        if (std::find(grads.begin(), grads.end(), in.bufs[1]) == grads.end()) grads.push_back(in.bufs[1]);
    }
    st = s->find_optimizer_steps();
    if (!st.ok()) return st;
    st = s->backend_->watch_gradients(grads);
    if (!st.ok()) return st;
    out = std::move(s);
    return {};
}

bool Session::gradients_finite() { return backend_->gradients_finite(); }

bool Session::is_optimizer_step(Op op) {
    return op == Op::SGD_STEP || op == Op::ADAM_STEP || op == Op::RMSPROP_STEP || op == Op::ADAGRAD_STEP;
}

// apply_step checks every optimizer step before it runs any, which is sound when the step section
// ends with its optimizer steps (gradient clipping comes before them) and no two of them write the
// same buffer: then each check reads exactly what its step will read. The compiler emits that shape.
Status Session::find_optimizer_steps() {
    const std::vector<Instr> & step = prog_.step;
    size_t k = 0;
    while (k < step.size() && !is_optimizer_step(step[k].op)) k++;
    first_optimizer_step_ = k;
    std::vector<int32_t> written;
    for (; k < step.size(); k++) {
        const Instr & in = step[k];
        if (!is_optimizer_step(in.op))
            return Status::error(NL_STATUS_INVALID_ARGUMENT, std::string("the step section runs ") + op_info(in.op).name +
                                                                 " after an optimizer step; the optimizer steps must come last");
        for (size_t b = 0; b < in.bufs.size(); b++) {
            if (b == 1 || in.bufs[b] < 0) continue;   // operand 1 is the gradient, read only
            if (std::find(written.begin(), written.end(), in.bufs[b]) != written.end())
                return Status::error(NL_STATUS_INVALID_ARGUMENT, "buffer " + std::to_string(in.bufs[b]) +
                                                                     " is updated by two optimizer steps of the step section");
            written.push_back(in.bufs[b]);
        }
    }
    step_bounds_ok_ = bounds_are_sound(written);
    return {};
}

// Whether Backend::check_step may prove a step finite from the maxima the backend tracks (its
// use_bounds): sound only if nothing but set_buffer() and its own step writes a parameter or state
// buffer, and nothing but norm-preserving clipping writes a gradient between the gradient check and
// the step check. Programs the engine compiles satisfy this; for any other the exact check runs.
bool Session::bounds_are_sound(const std::vector<int32_t> & written) const {
    const std::vector<Instr> & step = prog_.step;
    const size_t nbuf = prog_.buffers.size();
    std::vector<char> role(nbuf, 0);   // 1: written by an optimizer step, 2: the gradient of one
    for (int32_t id : written) role[id] = 1;
    for (size_t k = first_optimizer_step_; k < step.size(); k++)
        if (step[k].bufs[1] >= 0 && !role[step[k].bufs[1]]) role[step[k].bufs[1]] = 2;
    // 1. No other buffer shares their memory (the planner gives them their own), so a write to
    //    another buffer (a kernel's output, set_buffer, the batch gather) never reaches them.
    for (size_t a = 0; a < nbuf; a++) {
        if (!role[a]) continue;
        const BufferDesc & da = prog_.buffers[a];
        const int64_t a0 = da.offset, a1 = da.offset + da.words(prog_.max_batch);
        for (size_t b = 0; b < nbuf; b++) {
            if (b == a) continue;
            const BufferDesc & db = prog_.buffers[b];
            if (db.offset < a1 && a0 < db.offset + db.words(prog_.max_batch)) return false;
        }
    }
    // 2. A parameter or state buffer is none of the batch or output buffers the runtime writes...
    for (int32_t id : {prog_.input, prog_.labels, prog_.targets, prog_.logits, prog_.probs, prog_.loss, prog_.correct})
        if (id >= 0 && role[id] == 1) return false;
    // ...and other instructions name it only as a `weight` or `bias` operand, which no kernel writes
    // (engine/compile/ops.ts lists each op's writes: none of them is a weight or a bias).
    auto reads_only = [&](const Instr & in) {
        for (size_t k = 0; k < in.bufs.size(); k++) {
            if (in.bufs[k] < 0 || role[in.bufs[k]] != 1) continue;
            const std::string name = op_list_name(op_info(in.op).operands, (int)k);
            if (name != "weight" && name != "bias") return false;
        }
        return true;
    };
    for (const std::vector<Instr> * section : {&prog_.forward, &prog_.backward})
        for (const Instr & in : *section)
            if (!reads_only(in)) return false;
    // 3. Between the gradient check and the step checks run only gradient clipping's norm (writes
    //    its norm_sq) and scale (by a factor in [0, 1] when max_norm >= 0, so no |g| grows), and
    //    neither's norm_sq is one of these buffers.
    for (size_t k = 0; k < first_optimizer_step_; k++) {
        const Instr & in = step[k];
        if (!reads_only(in)) return false;
        if (in.op == Op::GRAD_NORM_SQ) {
            if (role[in.bufs[op::GRAD_NORM_SQ::norm_sq]]) return false;
        } else if (in.op == Op::CLIP_GRAD) {
            if (role[in.bufs[op::CLIP_GRAD::norm_sq]] || !(in.floats[op::CLIP_GRAD::max_norm] >= 0.f)) return false;
        } else {
            return false;
        }
    }
    return true;
}

// The step section for one batch: gradient clipping, then a check that no optimizer step would
// leave a weight or optimizer state NaN or infinite (a finite gradient times a large learning rate
// can overflow), and only then the optimizer steps, counting the step. A refused step writes no
// parameter or state and leaves steps() unchanged; `where` ends its message.
Status Session::apply_step(int n, const std::string & where) {
    const Instr * begin = prog_.step.data();
    const Instr * opt = begin + first_optimizer_step_;
    const Instr * end = begin + prog_.step.size();
    Status st = exec_range(begin, opt, n, steps_ + 1);
    if (!st.ok()) return st;
    const StepState state = step_state(n, steps_ + 1);
    unsigned bad = 0;
    for (const Instr * in = opt; in != end; in++) {
        unsigned b = 0;
        st = backend_->check_step(*in, state, step_bounds_ok_, b);
        if (!st.ok()) return st;
        bad |= b;
    }
    if (bad) {
        // What the user trains: the weights; a state value (Adam's v from a huge gradient squared,
        // say) can overflow while the weights stay finite, and would stall every later step.
        const bool weights = (bad & NF_WEIGHTS) != 0;
        const bool nan = (bad & (weights ? NF_WEIGHTS_NAN : NF_STATE_NAN)) != 0;
        return Status::error(NL_STATUS_NON_FINITE, std::string(weights ? "the weights" : "the optimizer state") + " would become " +
                                                       (nan ? "NaN" : "infinite") + " " + where);
    }
    steps_++;
    return exec_range(opt, end, n, steps_);
}

// NL_STATUS_NON_FINITE naming NaN or infinity (the slow search runs only on failure).
Status Session::check_gradients(const std::string & where) {
    if (backend_->gradients_finite()) return {};
    const bool nan = backend_->gradients_have_nan();
    return Status::error(NL_STATUS_NON_FINITE, std::string("the gradients became ") + (nan ? "NaN" : "infinite") + " " + where);
}

size_t Session::buffer_bytes(int32_t id) const {
    if (id < 0 || id >= (int32_t)prog_.buffers.size()) return 0;
    return (size_t)prog_.buffers[id].words(prog_.max_batch) * 4;
}

Status Session::set_buffer(int32_t id, const void * data, size_t bytes) {
    if (id < 0 || id >= (int32_t)prog_.buffers.size())
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "no buffer " + std::to_string(id) + " in this program");
    const BufferDesc & d = prog_.buffers[id];
    size_t cap = buffer_bytes(id), row = (size_t)d.elems * 4;
    bool ok = d.batched ? (bytes <= cap && bytes % row == 0) : bytes == cap;
    if (!ok)
        return Status::error(NL_STATUS_SHAPE_MISMATCH, "buffer " + std::to_string(id) + " takes " +
                                                            (d.batched ? "whole rows of " + std::to_string(d.elems) + " values, up to " : "exactly ") +
                                                            std::to_string(cap / 4) + " values; got " + std::to_string(bytes / 4));
    return backend_->set_buffer(id, data, bytes);
}

Status Session::get_buffer(int32_t id, void * out, size_t bytes) const {
    if (id < 0 || id >= (int32_t)prog_.buffers.size())
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "no buffer " + std::to_string(id) + " in this program");
    if (bytes > buffer_bytes(id)) return Status::error(NL_STATUS_INVALID_ARGUMENT, "read past the end of buffer " + std::to_string(id));
    return backend_->get_buffer(id, out, bytes);
}

Status Session::check_dataset_args(Split split, int64_t count, int64_t sample_size, const uint8_t * labels) const {
    if (split != SPLIT_TRAIN && split != SPLIT_TEST) return Status::error(NL_STATUS_INVALID_ARGUMENT, "split must be train or test");
    if (prog_.input < 0 || prog_.loss < 0)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "this program has no input and loss to feed a dataset to");
    if (count < 0 || sample_size != prog_.buffers[prog_.input].elems)
        return Status::error(NL_STATUS_SHAPE_MISMATCH, "dataset samples hold " + std::to_string(sample_size) +
                                                           " values but the model's input takes " +
                                                           std::to_string(prog_.buffers[prog_.input].elems));
    if (prog_.labels >= 0 && !labels)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "the model's loss compares its output with class labels, but this dataset has none "
                                                         "(it holds regression targets)");
    if (prog_.labels >= 0)
        for (int64_t i = 0; i < count; i++)
            if (labels[i] >= prog_.classes)
                return Status::error(NL_STATUS_BAD_LABEL, "sample " + std::to_string(i) + " has label " + std::to_string(labels[i]) +
                                                              " but the model predicts " + std::to_string(prog_.classes) + " classes");
    return {};
}

Status Session::load_dataset(Split split, const DatasetView & v) {
    SplitInfo & info = splits_[split];
    info = SplitInfo{};   // a split whose replacement fails is not loaded
    Status st = backend_->set_dataset(split, v, borrow_);
    if (!st.ok()) return st;
    info.loaded = true;
    info.has_targets = v.targets != nullptr;
    info.count = v.count;
    return {};
}

Status Session::set_dataset(Split split, const uint8_t * images, const uint8_t * labels, int64_t count, int64_t sample_size) {
    return guarded("copying the dataset", [&]() -> Status {
        Status st = check_dataset_args(split, count, sample_size, labels);
        if (!st.ok()) return st;
        if (prog_.targets >= 0)
            return Status::error(NL_STATUS_INVALID_ARGUMENT, "the model's loss compares its output with regression targets, but this dataset "
                                                             "has class labels only");
        DatasetView v;
        v.images = images;
        v.labels = labels;
        v.count = count;
        v.sample_size = sample_size;
        return load_dataset(split, v);
    });
}

Status Session::set_dataset_f32(Split split, const float * features, const uint8_t * labels, const float * targets, int64_t count,
                                int64_t sample_size, int64_t target_size) {
    return guarded("copying the dataset", [&]() -> Status {
        Status st = check_dataset_args(split, count, sample_size, labels);
        if (!st.ok()) return st;
        const bool use_targets = prog_.targets >= 0;
        if (use_targets) {
            const int64_t want = prog_.buffers[prog_.targets].elems;
            if (!targets || target_size <= 0)
                return Status::error(NL_STATUS_INVALID_ARGUMENT, "the model's loss compares its output with regression targets, but this dataset "
                                                                 "has none (it holds class labels)");
            if (target_size != want)
                return Status::error(NL_STATUS_SHAPE_MISMATCH, "dataset samples have " + std::to_string(target_size) +
                                                                   " target values but the model's loss compares " + std::to_string(want));
        }
        // Non-finite values would train into NaN weights batches later; name the first one now.
        for (int64_t i = 0; i < count * sample_size; i++)
            if (!std::isfinite(features[i]))
                return Status::error(NL_STATUS_INVALID_ARGUMENT, "sample " + std::to_string(i / sample_size) + ", feature " +
                                                                     std::to_string(i % sample_size) + " is " + (std::isnan(features[i]) ? "NaN" : "infinite"));
        if (use_targets)
            for (int64_t i = 0; i < count * target_size; i++)
                if (!std::isfinite(targets[i]))
                    return Status::error(NL_STATUS_INVALID_ARGUMENT, "sample " + std::to_string(i / target_size) + ", target " +
                                                                         std::to_string(i % target_size) + " is " + (std::isnan(targets[i]) ? "NaN" : "infinite"));
        DatasetView v;
        v.is_float = true;
        v.features = features;
        v.labels = labels;
        v.targets = use_targets ? targets : nullptr;
        v.count = count;
        v.sample_size = sample_size;
        v.target_size = use_targets ? target_size : 0;
        return load_dataset(split, v);
    });
}

int64_t Session::dataset_count(Split split) const { return splits_[split == SPLIT_TEST].count; }

StepState Session::step_state(int n, int64_t step) const {
    StepState state;
    state.n = n;
    state.training = training_;
    state.lr = lr_;
    state.momentum = momentum_;
    state.step = step;
    state.seed = seed_;
    return state;
}

Status Session::exec_all(const std::vector<Instr> & section, int n) {
    return exec_range(section.data(), section.data() + section.size(), n, steps_);
}

Status Session::exec_range(const Instr * begin, const Instr * end, int n, int64_t step) {
    const StepState state = step_state(n, step);
    for (const Instr * in = begin; in != end; in++) {
        Status st;
        try {
            st = backend_->run(*in, state);   // a kernel's exception (on any pool thread) is rethrown here by the pool
        } catch (...) {
            st = current_exception_status(std::string("in ") + op_info(in->op).name);
        }
        if (!st.ok()) return st;
    }
    return {};
}

Status Session::run_step(int n, bool train, bool update, float lr) {
    return guarded("running a step", [&] { return run_step_unguarded(n, train, update, lr); });
}

Status Session::run_step_unguarded(int n, bool train, bool update, float lr) {
    if (n < 1 || n > prog_.max_batch)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "batch of " + std::to_string(n) + " rows does not fit the program's batch size " +
                                                             std::to_string(prog_.max_batch));
    training_ = train;
    lr_ = lr;
    momentum_ = -1.f;
    Status st = exec_all(prog_.forward, n);
    if (!st.ok() || !train) return st;
    st = exec_all(prog_.backward, n);
    if (!st.ok() || !update) return st;
    st = check_gradients("in this step; the step was not applied");
    if (!st.ok()) return st;
    st = apply_step(n, "in this step; the step was not applied");
    if (!st.ok()) return st;
    return backend_->synchronize();
}

Status Session::run_epoch(Split split, const EpochOptions & o, ProgressFn progress, void * ctx, EpochResult & r) {
    return guarded("running an epoch", [&] { return run_epoch_unguarded(split, o, progress, ctx, r); });
}

Status Session::run_epoch_unguarded(Split split, const EpochOptions & o, ProgressFn progress, void * ctx, EpochResult & r) {
    using clock = std::chrono::steady_clock;
    const SplitInfo & d = splits_[split == SPLIT_TEST];
    r = EpochResult{};
    if (!d.loaded) return Status::error(NL_STATUS_INVALID_ARGUMENT, std::string("no ") + (split == SPLIT_TEST ? "test" : "training") + " data was loaded");
    if (prog_.targets >= 0 && !d.has_targets)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "the model reads regression targets but the loaded dataset has none");
    if (o.batch < 1 || o.batch > prog_.max_batch)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "batch size " + std::to_string(o.batch) + " must be between 1 and the program's " +
                                                             std::to_string(prog_.max_batch));
    if (o.count < 0 || o.count > d.count) return Status::error(NL_STATUS_INVALID_ARGUMENT, "epoch visits more samples than the dataset holds");
    if (o.train && prog_.step.empty() && prog_.backward.empty())
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "this program has no backward pass to train with");
    if (o.order)
        for (int64_t k = 0; k < o.count; k++)
            if (o.order[k] < 0 || o.order[k] >= d.count)
                return Status::error(NL_STATUS_INVALID_ARGUMENT, "sample order names index " + std::to_string(o.order[k]) + " outside the dataset");
    int64_t batches = o.drop_last ? o.count / o.batch : (o.count + o.batch - 1) / o.batch;
    if (o.start_batch < 0 || o.start_batch > batches)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "start batch " + std::to_string(o.start_batch) + " is outside the epoch's 0.." +
                                                             std::to_string(batches) + " batches");
    if ((o.predictions || o.probabilities || o.outputs) && o.train)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "predictions are written by evaluation (train = false) epochs only");
    if ((o.predictions || o.probabilities || o.outputs) && prog_.logits < 0)
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "this program has no logits to predict classes from");
    const int classes = prog_.logits >= 0 ? (int)prog_.buffers[prog_.logits].elems : 0;

    training_ = o.train;
    lr_ = -1.f;
    momentum_ = -1.f;
    std::unique_ptr<int32_t[]> iota;
    const int32_t * order = o.order;
    if (!order) {
        iota.reset(new (std::nothrow) int32_t[(size_t)o.count + 1]);
        if (!iota)
            return Status::error(NL_STATUS_OUT_OF_MEMORY, "could not allocate " + format_bytes(((uint64_t)o.count + 1) * 4) +
                                                              " for the epoch's sample order (" + std::to_string(o.count) + " indices)");
        for (int64_t k = 0; k < o.count; k++) iota[k] = (int32_t)k;
        order = iota.get();
    }
    // A device-resident loop reads nothing back per batch; predictions and outputs are per batch.
    if (backend_->device_loop() && !o.predictions && !o.probabilities && !o.outputs)
        return run_epoch_device(split, o, order, batches, progress, ctx, r);
    // The logits of a batch, read back for predictions and probabilities (sized once per epoch).
    std::vector<float> logits;
    if (o.predictions || o.probabilities) logits.resize((size_t)prog_.max_batch * (size_t)classes);
    auto t0 = clock::now();
    auto last_event = t0;
    int64_t bi = o.start_batch;
    for (; bi < batches; bi++) {
        if (stop_.load(std::memory_order_relaxed)) {
            stop_.store(false);   // consumed
            r.stopped = true;
            break;
        }
        int64_t first = bi * o.batch;
        int n = (int)std::min<int64_t>(o.batch, o.count - first);
        Status st = backend_->gather_batch(split, order + first, n);
        if (!st.ok()) return st;
        if (o.lr) lr_ = o.lr[bi];
        if (o.momentum) momentum_ = o.momentum[bi];
        st = exec_all(prog_.forward, n);
        if (!st.ok()) return st;
        float loss = 0.f;
        if (prog_.loss >= 0 && !(st = read_scalar(prog_.loss, &loss)).ok()) return st;
        auto at = [&] { return "at batch " + std::to_string(bi + 1) + " of " + std::to_string(batches); };
        if (!std::isfinite(loss))
            return Status::error(NL_STATUS_NON_FINITE, "the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " " + at() +
                                                           (o.train ? "; training stopped before applying that batch" : ""));
        if (o.train) {
            st = exec_all(prog_.backward, n);
            if (!st.ok()) return st;
            if (!gradients_finite()) return check_gradients(at() + "; training stopped before applying that batch");
            st = apply_step(n, at() + "; training stopped before applying that batch");
            if (!st.ok()) return st;
        }
        if (o.outputs && !(st = backend_->get_buffer(prog_.logits, o.outputs + first * classes, (size_t)n * (size_t)classes * sizeof(float))).ok())
            return st;
        if (o.predictions || o.probabilities) {
            if (!(st = backend_->get_buffer(prog_.logits, logits.data(), (size_t)n * (size_t)classes * sizeof(float))).ok()) return st;
            if (o.predictions) argmax_rows(logits.data(), o.predictions + first, n, classes);
            if (o.probabilities) softmax_forward(logits.data(), o.probabilities + first * classes, n, classes, 1, false);
        }
        if (o.batch_losses) o.batch_losses[bi] = loss;
        r.loss_sum += loss;
        int32_t correct = 0;
        if (prog_.correct >= 0 && !(st = read_scalar(prog_.correct, &correct)).ok()) return st;
        r.correct += correct;
        r.batches++;
        r.samples += n;
        auto now = clock::now();
        if (progress && (std::chrono::duration<double>(now - last_event).count() >= o.event_interval_s || bi + 1 == batches)) {
            last_event = now;
            double el = std::chrono::duration<double>(now - t0).count();
            ProgressEvent ev{bi + 1, batches, first + n, loss, r.loss_sum / (double)r.batches, el > 0 ? r.samples / el : 0, el};
            progress(ctx, ev);
        }
    }
    Status st = backend_->synchronize();
    if (!st.ok()) return st;
    r.next_batch = bi;
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    return {};
}

// The message run_epoch_unguarded gives for the same halt, word for word (the engine and the app
// show it; the tests compare the two paths).
Status Session::device_halt_status(const DeviceChunk & c, int64_t batches, bool train) {
    const std::string at = "at batch " + std::to_string(c.halt_batch + 1) + " of " + std::to_string(batches);
    const std::string stopped = "; training stopped before applying that batch";
    switch (c.halt) {
        case HALT_LOSS_NAN:
        case HALT_LOSS_INF:
            return Status::error(NL_STATUS_NON_FINITE, std::string("the loss became ") + (c.halt == HALT_LOSS_NAN ? "NaN" : "infinite") + " " +
                                                           at + (train ? stopped : ""));
        case HALT_GRADIENTS_NAN:
        case HALT_GRADIENTS_INF:
            return Status::error(NL_STATUS_NON_FINITE, std::string("the gradients became ") + (c.halt == HALT_GRADIENTS_NAN ? "NaN" : "infinite") +
                                                           " " + at + stopped);
        case HALT_STEP: {
            const bool weights = (c.step_bits & NF_WEIGHTS) != 0;
            const bool nan = (c.step_bits & (weights ? NF_WEIGHTS_NAN : NF_STATE_NAN)) != 0;
            return Status::error(NL_STATUS_NON_FINITE, std::string(weights ? "the weights" : "the optimizer state") + " would become " +
                                                           (nan ? "NaN" : "infinite") + " " + at + stopped);
        }
        default:
            return Status::error(NL_STATUS_INTERNAL, "the device loop halted at batch " + std::to_string(c.halt_batch + 1) +
                                                         " for an unknown reason (" + std::to_string(c.halt) + ")");
    }
}

// Chunks of batches on the device, each read back once: the first chunk is short so that the first
// progress event comes early and times a batch; later ones last about one event interval. Stop
// requests are honoured between chunks. Results, steps(), batch losses and messages are those the
// host loop gives (a halted batch and the ones after it count for nothing).
Status Session::run_epoch_device(Split split, const EpochOptions & o, const int32_t * order, int64_t batches, ProgressFn progress, void * ctx,
                                 EpochResult & r) {
    using clock = std::chrono::steady_clock;
    DeviceEpoch e;
    e.split = split;
    e.order = order;
    e.count = o.count;
    e.batch = o.batch;
    e.batches = batches;
    e.train = o.train;
    e.lr = o.lr;
    e.momentum = o.momentum;
    e.steps = steps_;
    e.seed = seed_;
    e.first_optimizer_step = first_optimizer_step_;
    Status st = backend_->epoch_begin(e);
    if (!st.ok()) return st;
    const auto t0 = clock::now();
    auto last_event = t0;
    std::vector<float> losses;
    std::vector<int32_t> correct;
    int64_t chunk = 4, bi = o.start_batch;
    while (bi < batches) {
        if (stop_.load(std::memory_order_relaxed)) {
            stop_.store(false);   // consumed
            r.stopped = true;
            break;
        }
        const int64_t end = std::min(batches, bi + chunk);
        const auto c0 = clock::now();
        DeviceChunk dc;
        losses.resize((size_t)(end - bi));
        correct.resize((size_t)(end - bi));
        if (!(st = backend_->epoch_run(bi, end)).ok() || !(st = backend_->epoch_read(bi, end, losses.data(), correct.data(), dc)).ok())
            return st;
        steps_ = dc.steps;
        const int64_t done = dc.halt_batch >= 0 ? std::min(dc.halt_batch, end) : end;
        for (int64_t k = bi; k < done; k++) {
            const float loss = losses[(size_t)(k - bi)];
            if (o.batch_losses) o.batch_losses[k] = loss;
            r.loss_sum += loss;
            r.correct += correct[(size_t)(k - bi)];
            r.batches++;
            r.samples += std::min<int64_t>(o.batch, o.count - k * o.batch);
        }
        const auto now = clock::now();
        const bool halted = dc.halt_batch >= 0;
        if (progress && done > bi && (std::chrono::duration<double>(now - last_event).count() >= o.event_interval_s || (!halted && end == batches))) {
            last_event = now;
            const double el = std::chrono::duration<double>(now - t0).count();
            ProgressEvent ev{done, batches, std::min<int64_t>(done * o.batch, o.count), losses[(size_t)(done - 1 - bi)],
                             r.loss_sum / (double)r.batches, el > 0 ? r.samples / el : 0, el};
            progress(ctx, ev);
        }
        if (halted) return device_halt_status(dc, batches, o.train);
        // The next chunk: as many batches as this chunk's pace fits into one event interval.
        const double per_batch = std::chrono::duration<double>(now - c0).count() / (double)(end - bi);
        chunk = std::max<int64_t>(1, std::min<int64_t>(1024, (int64_t)(o.event_interval_s / std::max(per_batch, 1e-7))));
        bi = end;
    }
    st = backend_->synchronize();
    if (!st.ok()) return st;
    r.next_batch = bi;
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    return {};
}

} // namespace nl
