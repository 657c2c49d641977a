// The executor: runs Program sections over the arena and whole epochs over in-memory data.
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

namespace nl {

namespace {
// "the session's copy of the training split (60000 samples of 784 bytes)"
std::string dataset_copy_name(Split split, int64_t count, int64_t per_sample, const char * unit) {
    return std::string("the session's copy of the ") + (split == SPLIT_TEST ? "test" : "training") + " split (" + std::to_string(count) +
           " samples of " + std::to_string(per_sample) + " " + unit + ")";
}
} // namespace

Session::~Session() = default;

Status Session::create(const int32_t * words, size_t n, int threads, std::unique_ptr<Session> & out) {
    // Nothing may throw past this function: a failed allocation anywhere below is a Status.
    return guarded("creating the session", [&] { return create_unguarded(words, n, threads, out); });
}

Status Session::create_unguarded(const int32_t * words, size_t n, int threads, std::unique_ptr<Session> & out) {
    if (threads < 0) return Status::error(NL_STATUS_INVALID_ARGUMENT, "thread count must be >= 0");
    std::unique_ptr<Session> s(new Session());
    Status st = program_decode(words, n, s->prog_);
    if (!st.ok()) return st;
    const size_t bytes = (size_t)std::max<int64_t>(s->prog_.arena_words, 16) * 4;
    const std::string what = "the model's buffers (parameters, gradients, optimizer state and activations at batch size " +
                             std::to_string(s->prog_.max_batch) + ")";
    st = check_room(bytes, what, "lower the batch size or use a smaller model");
    if (!st.ok()) return st;
    st = Allocation::make(bytes, what, s->arena_mem_);
    if (!st.ok()) return st;
    s->arena_ = static_cast<float *>(s->arena_mem_.data());
    s->pool_.reset(new ThreadPool(threads));   // starts fewer threads if it cannot start them all
    // The gradients the optimizer reads, each once (clip_grad/grad_norm_sq read the same ones).
    for (const Instr & in : s->prog_.step) {
        bool is_step = in.op == Op::SGD_STEP || in.op == Op::ADAM_STEP || in.op == Op::RMSPROP_STEP || in.op == Op::ADAGRAD_STEP;
        if (!is_step || in.bufs.size() < 2 || in.bufs[1] < 0) continue;
        int32_t g = in.bufs[1];
        bool seen = false;
        for (const GradRange & r : s->grads_) seen = seen || r.buffer == g;
        if (seen) continue;
        size_t elems = (size_t)s->prog_.buffers[g].words(s->prog_.max_batch);
        s->grads_.push_back(GradRange{g, s->grad_total_, elems});
        s->grad_total_ += elems;
    }
    out = std::move(s);
    return {};
}

bool Session::gradients_finite() {
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

// NL_STATUS_NON_FINITE naming NaN or infinity (the slow search runs only on failure).
Status Session::check_gradients(const std::string & where) {
    if (gradients_finite()) return {};
    bool nan = false;
    for (const GradRange & g : grads_) {
        const float * p = f32(g.buffer);
        for (size_t i = 0; i < g.elems && !nan; i++) nan = std::isnan(p[i]);
    }
    return Status::error(NL_STATUS_NON_FINITE, std::string("the gradients became ") + (nan ? "NaN" : "infinite") + " " + where);
}

float * Session::f32(int32_t id) const { return id < 0 ? nullptr : arena_ + prog_.buffers[id].offset; }
int32_t * Session::i32(int32_t id) const {
    return id < 0 ? nullptr : reinterpret_cast<int32_t *>(arena_ + prog_.buffers[id].offset);
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
    std::memcpy(f32(id), data, bytes);
    return {};
}

Status Session::get_buffer(int32_t id, void * out, size_t bytes) const {
    if (id < 0 || id >= (int32_t)prog_.buffers.size())
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "no buffer " + std::to_string(id) + " in this program");
    if (bytes > buffer_bytes(id)) return Status::error(NL_STATUS_INVALID_ARGUMENT, "read past the end of buffer " + std::to_string(id));
    std::memcpy(out, f32(id), bytes);
    return {};
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

Status Session::set_dataset(Split split, const uint8_t * images, const uint8_t * labels, int64_t count, int64_t sample_size) {
    return guarded("copying the dataset", [&]() -> Status {
        Status st = check_dataset_args(split, count, sample_size, labels);
        if (!st.ok()) return st;
        if (prog_.targets >= 0)
            return Status::error(NL_STATUS_INVALID_ARGUMENT, "the model's loss compares its output with regression targets, but this dataset "
                                                             "has class labels only");
        Data & d = data_[split];
        d = Data{};   // a replaced split is freed before its successor is allocated
        if (borrow_) {
            static const uint8_t no_samples = 0;   // an empty split still counts as loaded
            d.images = borrowed(images ? images : &no_samples);
            d.labels = borrowed(labels);   // may be null: read only when the program reads labels, which requires them
            d.count = count;
            d.sample_size = sample_size;
            return {};
        }
        const std::string what = dataset_copy_name(split, count, sample_size, "bytes");
        st = check_room((uint64_t)count * (uint64_t)(sample_size + 1), what, "train on fewer samples");
        if (!st.ok()) return st;
        d.images.reset(new (std::nothrow) uint8_t[(size_t)(count * sample_size) + 1]);
        d.labels.reset(new (std::nothrow) uint8_t[(size_t)count + 1]);
        if (!d.images || !d.labels) {
            d = Data{};
            return Status::error(NL_STATUS_OUT_OF_MEMORY, "could not allocate " + format_bytes((uint64_t)count * (uint64_t)(sample_size + 1)) +
                                                              " for " + what + ": train on fewer samples");
        }
        std::memcpy(d.images.get(), images, (size_t)(count * sample_size));
        if (labels) std::memcpy(d.labels.get(), labels, (size_t)count);
        else std::memset(d.labels.get(), 0, (size_t)count);
        d.count = count;
        d.sample_size = sample_size;
        return {};
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
        const int64_t tsize = use_targets ? target_size : 0;
        Data & d = data_[split];
        d = Data{};   // a replaced split is freed before its successor is allocated
        if (borrow_) {
            static const float no_samples = 0.f;
            d.features = borrowed(features ? features : &no_samples);
            d.labels = borrowed(labels);   // may be null: read only when the program reads labels, which requires them
            if (use_targets) d.targets = borrowed(targets);
            d.count = count;
            d.sample_size = sample_size;
            d.target_size = tsize;
            return {};
        }
        const std::string what = dataset_copy_name(split, count, sample_size + tsize, "float values");
        const uint64_t bytes = (uint64_t)count * (uint64_t)(4 * (sample_size + tsize) + 1);
        st = check_room(bytes, what, "train on fewer samples");
        if (!st.ok()) return st;
        d.features.reset(new (std::nothrow) float[(size_t)(count * sample_size) + 1]);
        d.labels.reset(new (std::nothrow) uint8_t[(size_t)count + 1]);
        if (use_targets) d.targets.reset(new (std::nothrow) float[(size_t)(count * tsize) + 1]);
        if (!d.features || !d.labels || (use_targets && !d.targets)) {
            d = Data{};
            return Status::error(NL_STATUS_OUT_OF_MEMORY, "could not allocate " + format_bytes(bytes) + " for " + what + ": train on fewer samples");
        }
        std::memcpy(d.features.get(), features, (size_t)(count * sample_size) * sizeof(float));
        if (labels) std::memcpy(d.labels.get(), labels, (size_t)count);
        else std::memset(d.labels.get(), 0, (size_t)count);
        if (use_targets) std::memcpy(d.targets.get(), targets, (size_t)(count * tsize) * sizeof(float));
        d.count = count;
        d.sample_size = sample_size;
        d.target_size = tsize;
        return {};
    });
}

int64_t Session::dataset_count(Split split) const { return data_[split == SPLIT_TEST].count; }

// Elementwise work over `count` values, split across the pool when it is large enough to pay
// for the hand-off (optimizer steps over the big weight matrices; small tensors stay inline).
template <class F> void Session::for_chunks(size_t count, F && fn) {
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

static ConvShape conv_shape(const std::vector<int32_t> & g) {
    return ConvShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16]};
}
static PoolShape max_pool_shape(const std::vector<int32_t> & g) {
    return PoolShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], false, 0};
}
static PoolShape avg_pool_shape(const std::vector<int32_t> & g) {
    return PoolShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], 1, 1, g[9], g[10], g[11] != 0, g[12]};
}

Status Session::exec(const Instr & in, int n) {
    const auto & b = in.bufs;
    const auto & i = in.ints;
    const auto & f = in.floats;
    ThreadPool * pool = pool_.get();
    auto ce_params = [&](int weight_buf, int ignore, int red, float smoothing) {
        CrossEntropyParams p;
        p.weight = f32(weight_buf);
        p.ignore_index = ignore;
        p.reduction = (Reduction)red;
        p.label_smoothing = smoothing;
        return p;
    };
    auto label_error = [&](nl_status s, int classes) {
        return Status::error(s, s == NL_STATUS_BAD_LABEL ? "a label is outside 0.." + std::to_string(classes - 1) : "invalid loss arguments");
    };
    switch (in.op) {
    case Op::LINEAR_FORWARD:
        linear_forward(pool, f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), n, i[0], i[1]);
        return {};
    case Op::LINEAR_BACKWARD:
        linear_backward(pool, f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[5]), n, i[0], i[1], i[2] != 0);
        return {};
    case Op::RELU_FORWARD:
        relu_forward(f32(b[0]), f32(b[1]), (int64_t)n * i[0]);
        return {};
    case Op::RELU_BACKWARD:
        relu_backward(f32(b[0]), f32(b[1]), f32(b[2]), (int64_t)n * i[0], i[1] != 0);
        return {};
    case Op::SOFTMAX_CROSS_ENTROPY_FORWARD: {
        float loss = 0;
        int64_t correct = 0;
        nl_status s = cross_entropy_forward(f32(b[0]), i32(b[1]), f32(b[2]), n, i[0], ce_params(b[5], i[1], i[2], f[0]), &loss, &correct);
        if (s != NL_STATUS_OK) return label_error(s, i[0]);
        *f32(b[3]) = loss;
        if (b[4] >= 0) *i32(b[4]) = (int32_t)correct;   // <= n <= max_batch
        return {};
    }
    case Op::SOFTMAX_CROSS_ENTROPY_BACKWARD:
        cross_entropy_backward(f32(b[0]), i32(b[1]), f32(b[2]), n, i[0], ce_params(b[3], i[2], i[3], f[0]), i[1] != 0);
        return {};
    case Op::SGD_STEP: {
        SgdParams hp;
        hp.lr = lr_or(f[0]);
        hp.momentum = momentum_or(f[1]);
        hp.dampening = f[2];
        hp.weight_decay = f[3];
        hp.nesterov = i[0] != 0;
        hp.maximize = i[1] != 0;
        float * p = f32(b[0]);
        const float * g = f32(b[1]);
        float * buf = f32(b[2]);
        for_chunks((size_t)prog_.buffers[b[0]].elems, [&](size_t at, size_t len) {
            sgd_step(p + at, g + at, buf ? buf + at : nullptr, len, hp, steps_);
        });
        return {};
    }
    case Op::ADAM_STEP: {
        AdamParams hp;
        hp.lr = lr_or(f[0]);
        hp.beta1 = momentum_or(f[1]);
        hp.beta2 = f[2];
        hp.eps = f[3];
        hp.weight_decay = f[4];
        hp.amsgrad = i[0] != 0;
        hp.maximize = i[1] != 0;
        hp.decoupled_weight_decay = i[2] != 0;
        float *p = f32(b[0]), *m = f32(b[2]), *v = f32(b[3]), *vmax = f32(b[4]);
        const float * g = f32(b[1]);
        for_chunks((size_t)prog_.buffers[b[0]].elems, [&](size_t at, size_t len) {
            adam_step(p + at, g + at, m + at, v + at, vmax ? vmax + at : nullptr, len, hp, steps_);
        });
        return {};
    }
    case Op::CONV2D_FORWARD:
        conv2d_forward(pool, conv_shape(i), f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), n);
        return {};
    case Op::CONV2D_BACKWARD:
        conv2d_backward(pool, conv_shape(i), f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[5]), n, i[17] != 0);
        return {};
    case Op::CONV_TRANSPOSE2D_FORWARD:
        conv_transpose2d_forward(pool, conv_shape(i), f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), n);
        return {};
    case Op::CONV_TRANSPOSE2D_BACKWARD:
        conv_transpose2d_backward(pool, conv_shape(i), f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[5]), n, i[17] != 0);
        return {};
    case Op::MAX_POOL2D_FORWARD:
        max_pool2d_forward(pool, max_pool_shape(i), f32(b[0]), f32(b[1]), i32(b[2]), n);
        return {};
    case Op::MAX_POOL2D_BACKWARD:
        max_pool2d_backward(pool, max_pool_shape(i), f32(b[0]), i32(b[1]), f32(b[2]), n, i[13] != 0);
        return {};
    case Op::AVG_POOL2D_FORWARD:
        avg_pool2d_forward(pool, avg_pool_shape(i), f32(b[0]), f32(b[1]), n);
        return {};
    case Op::AVG_POOL2D_BACKWARD:
        avg_pool2d_backward(pool, avg_pool_shape(i), f32(b[0]), f32(b[1]), n, i[13] != 0);
        return {};
    case Op::ADAPTIVE_AVG_POOL2D_FORWARD:
        adaptive_avg_pool2d_forward(f32(b[0]), f32(b[1]), n, i[0], i[1], i[2], i[3], i[4]);
        return {};
    case Op::ADAPTIVE_AVG_POOL2D_BACKWARD:
        adaptive_avg_pool2d_backward(f32(b[0]), f32(b[1]), n, i[0], i[1], i[2], i[3], i[4], i[5] != 0);
        return {};
    case Op::BATCH_NORM_FORWARD: {
        // Eval mode uses the running statistics when they are tracked; without them (and in
        // training) the batch statistics, as torch.
        bool use_running = !training_ && b[3] >= 0;
        if (use_running)
            batch_norm_forward_eval(f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[8]), n, i[0], i[1], f[0]);
        else
            batch_norm_forward_train(f32(b[0]), f32(b[1]), f32(b[2]), f32(b[8]), f32(b[6]), f32(b[7]), training_ ? f32(b[3]) : nullptr,
                                     training_ ? f32(b[4]) : nullptr, training_ ? i32(b[5]) : nullptr, n, i[0], i[1], f[0], f[1]);
        return {};
    }
    case Op::BATCH_NORM_BACKWARD:
        batch_norm_backward(f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[5]), f32(b[6]), f32(b[7]), n, i[0], i[1], i[2] != 0);
        return {};
    case Op::LAYER_NORM_FORWARD:
        layer_norm_forward(f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[5]), (int64_t)n * i[0], i[1], f[0]);
        return {};
    case Op::LAYER_NORM_BACKWARD:
        layer_norm_backward(f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(b[4]), f32(b[5]), f32(b[6]), f32(b[7]), (int64_t)n * i[0], i[1], i[2] != 0);
        return {};
    case Op::DROPOUT_FORWARD: {
        size_t count = (int64_t)n * i[0];
        if (!training_ || f[0] == 0.f) {
            copy_forward(f32(b[0]), f32(b[1]), count, false);
            return {};
        }
        // One stream per (run seed, dropout node): the node's salt keeps two Dropouts apart.
        uint64_t seed = seed_ ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i[1] + 1));
        dropout_forward(f32(b[0]), f32(b[1]), f32(b[2]), count, f[0], seed, (uint64_t)steps_);
        return {};
    }
    case Op::DROPOUT_BACKWARD:
        dropout_backward(f32(b[0]), f32(b[1]), f32(b[2]), (int64_t)n * i[0], i[1] != 0);
        return {};
    case Op::ACTIVATION_FORWARD:
        activation_forward((Activation)i[0], f[0], f32(b[0]), f32(b[1]), (int64_t)n * i[1]);
        return {};
    case Op::ACTIVATION_BACKWARD:
        activation_backward((Activation)i[0], f[0], f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), (int64_t)n * i[1], i[2] != 0);
        return {};
    case Op::SOFTMAX_FORWARD:
        softmax_forward(f32(b[0]), f32(b[1]), (int64_t)n * i[0], i[1], i[2], i[3] != 0);
        return {};
    case Op::SOFTMAX_BACKWARD:
        softmax_backward(f32(b[0]), f32(b[1]), f32(b[2]), (int64_t)n * i[0], i[1], i[2], i[3] != 0, i[4] != 0);
        return {};
    case Op::ADD_FORWARD:
        add_forward(f32(b[0]), f32(b[1]), f32(b[2]), (int64_t)n * i[0]);
        return {};
    case Op::COPY:
        copy_forward(f32(b[0]), f32(b[1]), (int64_t)n * i[0], i[1] != 0);
        return {};
    case Op::CONCAT_FORWARD:
        concat_copy(f32(b[0]), f32(b[1]), (int64_t)n * i[0], i[1], i[2], i[3]);
        return {};
    case Op::CONCAT_BACKWARD:
        slice_copy(f32(b[0]), f32(b[1]), (int64_t)n * i[0], i[1], i[2], i[3], i[4] != 0);
        return {};
    case Op::NLL_LOSS_FORWARD: {
        float loss = 0;
        int64_t correct = 0;
        nl_status s = nll_loss_forward(f32(b[0]), i32(b[1]), n, i[0], ce_params(b[4], i[1], i[2], 0.f), &loss, &correct);
        if (s != NL_STATUS_OK) return label_error(s, i[0]);
        *f32(b[2]) = loss;
        if (b[3] >= 0) *i32(b[3]) = (int32_t)correct;
        return {};
    }
    case Op::NLL_LOSS_BACKWARD:
        nll_loss_backward(i32(b[0]), f32(b[1]), n, i[0], ce_params(b[2], i[1], i[2], 0.f), i[3] != 0);
        return {};
    case Op::POINT_LOSS_FORWARD:
        *f32(b[2]) = point_loss_forward((PointLoss)i[0], f32(b[0]), f32(b[1]), (int64_t)n * i[1], (Reduction)i[2], f[0]);
        return {};
    case Op::POINT_LOSS_BACKWARD: {
        // The two gradients may need different accumulate flags: run each on its own.
        size_t count = (int64_t)n * i[1];
        if (b[2] >= 0) point_loss_backward((PointLoss)i[0], f32(b[0]), f32(b[1]), f32(b[2]), nullptr, count, (Reduction)i[2], f[0], i[3] != 0);
        if (b[3] >= 0) point_loss_backward((PointLoss)i[0], f32(b[0]), f32(b[1]), nullptr, f32(b[3]), count, (Reduction)i[2], f[0], i[4] != 0);
        return {};
    }
    case Op::ONE_HOT: {
        const int32_t * lab = i32(b[0]);
        for (int r = 0; r < n; r++)
            if (lab[r] < 0 || lab[r] >= i[0]) return label_error(NL_STATUS_BAD_LABEL, i[0]);
        one_hot(lab, f32(b[1]), n, i[0]);
        return {};
    }
    case Op::RMSPROP_STEP: {
        RmspropParams hp;
        hp.lr = lr_or(f[0]);
        hp.alpha = f[1];
        hp.eps = f[2];
        hp.weight_decay = f[3];
        hp.momentum = momentum_or(f[4]);
        hp.centered = i[0] != 0;
        hp.maximize = i[1] != 0;
        float *p = f32(b[0]), *sq = f32(b[2]), *mom = f32(b[3]), *avg = f32(b[4]);
        const float * g = f32(b[1]);
        for_chunks((size_t)prog_.buffers[b[0]].elems, [&](size_t at, size_t len) {
            rmsprop_step(p + at, g + at, sq + at, mom ? mom + at : nullptr, avg ? avg + at : nullptr, len, hp, steps_);
        });
        return {};
    }
    case Op::ADAGRAD_STEP: {
        AdagradParams hp;
        hp.lr = lr_or(f[0]);
        hp.lr_decay = f[1];
        hp.weight_decay = f[2];
        hp.eps = f[3];
        hp.maximize = i[0] != 0;
        float *p = f32(b[0]), *sum = f32(b[2]);
        const float * g = f32(b[1]);
        for_chunks((size_t)prog_.buffers[b[0]].elems, [&](size_t at, size_t len) { adagrad_step(p + at, g + at, sum + at, len, hp, steps_); });
        return {};
    }
    case Op::GRAD_NORM_SQ: {
        float * acc = f32(b[1]);
        double s = sum_squares(f32(b[0]), (size_t)prog_.buffers[b[0]].elems);
        *acc = (float)((i[0] ? 0.0 : (double)*acc) + s);
        return {};
    }
    case Op::CLIP_GRAD: {
        // torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6), clamped to 1.
        double total = std::sqrt((double)*f32(b[1]));
        float coef = (float)std::min(1.0, (double)f[0] / (total + 1e-6));
        scale_inplace(f32(b[0]), (size_t)prog_.buffers[b[0]].elems, coef);
        return {};
    }
    case Op::COUNT: break;
    }
    return Status::error(NL_STATUS_INTERNAL, "unknown opcode reached the executor");
}

Status Session::exec_all(const std::vector<Instr> & section, int n) {
    for (const Instr & in : section) {
        Status st;
        try {
            st = exec(in, n);   // a kernel's exception (on any pool thread) is rethrown here by the pool
        } catch (...) {
            st = current_exception_status(std::string("in ") + op_info(in.op).name);
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
    steps_++;
    return exec_all(prog_.step, n);
}

Status Session::run_epoch(Split split, const EpochOptions & o, ProgressFn progress, void * ctx, EpochResult & r) {
    return guarded("running an epoch", [&] { return run_epoch_unguarded(split, o, progress, ctx, r); });
}

Status Session::run_epoch_unguarded(Split split, const EpochOptions & o, ProgressFn progress, void * ctx, EpochResult & r) {
    using clock = std::chrono::steady_clock;
    const Data & d = data_[split == SPLIT_TEST];
    r = EpochResult{};
    if (!d.loaded()) return Status::error(NL_STATUS_INVALID_ARGUMENT, std::string("no ") + (split == SPLIT_TEST ? "test" : "training") + " data was loaded");
    if (prog_.targets >= 0 && !d.targets)
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
        int32_t * labels_out = prog_.labels >= 0 ? i32(prog_.labels) : nullptr;
        if (d.images) {
            gather_batch_u8(d.images.get(), d.labels.get(), (size_t)d.sample_size, order + first, n, f32(prog_.input), labels_out);
        } else {
            gather_batch_f32(d.features.get(), d.labels.get(), (size_t)d.sample_size, order + first, n, f32(prog_.input), labels_out);
            if (prog_.targets >= 0)
                gather_batch_f32(d.targets.get(), nullptr, (size_t)d.target_size, order + first, n, f32(prog_.targets), nullptr);
        }
        if (o.lr) lr_ = o.lr[bi];
        if (o.momentum) momentum_ = o.momentum[bi];
        Status st = exec_all(prog_.forward, n);
        if (!st.ok()) return st;
        float loss = prog_.loss >= 0 ? *f32(prog_.loss) : 0.f;
        auto at = [&] { return "at batch " + std::to_string(bi + 1) + " of " + std::to_string(batches); };
        if (!std::isfinite(loss))
            return Status::error(NL_STATUS_NON_FINITE, "the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " " + at() +
                                                           (o.train ? "; training stopped before applying that batch" : ""));
        if (o.train) {
            st = exec_all(prog_.backward, n);
            if (!st.ok()) return st;
            if (!gradients_finite()) return check_gradients(at() + "; training stopped before applying that batch");
            steps_++;
            st = exec_all(prog_.step, n);
            if (!st.ok()) return st;
        }
        if (o.predictions) argmax_rows(f32(prog_.logits), o.predictions + first, n, classes);
        if (o.probabilities) softmax_forward(f32(prog_.logits), o.probabilities + first * classes, n, classes, 1, false);
        if (o.outputs) std::memcpy(o.outputs + first * classes, f32(prog_.logits), (size_t)n * (size_t)classes * sizeof(float));
        if (o.batch_losses) o.batch_losses[bi] = loss;
        r.loss_sum += loss;
        r.correct += prog_.correct >= 0 ? *i32(prog_.correct) : 0;
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
    r.next_batch = bi;
    r.seconds = std::chrono::duration<double>(clock::now() - t0).count();
    return {};
}

} // namespace nl
