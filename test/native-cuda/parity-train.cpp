// The training half of the parity program (parity.cpp): the quickstart MLP (784-512-512-10, SGD
// lr 2e-2) and a fashion-cnn-shaped CNN (conv-relu-pool x2, linear) trained on the CPU and on CUDA
// from the same weights, data and sample order, through Session::run_epoch (the host loop on the
// CPU, the device-resident loop on CUDA): loss curves, correct counts and steps() compared; a NaN
// weight halts both with the same message; then the CUDA epoch timed at batch 64 and 256.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>
#include "cuda-loader.h"
#include "netloom.h"
#include "program-builder.h"
#include "test-util.h"

using nltest::check;

namespace {

constexpr int TRAIN_EPOCHS = 5;    // 315 steps of 64
constexpr float LEARNED = 0.7f;    // the last batch loss is below this fraction of the first

using Ins = std::vector<int32_t>;
Ins ins(nl::Op op, std::vector<int32_t> b, std::vector<int32_t> i, std::vector<float> f = {}) { return ProgramBuilder::ins(op, b, i, f); }

// A model: its program words and its parameters (id, fan_in) to initialise.
struct Model {
    std::string name;
    std::vector<int32_t> words;
    std::vector<std::pair<int, int>> params;
};

// Softmax cross-entropy on `logits` (10 classes) and SGD on every (param, grad) pair.
void add_loss_and_sgd(ProgramBuilder & b, int logits, int dlogits, int lab, int probs, int loss, int correct,
                      const std::vector<std::pair<int, int>> & pg, float lr) {
    b.fwd.push_back(ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {logits, lab, probs, loss, correct, -1}, {10, -100, 0}, {0.f}));
    b.bwd.insert(b.bwd.begin(), ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dlogits, -1}, {10, 0, -100, 0}, {0.f}));
    for (auto & p : pg) b.step.push_back(ins(nl::Op::SGD_STEP, {p.first, p.second, -1}, {0, 0}, {lr, 0, 0, 0}));
}

Model mlp(int batch) {
    ProgramBuilder b;
    b.batch = batch;
    Model m;
    m.name = "MLP 784-512-512-10";
    const int dims[4] = {784, 512, 512, 10};
    int x = b.add(0, 1, 784), lab = b.add(1, 1, 1);
    int h[4] = {x, 0, 0, 0}, a[4] = {x, 0, 0, 0}, W[3], B[3], dW[3], dB[3];
    std::vector<std::pair<int, int>> pg;
    for (int l = 0; l < 3; l++) {
        W[l] = b.add(0, 0, dims[l] * dims[l + 1]);
        B[l] = b.add(0, 0, dims[l + 1]);
        dW[l] = b.add(0, 0, dims[l] * dims[l + 1]);
        dB[l] = b.add(0, 0, dims[l + 1]);
        h[l + 1] = b.add(0, 1, dims[l + 1]);
        b.fwd.push_back(ins(nl::Op::LINEAR_FORWARD, {a[l], W[l], B[l], h[l + 1]}, {dims[l], dims[l + 1]}));
        a[l + 1] = h[l + 1];
        if (l < 2) {
            a[l + 1] = b.add(0, 1, dims[l + 1]);
            b.fwd.push_back(ins(nl::Op::RELU_FORWARD, {h[l + 1], a[l + 1]}, {dims[l + 1]}));
        }
        m.params.push_back({W[l], dims[l]});
        m.params.push_back({B[l], dims[l]});
        pg.push_back({W[l], dW[l]});
        pg.push_back({B[l], dB[l]});
    }
    int probs = b.add(0, 1, 10), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1);
    int dh[4], da[4];
    for (int l = 1; l <= 3; l++) dh[l] = b.add(0, 1, dims[l]), da[l] = b.add(0, 1, dims[l]);
    for (int l = 2; l >= 0; l--) {   // dh[l+1] -> dW, dB, da[l]; relu: da[l] -> dh[l]
        b.bwd.push_back(ins(nl::Op::LINEAR_BACKWARD, {dh[l + 1], a[l], W[l], l ? da[l] : -1, dW[l], dB[l]}, {dims[l], dims[l + 1], 0}));
        if (l) b.bwd.push_back(ins(nl::Op::RELU_BACKWARD, {da[l], a[l], dh[l]}, {dims[l], 0}));
    }
    add_loss_and_sgd(b, h[3], dh[3], lab, probs, loss, correct, pg, 2e-2f);   // the quickstart has 1e-3: too slow to learn in 315 steps
    m.words = b.words({x, lab, h[3], probs, loss, correct, 10, -1});
    return m;
}

Model cnn(int batch) {
    ProgramBuilder b;
    b.batch = batch;
    Model m;
    m.name = "CNN conv8-relu-pool-conv16-relu-pool-linear";
    int x = b.add(0, 1, 784), lab = b.add(1, 1, 1);
    std::vector<std::pair<int, int>> pg;
    // conv geometry: cin h w cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw groups ho wo; pool: c h w kh kw sh sw ph pw dh dw ho wo
    struct Stage { int cin, hw, cout; } st[2] = {{1, 28, 8}, {8, 14, 16}};
    int in = x, W[2], B[2], dW[2], dB[2], c[2], r[2], p[2], idx[2];
    for (int k = 0; k < 2; k++) {
        const int ci = st[k].cin, s = st[k].hw, co = st[k].cout;
        W[k] = b.add(0, 0, co * ci * 9), B[k] = b.add(0, 0, co), dW[k] = b.add(0, 0, co * ci * 9), dB[k] = b.add(0, 0, co);
        c[k] = b.add(0, 1, co * s * s), r[k] = b.add(0, 1, co * s * s), p[k] = b.add(0, 1, co * s * s / 4), idx[k] = b.add(1, 1, co * s * s / 4);
        b.fwd.push_back(ins(nl::Op::CONV2D_FORWARD, {in, W[k], B[k], c[k]}, {ci, s, s, co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, s, s}));
        b.fwd.push_back(ins(nl::Op::RELU_FORWARD, {c[k], r[k]}, {co * s * s}));
        b.fwd.push_back(ins(nl::Op::MAX_POOL2D_FORWARD, {r[k], p[k], idx[k]}, {co, s, s, 2, 2, 2, 2, 0, 0, 1, 1, s / 2, s / 2}));
        m.params.push_back({W[k], ci * 9});
        m.params.push_back({B[k], ci * 9});
        pg.push_back({W[k], dW[k]});
        pg.push_back({B[k], dB[k]});
        in = p[k];
    }
    int FW = b.add(0, 0, 784 * 10), FB = b.add(0, 0, 10), dFW = b.add(0, 0, 784 * 10), dFB = b.add(0, 0, 10), y = b.add(0, 1, 10);
    b.fwd.push_back(ins(nl::Op::LINEAR_FORWARD, {p[1], FW, FB, y}, {784, 10}));
    m.params.push_back({FW, 784});
    m.params.push_back({FB, 784});
    pg.push_back({FW, dFW});
    pg.push_back({FB, dFB});
    int probs = b.add(0, 1, 10), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1), dy = b.add(0, 1, 10);
    int dp[2], dr[2], dc[2];
    for (int k = 0; k < 2; k++) {
        const int e = st[k].cout * st[k].hw * st[k].hw;
        dp[k] = b.add(0, 1, e / 4), dr[k] = b.add(0, 1, e), dc[k] = b.add(0, 1, e);
    }
    b.bwd.push_back(ins(nl::Op::LINEAR_BACKWARD, {dy, p[1], FW, dp[1], dFW, dFB}, {784, 10, 0}));
    for (int k = 1; k >= 0; k--) {
        const int ci = st[k].cin, s = st[k].hw, co = st[k].cout;
        b.bwd.push_back(ins(nl::Op::MAX_POOL2D_BACKWARD, {dp[k], idx[k], dr[k]}, {co, s, s, 2, 2, 2, 2, 0, 0, 1, 1, s / 2, s / 2, 0}));
        b.bwd.push_back(ins(nl::Op::RELU_BACKWARD, {dr[k], r[k], dc[k]}, {co * s * s, 0}));
        b.bwd.push_back(ins(nl::Op::CONV2D_BACKWARD, {dc[k], k ? p[0] : x, W[k], k ? dp[0] : -1, dW[k], dB[k]},
                            {ci, s, s, co, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, s, s, 0}));
    }
    add_loss_and_sgd(b, y, dy, lab, probs, loss, correct, pg, 1e-2f);
    m.words = b.words({x, lab, y, probs, loss, correct, 10, -1});
    return m;
}

// Synthetic 28x28 images a model can learn: noise plus a bright band at rows 2l..2l+4 for label l.
struct Data {
    std::vector<uint8_t> images, labels;
    int64_t count;
};
Data make_data(int64_t count) {
    nltest::Rng rng(7);
    Data d;
    d.images.resize((size_t)count * 784);
    d.labels.resize((size_t)count);
    d.count = count;
    for (int64_t i = 0; i < count; i++) {
        const int l = rng.below(10);
        d.labels[(size_t)i] = (uint8_t)l;
        for (int p = 0; p < 784; p++) {
            const int row = p / 28;
            d.images[(size_t)(i * 784 + p)] = (uint8_t)(rng.below(96) + (row >= 2 * l && row < 2 * l + 5 ? 150 : 0));
        }
    }
    return d;
}

std::unique_ptr<nl::Session> session(const Model & m, std::unique_ptr<nl::Backend> be, const Data & d) {
    std::unique_ptr<nl::Session> s;
    nl::Status st = nl::Session::create(m.words.data(), m.words.size(), std::move(be), s);
    if (!st.ok()) {
        check(false, "%s: the session starts: %s", m.name.c_str(), st.message.c_str());
        return nullptr;
    }
    nltest::Rng rng(42);   // torch's default init range: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for (auto & p : m.params) {
        std::vector<float> v(s->buffer_bytes(p.first) / 4);
        const float bound = 1.f / std::sqrt((float)p.second);
        for (float & x : v) x = rng.uniform(-bound, bound);
        s->set_buffer(p.first, v.data(), v.size() * 4);
    }
    st = s->set_dataset(nl::SPLIT_TRAIN, d.images.data(), d.labels.data(), d.count, 784);
    check(st.ok(), "%s: the dataset loads: %s", m.name.c_str(), st.message.c_str());
    return s;
}

// `epochs` epochs over `d` (shuffled the same way on both); the batch losses, in order.
std::vector<float> train(nl::Session & s, const Data & d, int batch, int epochs, int64_t & correct, nl::Status & st) {
    std::vector<float> losses;
    std::vector<int32_t> order((size_t)d.count);
    nltest::Rng rng(3);
    correct = 0;
    for (int e = 0; e < epochs && st.ok(); e++) {
        for (size_t k = 0; k < order.size(); k++) order[k] = (int32_t)k;
        for (size_t k = order.size() - 1; k > 0; k--) std::swap(order[k], order[(size_t)rng.below((int)k + 1)]);
        nl::EpochOptions o;
        o.order = order.data();
        o.count = d.count;
        o.batch = batch;
        std::vector<float> bl((size_t)((d.count + batch - 1) / batch));
        o.batch_losses = bl.data();
        nl::EpochResult r;
        st = s.run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
        losses.insert(losses.end(), bl.begin(), bl.begin() + r.batches);
        correct += r.correct;
    }
    return losses;
}

void compare_training(const Model & m, const Data & d, int batch, int epochs, bool tf32) {
    std::unique_ptr<nl::Backend> cpu, gpu;
    nl::cpu_backend_create(0, cpu);
    nl::Status st = nl::cuda_backend_create(0, tf32, gpu);
    if (!st.ok()) return check(false, "the CUDA backend starts: %s", st.message.c_str());
    auto a = session(m, std::move(cpu), d), b = session(m, std::move(gpu), d);
    if (!a || !b) return;
    nl::Status sa, sb;
    int64_t ca = 0, cb = 0;
    auto la = train(*a, d, batch, epochs, ca, sa), lb = train(*b, d, batch, epochs, cb, sb);
    check(sa.ok() && sb.ok(), "%s trains on both: %s%s", m.name.c_str(), sa.message.c_str(), sb.message.c_str());
    check(la.size() == lb.size() && a->steps() == b->steps(), "%s: %zu steps on each (steps() %lld / %lld)", m.name.c_str(), la.size(),
          (long long)a->steps(), (long long)b->steps());
    if (la.size() != lb.size() || la.empty()) return;
    double worst = 0;
    for (size_t k = 0; k < la.size(); k++) worst = std::max(worst, (double)std::fabs(la[k] - lb[k]) / std::max(std::fabs(la[k]), 1e-3f));
    // Over hundreds of steps rounding differences compound; TF32 compounds faster.
    const double tol = tf32 ? 5e-2 : 5e-3;
    check(worst <= tol, "%s [%s]: loss curves agree, worst relative difference %.2e <= %.0e (first %.4f / %.4f, last %.4f / %.4f)",
          m.name.c_str(), tf32 ? "tf32" : "fp32", worst, tol, la.front(), lb.front(), la.back(), lb.back());
    check(la.back() < la.front() * LEARNED, "%s learns (loss %.4f -> %.4f)", m.name.c_str(), la.front(), la.back());
    check(std::llabs(ca - cb) <= (int64_t)(0.01 * (double)(d.count * epochs)) + 2, "%s: correct counts agree (%lld / %lld)", m.name.c_str(),
          (long long)ca, (long long)cb);
}

// A NaN weight: both loops stop at batch 1 with the same message and take no step.
void compare_halt(const Model & m, const Data & d) {
    std::unique_ptr<nl::Backend> cpu, gpu;
    nl::cpu_backend_create(0, cpu);
    if (!nl::cuda_backend_create(0, false, gpu).ok()) return;
    auto a = session(m, std::move(cpu), d), b = session(m, std::move(gpu), d);
    if (!a || !b) return;
    std::string msg[2];
    int64_t steps[2];
    int k = 0;
    for (nl::Session * s : {a.get(), b.get()}) {
        nl::Status st;
        int64_t correct = 0;
        train(*s, d, 64, 1, correct, st);   // a good epoch first: the step counter moves
        std::vector<float> w(s->buffer_bytes(m.params[0].first) / 4);
        s->get_buffer(m.params[0].first, w.data(), w.size() * 4);
        w[5] = NAN;
        s->set_buffer(m.params[0].first, w.data(), w.size() * 4);
        train(*s, d, 64, 1, correct, st);
        msg[k] = st.message;
        steps[k++] = s->steps();
    }
    check(msg[0] == msg[1] && steps[0] == steps[1] && !msg[0].empty(), "%s: a NaN weight halts both alike: \"%s\" / \"%s\", steps %lld / %lld",
          m.name.c_str(), msg[0].c_str(), msg[1].c_str(), (long long)steps[0], (long long)steps[1]);
}

void time_steps(const Model & m, const Data & d, int batch) {
    std::unique_ptr<nl::Backend> gpu;
    if (!nl::cuda_backend_create(0, true, gpu).ok()) return;
    auto s = session(m, std::move(gpu), d);
    if (!s) return;
    nl::Status st;
    int64_t correct = 0;
    train(*s, d, batch, 1, correct, st);   // warm-up: graphs captured, memory touched
    const auto t0 = std::chrono::steady_clock::now();
    auto losses = train(*s, d, batch, 2, correct, st);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("TIME  %s batch %d: %.3f ms/step, %.0f samples/s (%zu steps)\n", m.name.c_str(), batch,
                1e3 * sec / (double)std::max<size_t>(losses.size(), 1), (double)d.count * 2 / sec, losses.size());
}

} // namespace

void run_training_parity(bool have_cuda) {
    const Data d = make_data(4000);   // 63 batches of 64 (the last partial): both graph shapes
    if (!have_cuda) {
        for (const Model & m : {mlp(64), cnn(64)}) {   // the models and the learning threshold, on the CPU alone
            std::unique_ptr<nl::Backend> cpu;
            nl::cpu_backend_create(0, cpu);
            auto s = session(m, std::move(cpu), d);
            nl::Status st;
            int64_t correct = 0;
            std::vector<float> l;
            if (s) l = train(*s, d, 64, TRAIN_EPOCHS, correct, st);
            check(s && st.ok() && !l.empty() && l.back() < l.front() * LEARNED, "%s trains on the CPU (loss %.4f -> %.4f): %s", m.name.c_str(),
                  l.empty() ? 0.f : l.front(), l.empty() ? 0.f : l.back(), st.message.c_str());
        }
        return;
    }
    for (bool tf32 : {false, true}) {
        compare_training(mlp(64), d, 64, TRAIN_EPOCHS, tf32);   // 315 steps
        compare_training(cnn(64), d, 64, TRAIN_EPOCHS, tf32);
    }
    compare_halt(mlp(64), d);
    for (int batch : {64, 256}) {
        time_steps(mlp(batch), d, batch);
        time_steps(cnn(batch), d, batch);
    }
}
