// Session::run_epoch's device-resident path (backend.h's DeviceEpoch; the CUDA backend's loop,
// native/cuda/device-loop.cu) checked without a GPU: HostLoop below is a Backend that answers
// device_loop() and runs each enqueued batch on the CPU backend in exactly the order device-loop.cu
// enqueues it (gather, forward, loss check, backward, gradient check, clipping, step checks, steps,
// halting at the first non-finite value). Against the same program on the plain CPU path, the
// chunked Session path must give bitwise the same losses, weights, results, steps() and messages.
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include "netloom.h"
#include "program-builder.h"
#include "test-util.h"

using nltest::check;

namespace {

class HostLoop final : public nl::Backend {
public:
    explicit HostLoop(std::unique_ptr<nl::Backend> cpu) : b_(std::move(cpu)) {}
    const char * name() const override { return "host loop"; }
    int threads() const override { return b_->threads(); }
    nl::Status alloc_buffers(const nl::Program & p) override { prog_ = &p; return b_->alloc_buffers(p); }
    nl::Status set_buffer(int32_t id, const void * s, size_t n) override { return b_->set_buffer(id, s, n); }
    nl::Status get_buffer(int32_t id, void * d, size_t n) override { return b_->get_buffer(id, d, n); }
    nl::Status set_dataset(nl::Split s, const nl::DatasetView & v, bool borrow) override { return b_->set_dataset(s, v, borrow); }
    nl::Status gather_batch(nl::Split s, const int32_t * i, int n) override { return b_->gather_batch(s, i, n); }
    nl::Status run(const nl::Instr & in, const nl::StepState & s) override { return b_->run(in, s); }
    bool supports_op(nl::Op op) const override { return b_->supports_op(op); }
    nl::Status watch_gradients(const std::vector<int32_t> & ids) override { return b_->watch_gradients(ids); }
    bool gradients_finite() override { return b_->gradients_finite(); }
    bool gradients_have_nan() override { return b_->gradients_have_nan(); }
    nl::Status check_step(const nl::Instr & in, const nl::StepState & s, bool u, unsigned & bits) override { return b_->check_step(in, s, u, bits); }
    uint64_t exact_step_checks() const override { return b_->exact_step_checks(); }
    nl::Status synchronize() override { return b_->synchronize(); }

    bool device_loop() const override { return true; }
    int chunks = 0;   // epoch_run calls: the Session reads back in chunks, not per batch

    nl::Status epoch_begin(const nl::DeviceEpoch & e) override {
        e_ = e;
        order_.assign(e.order, e.order + e.count);
        lr_.clear();
        momentum_.clear();
        if (e.lr) lr_.assign(e.lr, e.lr + e.batches);
        if (e.momentum) momentum_.assign(e.momentum, e.momentum + e.batches);
        losses_.assign((size_t)e.batches, 0.f);
        correct_.assign((size_t)e.batches, 0);
        committed_ = e.steps;
        halt_ = nl::DeviceChunk{};
        return {};
    }
    nl::Status epoch_run(int64_t b0, int64_t b1) override {
        chunks++;
        for (int64_t b = b0; b < b1; b++) {
            if (halt_.halt_batch >= 0) break;   // the device runs on but writes nothing persistent
            nl::Status st = batch(b);
            if (!st.ok()) return st;
        }
        return {};
    }
    nl::Status epoch_read(int64_t b0, int64_t b1, float * losses, int32_t * correct, nl::DeviceChunk & out) override {
        std::memcpy(losses, losses_.data() + b0, (size_t)(b1 - b0) * 4);
        std::memcpy(correct, correct_.data() + b0, (size_t)(b1 - b0) * 4);
        out = halt_;
        out.steps = committed_;
        return {};
    }

private:
    nl::Status section(const std::vector<nl::Instr> & s, size_t from, size_t to, const nl::StepState & st) {
        for (size_t k = from; k < to; k++) {
            nl::Status r = b_->run(s[k], st);
            if (!r.ok()) return r;
        }
        return {};
    }
    void halt(int64_t b, int kind, unsigned bits = 0) {
        halt_.halt_batch = b;
        halt_.halt = kind;
        halt_.step_bits = bits;
    }
    nl::Status batch(int64_t b) {
        const nl::Program & p = *prog_;
        const int n = (int)std::min<int64_t>(e_.batch, e_.count - b * e_.batch);
        nl::StepState s;
        s.n = n;
        s.training = e_.train;
        s.lr = lr_.empty() ? -1.f : lr_[(size_t)b];
        s.momentum = momentum_.empty() ? -1.f : momentum_[(size_t)b];
        s.step = committed_;
        s.seed = e_.seed;
        nl::Status st = b_->gather_batch(e_.split, order_.data() + b * e_.batch, n);
        if (st.ok()) st = section(p.forward, 0, p.forward.size(), s);
        float loss = 0.f;
        if (st.ok() && p.loss >= 0) st = b_->get_buffer(p.loss, &loss, 4);
        if (st.ok() && p.correct >= 0) st = b_->get_buffer(p.correct, &correct_[(size_t)b], 4);
        if (!st.ok()) return st;
        losses_[(size_t)b] = loss;
        if (!std::isfinite(loss)) return halt(b, std::isnan(loss) ? nl::HALT_LOSS_NAN : nl::HALT_LOSS_INF), nl::Status{};
        if (!e_.train) return {};
        if (!(st = section(p.backward, 0, p.backward.size(), s)).ok()) return st;
        if (!b_->gradients_finite()) return halt(b, b_->gradients_have_nan() ? nl::HALT_GRADIENTS_NAN : nl::HALT_GRADIENTS_INF), nl::Status{};
        s.step = committed_ + 1;
        const size_t opt = e_.first_optimizer_step;
        if (!(st = section(p.step, 0, opt, s)).ok()) return st;
        unsigned bits = 0;
        for (size_t k = opt; k < p.step.size(); k++) {
            unsigned one = 0;
            if (!(st = b_->check_step(p.step[k], s, false, one)).ok()) return st;
            bits |= one;
        }
        if (bits) return halt(b, nl::HALT_STEP, bits), nl::Status{};
        if (!(st = section(p.step, opt, p.step.size(), s)).ok()) return st;
        committed_++;
        return {};
    }

    std::unique_ptr<nl::Backend> b_;
    const nl::Program * prog_ = nullptr;
    nl::DeviceEpoch e_;
    std::vector<int32_t> order_;
    std::vector<float> lr_, momentum_, losses_;
    std::vector<int32_t> correct_;
    int64_t committed_ = 0;
    nl::DeviceChunk halt_;
};

// 6 features -> linear 6x5 -> relu -> linear 5x3 -> softmax CE, SGD with momentum and clipping.
struct Model {
    std::vector<int32_t> words;
    int W1, W2;
};
Model model() {
    ProgramBuilder b;
    b.batch = 8;
    Model m;
    int x = b.add(0, 1, 6), lab = b.add(1, 1, 1);
    m.W1 = b.add(0, 0, 30);
    int b1 = b.add(0, 0, 5), h = b.add(0, 1, 5), a = b.add(0, 1, 5);
    m.W2 = b.add(0, 0, 15);
    int b2 = b.add(0, 0, 3), y = b.add(0, 1, 3), probs = b.add(0, 1, 3), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1);
    int dy = b.add(0, 1, 3), da = b.add(0, 1, 5), dh = b.add(0, 1, 5), dW1 = b.add(0, 0, 30), db1 = b.add(0, 0, 5), dW2 = b.add(0, 0, 15),
        db2 = b.add(0, 0, 3), norm = b.add(0, 0, 1);
    b.fwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_FORWARD, {x, m.W1, b1, h}, {6, 5}));
    b.fwd.push_back(ProgramBuilder::ins(nl::Op::RELU_FORWARD, {h, a}, {5}));
    b.fwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_FORWARD, {a, m.W2, b2, y}, {5, 3}));
    b.fwd.push_back(ProgramBuilder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {y, lab, probs, loss, correct, -1}, {3, -100, 0}, {0.f}));
    b.bwd.push_back(ProgramBuilder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dy, -1}, {3, 0, -100, 0}, {0.f}));
    b.bwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_BACKWARD, {dy, a, m.W2, da, dW2, db2}, {5, 3, 0}));
    b.bwd.push_back(ProgramBuilder::ins(nl::Op::RELU_BACKWARD, {da, a, dh}, {5, 0}));
    b.bwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_BACKWARD, {dh, x, m.W1, -1, dW1, db1}, {6, 5, 0}));
    const int pg[4][2] = {{m.W1, dW1}, {b1, db1}, {m.W2, dW2}, {b2, db2}};
    for (auto & g : pg) b.step.push_back(ProgramBuilder::ins(nl::Op::GRAD_NORM_SQ, {g[1], norm}, {g[0] == m.W1 ? 1 : 0}));
    for (auto & g : pg) b.step.push_back(ProgramBuilder::ins(nl::Op::CLIP_GRAD, {g[1], norm}, {}, {2.f}));
    for (auto & g : pg) b.step.push_back(ProgramBuilder::ins(nl::Op::SGD_STEP, {g[0], g[1], b.add(0, 0, g[0] == m.W1 ? 30 : g[0] == m.W2 ? 15 : g[0] == b1 ? 5 : 3)}, {0, 0}, {0.1f, 0.9f, 0, 0}));
    m.words = b.words({x, lab, y, probs, loss, correct, 3, -1});
    return m;
}

struct Run {
    std::unique_ptr<nl::Session> s;
    HostLoop * loop = nullptr;
};

Run make(const Model & m, bool device, const std::vector<float> & features, const std::vector<uint8_t> & labels) {
    Run r;
    std::unique_ptr<nl::Backend> cpu;
    nl::cpu_backend_create(1, cpu);
    if (device) {
        r.loop = new HostLoop(std::move(cpu));
        cpu.reset(r.loop);
    }
    nl::Status st = nl::Session::create(m.words.data(), m.words.size(), std::move(cpu), r.s);
    check(st.ok(), "the %s session starts: %s", device ? "device-loop" : "CPU", st.message.c_str());
    if (!st.ok()) return r;
    nltest::Rng rng(5);
    for (int id : {m.W1, m.W2}) {
        std::vector<float> w(r.s->buffer_bytes(id) / 4);
        for (float & v : w) v = rng.uniform(-0.5f, 0.5f);
        r.s->set_buffer(id, w.data(), w.size() * 4);
    }
    r.s->set_dataset_f32(nl::SPLIT_TRAIN, features.data(), labels.data(), nullptr, (int64_t)labels.size(), 6, 0);
    return r;
}

struct Outcome {
    nl::EpochResult r;
    nl::Status st;
    std::vector<float> losses, W1;
    int events = 0;
    int64_t last_event_batch = 0, steps = 0;
};

Outcome epoch(Run & run, const Model & m, nl::EpochOptions o) {
    Outcome out;
    std::vector<float> bl(64, -1.f);
    o.batch_losses = bl.data();
    auto progress = [](void * ctx, const nl::ProgressEvent & ev) {
        auto * oc = static_cast<Outcome *>(ctx);
        oc->events++;
        oc->last_event_batch = ev.batch;
    };
    out.st = run.s->run_epoch(nl::SPLIT_TRAIN, o, progress, &out, out.r);
    out.losses = bl;
    out.W1.resize(30);
    run.s->get_buffer(m.W1, out.W1.data(), 120);
    out.steps = run.s->steps();
    return out;
}

bool bitwise(const std::vector<float> & a, const std::vector<float> & b) {   // NaN included
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

bool same(const Outcome & a, const Outcome & b) {
    return a.st.code == b.st.code && a.st.message == b.st.message && a.r.loss_sum == b.r.loss_sum && a.r.batches == b.r.batches &&
           a.r.samples == b.r.samples && a.r.correct == b.r.correct && a.r.next_batch == b.r.next_batch && a.r.stopped == b.r.stopped &&
           bitwise(a.losses, b.losses) && bitwise(a.W1, b.W1) && a.steps == b.steps;
}

} // namespace

int main() {
    const Model m = model();
    std::vector<float> features(101 * 6);
    std::vector<uint8_t> labels(101);
    nltest::Rng rng(9);
    for (float & v : features) v = rng.uniform();
    for (size_t i = 0; i < labels.size(); i++) labels[i] = (uint8_t)((features[i * 6] > 0) + (features[i * 6 + 1] > 0.5f));
    std::vector<int32_t> order(101);
    for (int i = 0; i < 101; i++) order[(size_t)i] = (i * 37) % 101;
    std::vector<float> lr(13), mom(13);
    for (int b = 0; b < 13; b++) lr[(size_t)b] = 0.05f + 0.01f * (float)b, mom[(size_t)b] = 0.5f + 0.02f * (float)b;

    Run cpu = make(m, false, features, labels), dev = make(m, true, features, labels);
    if (!cpu.s || !dev.s) return nltest::finish();
    nl::EpochOptions o;
    o.order = order.data();
    o.count = 101;   // 12 batches of 8 and one of 5: both batch shapes
    o.batch = 8;
    o.event_interval_s = 0;
    o.lr = lr.data();
    o.momentum = mom.data();
    for (int e = 0; e < 3; e++) {
        Outcome a = epoch(cpu, m, o), b = epoch(dev, m, o);
        check(a.st.ok() && same(a, b), "epoch %d: losses, weights, results and steps() are bitwise the host loop's (loss sum %.6f / %.6f, steps %lld / %lld)",
              e + 1, a.r.loss_sum, b.r.loss_sum, (long long)a.steps, (long long)b.steps);
        check(b.events > 0 && b.last_event_batch == 13, "epoch %d: progress events come, the last at batch 13 (%d events, last %lld)", e + 1,
              b.events, (long long)b.last_event_batch);
    }
    // With a long event interval the first chunk (4 batches) times the pace and the rest comes in one.
    nl::EpochOptions slow = o;
    slow.event_interval_s = 60;
    dev.loop->chunks = 0;
    Outcome ca = epoch(cpu, m, slow), cb = epoch(dev, m, slow);
    check(same(ca, cb) && dev.loop->chunks == 2 && cb.events == 1, "batches are enqueued in chunks (%d epoch_run calls, %d event)",
          dev.loop->chunks, cb.events);

    nl::EpochOptions eval = o;
    eval.train = false;
    eval.lr = eval.momentum = nullptr;
    check(same(epoch(cpu, m, eval), epoch(dev, m, eval)), "an evaluation epoch matches");

    nl::EpochOptions resume = o;
    resume.start_batch = 7;
    check(same(epoch(cpu, m, resume), epoch(dev, m, resume)), "a resumed epoch (from batch 7) matches");

    cpu.s->request_stop();
    dev.s->request_stop();
    Outcome sa = epoch(cpu, m, o), sb = epoch(dev, m, o);
    check(same(sa, sb) && sb.r.stopped && sb.r.next_batch == 0, "a stop requested before the epoch stops both at batch 0");

    // A NaN weight: the loss becomes NaN at the first batch; same message, nothing applied.
    for (Run * r : {&cpu, &dev}) {
        std::vector<float> w(30);
        r->s->get_buffer(m.W1, w.data(), 120);
        w[3] = NAN;
        r->s->set_buffer(m.W1, w.data(), 120);
    }
    Outcome na = epoch(cpu, m, o), nb = epoch(dev, m, o);
    check(!nb.st.ok() && same(na, nb), "a NaN weight halts both alike: \"%s\" / \"%s\"", na.st.message.c_str(), nb.st.message.c_str());
    return nltest::finish();
}
