// Program decoding and the runtime's error paths: every malformed Program is an error naming the
// instruction (never a crash), and a Session runs, stops and reports non-finite losses cleanly.
// Plain C++ (no Node): prints one line per check and ends with "N passed, N failed".
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <tuple>
#include <vector>
#include "netloom.h"
#include "program-builder.h"
#include "test-util.h"

// "what: detail" (the detail is the status the runtime returned).
static void check(bool ok, const std::string & what, const std::string & detail = "") {
    nltest::check(ok, detail.empty() ? what : what + ": " + detail);
}

// A tiny valid program: x[4] -> linear(4->3) -> CE(3), SGD. Buffers (offsets in 16-word units):
//  0 x (batched 4)  1 W [3x4]  2 b [3]  3 y (batched 3)  4 labels (i32, batched 1)
//  5 probs (batched 3)  6 loss  7 correct (i32)  8 dW  9 db  10 dy (batched 3)
// Builder: the shared hand-built Program (program-builder.h), batch 2 here.
struct Builder : ProgramBuilder {
    Builder() { batch = 2; }
};

static Builder tiny(float lr = 0.1f) {
    Builder b;
    int x = b.add(0, 1, 4), W = b.add(0, 0, 12), bias = b.add(0, 0, 3), y = b.add(0, 1, 3), lab = b.add(1, 1, 1);
    int probs = b.add(0, 1, 3), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1), dW = b.add(0, 0, 12), db = b.add(0, 0, 3),
        dy = b.add(0, 1, 3);
    b.fwd.push_back(Builder::ins(nl::Op::LINEAR_FORWARD, {x, W, bias, y}, {4, 3}));
    b.fwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {y, lab, probs, loss, correct, -1}, {3, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dy, -1}, {3, 0, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::LINEAR_BACKWARD, {dy, x, W, -1, dW, db}, {4, 3, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {W, dW, -1}, {0, 0}, {lr, 0, 0, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {bias, db, -1}, {0, 0}, {lr, 0, 0, 0}));
    return b;
}
static const std::vector<int32_t> IO = {0, 4, 3, 5, 6, 7, 3, -1};   // io buffers + classes + targets (none)

// Two Linear layers without an activation: x[4] -> linear(4->4) -> h -> linear(4->3) -> CE(3), SGD.
// With W1 = 0 the logits are exactly 0 (finite loss log 3) whatever W2 holds, yet huge entries of
// W2 make dh = dy W2 ~ 2e38 per row and dW1 = dh^T x overflow to inf: gradients go non-finite
// while the loss does not. Buffers:
//  0 x  1 W1 [4x4]  2 b1  3 h  4 W2 [3x4]  5 b2  6 y  7 labels  8 probs  9 loss  10 correct
//  11 dW1  12 db1  13 dh  14 dW2  15 db2  16 dy
static Builder deep() {
    Builder b;
    int x = b.add(0, 1, 4), W1 = b.add(0, 0, 16), b1 = b.add(0, 0, 4), h = b.add(0, 1, 4), W2 = b.add(0, 0, 12), b2 = b.add(0, 0, 3);
    int y = b.add(0, 1, 3), lab = b.add(1, 1, 1), probs = b.add(0, 1, 3), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1);
    int dW1 = b.add(0, 0, 16), db1 = b.add(0, 0, 4), dh = b.add(0, 1, 4), dW2 = b.add(0, 0, 12), db2 = b.add(0, 0, 3), dy = b.add(0, 1, 3);
    b.fwd.push_back(Builder::ins(nl::Op::LINEAR_FORWARD, {x, W1, b1, h}, {4, 4}));
    b.fwd.push_back(Builder::ins(nl::Op::LINEAR_FORWARD, {h, W2, b2, y}, {4, 3}));
    b.fwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {y, lab, probs, loss, correct, -1}, {3, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dy, -1}, {3, 0, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::LINEAR_BACKWARD, {dy, h, W2, dh, dW2, db2}, {4, 3, 0}));
    b.bwd.push_back(Builder::ins(nl::Op::LINEAR_BACKWARD, {dh, x, W1, -1, dW1, db1}, {4, 4, 0}));
    for (auto [p, g] : {std::pair<int, int>{W1, dW1}, {b1, db1}, {W2, dW2}, {b2, db2}})
        b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {p, g, -1}, {0, 0}, {0.1f, 0, 0, 0}));
    return b;
}
static const std::vector<int32_t> DEEP_IO = {0, 7, 6, 8, 9, 10, 3, -1};

// A session of tiny() with small distinct weights and the toy dataset on both splits.
static std::unique_ptr<nl::Session> toy_session(const std::vector<uint8_t> & images, const std::vector<uint8_t> & labels, int n) {
    auto w = tiny().words(IO);
    std::unique_ptr<nl::Session> s;
    if (!nl::Session::create(w.data(), w.size(), 2, s).ok()) return nullptr;
    std::vector<float> W(12), bias(3, 0.f);
    for (int i = 0; i < 12; i++) W[i] = 0.01f * (float)((i * 7) % 5 - 2);
    s->set_buffer(1, W.data(), 48);
    s->set_buffer(2, bias.data(), 12);
    s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), n, 4);
    s->set_dataset(nl::SPLIT_TEST, images.data(), labels.data(), n, 4);
    return s;
}

// tiny() with another optimizer, whose state buffers come after tiny()'s (ids 11..): one step
// instruction for W and one for the bias, with `states` state buffers each (-1 where the op
// allows none). Returns the program and the ids of every parameter and state buffer with its size.
enum class Opt { Sgd, SgdMomentum, Adam, AdamAmsgrad, Rmsprop, Adagrad };
struct OptProgram {
    Builder b;
    std::vector<std::pair<int, int>> written;   // {buffer id, floats}: the parameters and their state
};
static OptProgram tiny_with(Opt opt) {
    OptProgram o{tiny(), {{1, 12}, {2, 3}}};
    Builder & b = o.b;
    b.step.clear();
    for (auto [p, g, n] : {std::tuple<int, int, int>{1, 8, 12}, {2, 9, 3}}) {
        auto state = [&] {
            int id = b.add(0, 0, n);
            o.written.push_back({id, n});
            return id;
        };
        switch (opt) {
            case Opt::Sgd: b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {p, g, -1}, {0, 0}, {0.1f, 0, 0, 0})); break;
            case Opt::SgdMomentum: b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {p, g, state()}, {0, 0}, {0.1f, 0.9f, 0, 0})); break;
            case Opt::Adam: {
                int m = state(), v = state();
                b.step.push_back(Builder::ins(nl::Op::ADAM_STEP, {p, g, m, v, -1}, {0, 0, 0}, {1e-3f, 0.9f, 0.999f, 1e-8f, 0}));
                break;
            }
            case Opt::AdamAmsgrad: {
                int m = state(), v = state(), vmax = state();
                b.step.push_back(Builder::ins(nl::Op::ADAM_STEP, {p, g, m, v, vmax}, {1, 0, 1}, {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f}));
                break;
            }
            case Opt::Rmsprop: {
                int sq = state(), mom = state(), avg = state();
                b.step.push_back(Builder::ins(nl::Op::RMSPROP_STEP, {p, g, sq, mom, avg}, {1, 0}, {1e-2f, 0.99f, 1e-8f, 0, 0.9f}));
                break;
            }
            case Opt::Adagrad: b.step.push_back(Builder::ins(nl::Op::ADAGRAD_STEP, {p, g, state()}, {0}, {1e-2f, 0, 0, 1e-10f})); break;
        }
    }
    return o;
}

// Every parameter and optimizer state value of `o`, as bytes.
static std::vector<float> snapshot(nl::Session & s, const OptProgram & o) {
    std::vector<float> all;
    for (auto [id, n] : o.written) {
        std::vector<float> v((size_t)n);
        s.get_buffer(id, v.data(), v.size() * 4);
        all.insert(all.end(), v.begin(), v.end());
    }
    return all;
}

// A step whose gradients are finite but which would overflow a weight or a state value (huge
// features times a large learning rate, or a huge gradient squared into Adam's v): batches 1 and 2
// train normally, batch 3 (one sample of features ~1e22 under two labels, learning rate `lr3`)
// must be refused before anything of
// its step is written. `expect` is the start of the message.
static void overflow_case(Opt opt, float lr3, const std::string & expect, const std::string & what) {
    OptProgram o = tiny_with(opt);
    auto w = o.b.words(IO);
    std::unique_ptr<nl::Session> s;
    nl::Status st = nl::Session::create(w.data(), w.size(), 2, s);
    check(st.ok(), what + ": the program creates", st.message);
    if (!s) return;
    std::vector<float> W(12);
    for (int i = 0; i < 12; i++) W[i] = 0.01f * (float)((i * 7) % 5 - 2);
    s->set_buffer(1, W.data(), 48);
    const int N = 8;
    std::vector<float> x(N * 4);
    std::vector<uint8_t> lab(N);
    for (int i = 0; i < N; i++) {
        lab[i] = (uint8_t)(i % 3);
        // Batches 3 and 4 repeat one sample under two labels, so their gradient cannot vanish.
        const int f = i >= 4 ? i - i % 2 : i;
        for (int k = 0; k < 4; k++) x[i * 4 + k] = (k % 2 ? -1.f : 1.f) * (float)((f + k) % 3 + 1) * (i >= 4 ? 1e22f : 1.f);
    }
    st = s->set_dataset_f32(nl::SPLIT_TRAIN, x.data(), lab.data(), nullptr, N, 4, 0);
    check(st.ok(), what + ": the dataset loads", st.message);
    std::vector<float> lr = {0.1f, 0.1f, lr3, 0.1f};
    nl::EpochOptions eo;
    eo.count = 4;   // batches 1 and 2
    eo.batch = 2;
    eo.lr = lr.data();
    nl::EpochResult r;
    st = s->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, r);
    check(st.ok() && s->steps() == 2, what + ": the first two batches train", st.message);
    const std::vector<float> before = snapshot(*s, o);
    const uint64_t exact_before = s->exact_step_checks();
    bool moved = false;   // the state holds the first two steps (so "as before" is not "as created")
    for (size_t i = 12 + 3; i < before.size(); i++) moved = moved || before[i] != 0.f;
    check(o.written.size() == 2 || moved, what + ": the optimizer state holds the first steps");
    eo.count = N;
    eo.start_batch = 2;
    st = s->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, r);
    const std::vector<float> after = snapshot(*s, o);
    float loss = NAN;
    s->get_buffer(6, &loss, 4);
    const bool same = after.size() == before.size() && std::memcmp(after.data(), before.data(), before.size() * 4) == 0;
    check(st.code == NL_STATUS_NON_FINITE && st.message.rfind(expect, 0) == 0 &&
              st.message.find(" at batch 3 of 4; training stopped before applying that batch") != std::string::npos,
          what + ": NON_FINITE at batch 3, before applying it", std::string(nl_status_code(st.code)) + " " + st.message);
    check(std::isfinite(loss) && s->gradients_finite(), what + ": the loss and the gradients were finite (only the step overflows)");
    check(same && s->steps() == 2, what + ": every parameter and state value is byte-identical to before batch 3, steps() still 2",
          "steps " + std::to_string(s->steps()));
    // The bound cannot vouch for a ~1e22 gradient at these rates: the refusal came from the exact check.
    check(s->exact_step_checks() > exact_before, what + ": batch 3 went through the exact check");
    // run_step refuses the same step as well (the batch's rows are still in the input buffer).
    st = s->run_step(2, true, true, lr3);
    const std::vector<float> again = snapshot(*s, o);
    check(st.code == NL_STATUS_NON_FINITE && st.message.rfind(expect, 0) == 0 && st.message.find("the step was not applied") != std::string::npos &&
              std::memcmp(again.data(), before.data(), before.size() * 4) == 0 && s->steps() == 2,
          what + ": run_step refuses it too", st.message);
}

// The step bound's cache must be forgotten when a parameter is written from outside. tiny() with
// SGD trains two batches (the first checked exactly, the second proven by the bound from the
// stored maxima, |b| ~ 0.1); then the biases are set to 3.3e38 (equal, so the logits stay equal and
// the loss log 3). With lr 1e38 the bias step b - lr * db (db = [-1/6, -1/6, 1/3]) overflows b[0];
// with a stale max of 0.1 the bound would read 0.1 + 1e38 * 1/3 < FLT_MAX / 4 and let it through.
static void set_buffer_forgets_bound() {
    const std::string what = "set_buffer after bounded steps";
    OptProgram o = tiny_with(Opt::Sgd);
    auto w = o.b.words(IO);
    std::unique_ptr<nl::Session> s;
    nl::Status st = nl::Session::create(w.data(), w.size(), 2, s);
    check(st.ok() && s->step_bounds_enabled(), what + ": the program creates, with the step bound enabled", st.message);
    if (!s) return;
    std::vector<float> W(12), bias = {0.1f, -0.05f, 0.02f};
    for (int i = 0; i < 12; i++) W[i] = 0.01f * (float)((i * 7) % 5 - 2);
    s->set_buffer(1, W.data(), 48);
    s->set_buffer(2, bias.data(), 12);
    const int N = 6;
    std::vector<float> x(N * 4);
    std::vector<uint8_t> lab(N);
    for (int i = 0; i < N; i++) {
        lab[i] = (uint8_t)(i % 2);   // batch 3: labels 0 and 1
        for (int k = 0; k < 4; k++) x[i * 4 + k] = (k % 2 ? -1.f : 1.f) * (float)((i + k) % 3 + 1);
    }
    st = s->set_dataset_f32(nl::SPLIT_TRAIN, x.data(), lab.data(), nullptr, N, 4, 0);
    check(st.ok(), what + ": the dataset loads", st.message);
    std::vector<float> lr = {0.1f, 0.1f, 1e38f};
    nl::EpochOptions eo;
    eo.count = 4;
    eo.batch = 2;
    eo.lr = lr.data();
    nl::EpochResult r;
    st = s->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, r);
    check(st.ok() && s->steps() == 2 && s->exact_step_checks() == 2,
          what + ": two batches train; only the first step's two instructions ran the exact check", std::to_string(s->exact_step_checks()));
    const std::vector<float> big = {3.3e38f, 3.3e38f, 3.3e38f};
    s->set_buffer(2, big.data(), 12);
    eo.count = N;
    eo.start_batch = 2;
    st = s->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, r);
    std::vector<float> after(3);
    s->get_buffer(2, after.data(), 12);
    check(st.code == NL_STATUS_NON_FINITE && st.message.rfind("the weights would become infinite", 0) == 0 && after == big && s->steps() == 2,
          what + ": biases near FLT_MAX set after bounded steps: the overflowing step is refused, nothing written",
          std::string(nl_status_code(st.code)) + " " + st.message);
}

// Programs the bound cannot vouch for keep the exact check on every step: a parameter that another
// instruction names at a position a kernel may write, or memory shared with another buffer.
static void bounds_disabled_for_odd_programs() {
    auto enabled = [](Builder b) {
        auto w = b.words(IO);
        std::unique_ptr<nl::Session> s;
        nl::Status st = nl::Session::create(w.data(), w.size(), 1, s);
        return st.ok() && s && s->step_bounds_enabled();
    };
    check(enabled(tiny()), "the step bound is enabled for an ordinary program");
    Builder b = tiny();
    b.bwd[1][4 + 5] = 2;   // linear_backward (words: op, counts, then operands) writes its dbias into the bias itself
    check(!enabled(b), "the step bound is disabled when a kernel writes a parameter");
    Builder c = tiny();
    c.step.insert(c.step.begin(), Builder::ins(nl::Op::CLIP_GRAD, {8, 6}, {}, {-1.f}));
    check(!enabled(c), "the step bound is disabled by a clip with a negative max_norm (it can grow a gradient)");
}

static nl::Status decode(const std::vector<int32_t> & w) {
    nl::Program p;
    return nl::program_decode(w.data(), w.size(), p);
}

static void expect_error(const std::vector<int32_t> & w, nl_status code, const std::string & needle, const std::string & what) {
    nl::Status st = decode(w);
    bool ok = st.code == code && st.message.find(needle) != std::string::npos;
    check(ok, what, std::string(nl_status_code(st.code)) + " \"" + st.message + "\"");
}

int main() {
    check(decode(tiny().words(IO)).ok(), "a valid program decodes");

    auto w = tiny().words(IO);
    w[0] = 0x1234;
    expect_error(w, NL_STATUS_INVALID_PROGRAM, "bad magic", "bad magic number");
    w = tiny().words(IO);
    w[1] = 99;
    expect_error(w, NL_STATUS_INVALID_PROGRAM, "version 99", "future format version");
    w = tiny().words(IO);
    expect_error(std::vector<int32_t>(w.begin(), w.end() - 3), NL_STATUS_INVALID_PROGRAM, "instruction 5", "truncated inside the last instruction");
    expect_error(tiny().words({0, 4, 3, 5, 6, 7, 0, -1}), NL_STATUS_SHAPE_MISMATCH, "how many classes", "labels without a class count");
    expect_error(std::vector<int32_t>(w.begin(), w.begin() + 5), NL_STATUS_INVALID_PROGRAM, "header", "truncated header");

    Builder b = tiny();
    b.fwd[1][0] = 77;
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "instruction 1 (forward #1): unknown opcode 77", "unknown opcode names the instruction");

    b = tiny();
    b.fwd[0][4 + 1] = 42;  // weight operand -> buffer 42
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "instruction 0 (forward #0, linear_forward): operand 'weight' names buffer 42", "buffer out of range");

    b = tiny();
    b.fwd[0][4 + 4 + 0] = 5;  // in_features 5, x holds 4
    expect_error(b.words(IO), NL_STATUS_SHAPE_MISMATCH, "instruction 0 (forward #0, linear_forward): operand 'x' (buffer 0) holds 4 values per sample, expected 5",
                 "shape mismatch names operand and sizes");

    b = tiny();
    b.bwd[1][4 + 3] = 9;  // dx -> db (fixed-size, wrong kind)
    expect_error(b.words(IO), NL_STATUS_SHAPE_MISMATCH, "instruction 3 (backward #1, linear_backward): operand 'dx'", "batched vs fixed buffer");

    b = tiny();
    b.fwd[0][1] = 3;  // wrong operand count
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "linear_forward takes 4, 2 and 0", "wrong operand count");

    b = tiny();
    b.fwd[0][4 + 2] = 3;  // bias -> y (per-sample): an optional operand is named by its ops.def name too
    expect_error(b.words(IO), NL_STATUS_SHAPE_MISMATCH, "linear_forward): operand 'bias' (buffer 3) must be a fixed-size buffer",
                 "optional operand named from ops.def");

    // The op table: one name per position, as ops.def lists them, and the named indices agree.
    for (int k = 0; k < nl::op_count(); k++) {
        const nl::OpInfo & op = nl::op_info((nl::Op)k);
        bool named = nl::op_list_name(op.operands, op.n_buffers) == "?" && nl::op_list_name(op.int_attrs, op.n_ints) == "?" &&
                     nl::op_list_name(op.float_attrs, op.n_floats) == "?";
        for (int j = 0; j < op.n_buffers; j++) named = named && nl::op_list_name(op.operands, j) != "?";
        for (int j = 0; j < op.n_ints; j++) named = named && nl::op_list_name(op.int_attrs, j) != "?";
        for (int j = 0; j < op.n_floats; j++) named = named && nl::op_list_name(op.float_attrs, j) != "?";
        check(named && op.check != nullptr, std::string("op table: ") + op.name + " names each of its " + std::to_string(op.n_buffers) +
                                                " operands and " + std::to_string(op.n_ints + op.n_floats) + " attributes, and has a check");
    }
    {
        using BN = nl::op::BATCH_NORM_FORWARD;
        const nl::OpInfo & op = nl::op_info(BN::code);
        check(nl::op_list_name(op.operands, BN::save_invstd) == "save_invstd" && nl::op_list_name(op.int_attrs, BN::inner) == "inner" &&
                  nl::op_list_name(op.float_attrs, BN::momentum) == "momentum" && op.n_buffers == 9 && op.n_ints == 2 && op.n_floats == 2,
              "op table: named positions (op::BATCH_NORM_FORWARD) index ops.def's names");
    }

    b = tiny();
    b.step[0][4 + 3 + 2 + 0] = 0x7fc00000;  // lr = NaN
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "not a finite number", "NaN hyper-parameter");

    b = tiny();
    b.bufs[4 * 1 + 3] = 1 << 30;  // W's offset far outside the arena
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "outside the", "buffer outside the arena");

    expect_error(tiny().words({0, 4, 3, 5, 6, 1, 3, -1}), NL_STATUS_SHAPE_MISMATCH, "correct", "well-known buffer with the wrong type");

    // Geometry at the int32 limits: padding 2^31 - 1 on both sides, a kernel of 2^31 - 1 rows. The
    // decoder's sums (h + ph0 + ph1, the pool's h + ph) once overflowed int (undefined behaviour,
    // which the UBSan build of this program reports); they must simply be refused.
    {
        const int32_t big = 0x7fffffff;
        Builder g;
        int x = g.add(0, 1, 4), wt = g.add(0, 0, 1), y = g.add(0, 1, 4);
        g.fwd.push_back(Builder::ins(nl::Op::CONV2D_FORWARD, {x, wt, -1, y}, {1, 2, 2, 1, 1, 1, 1, 1, big, big, big, big, 1, 1, 1, 2, 2}));
        expect_error(g.words({x, -1, -1, -1, -1, -1, 0, -1}), NL_STATUS_SHAPE_MISMATCH, "does not follow from the geometry",
                     "conv2d with padding 2^31 - 1 is refused (no overflow)");
        Builder q;
        x = q.add(0, 1, big);
        y = q.add(0, 1, 1);
        int idx = q.add(1, 1, 1);
        // max pool: c h w kh kw sh sw ph pw dh dw ho wo
        q.fwd.push_back(Builder::ins(nl::Op::MAX_POOL2D_FORWARD, {x, y, idx}, {1, big, 1, big, 1, big, 1, big / 2, 0, 1, 1, 2, 1}));
        expect_error(q.words({x, -1, -1, -1, -1, -1, 0, -1}), NL_STATUS_SHAPE_MISMATCH, "max_pool2d_forward",
                     "max_pool2d with h + padding past 2^31 is checked without overflow (and refused: y is too small)");
    }

    // ---- runtime ---------------------------------------------------------------------------------
    std::unique_ptr<nl::Session> s;
    auto words = tiny().words(IO);
    nl::Status st = nl::Session::create(words.data(), words.size(), 2, s);
    check(st.ok(), "session creates", st.message);
    if (!s) return 1;
    std::vector<float> W(12, 0.01f), bias(3, 0.f);
    check(s->set_buffer(1, W.data(), 48).ok() && s->set_buffer(2, bias.data(), 12).ok(), "parameters set");
    check(!s->set_buffer(1, W.data(), 40).ok(), "a wrongly sized parameter is refused");

    const int N = 64;
    std::vector<uint8_t> images(N * 4), labels(N);
    for (int i = 0; i < N; i++) {
        labels[i] = (uint8_t)(i % 3);
        for (int k = 0; k < 4; k++) images[i * 4 + k] = (uint8_t)(k == labels[i] ? 255 : 0);
    }
    labels[5] = 3;
    st = s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), N, 4);
    check(st.code == NL_STATUS_BAD_LABEL && st.message.find("sample 5 has label 3") != std::string::npos, "label outside the classes is refused", st.message);
    labels[5] = 2;
    check(s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), N, 4).ok(), "dataset accepted");
    check(s->set_dataset(nl::SPLIT_TEST, images.data(), labels.data(), N, 5).code == NL_STATUS_SHAPE_MISMATCH, "sample size mismatch refused");

    nl::EpochOptions o;
    o.count = N;
    o.batch = 2;
    o.train = true;
    double first = 0, last = 0;
    for (int e = 0; e < 20; e++) {
        nl::EpochResult r;
        st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
        if (e == 0) first = r.loss_sum / r.batches;
        last = r.loss_sum / r.batches;
        if (!st.ok()) break;
    }
    check(st.ok() && last < first * 0.5, "training a separable toy problem lowers the loss", std::to_string(first) + " -> " + std::to_string(last));
    check(s->steps() == 20 * 32, "one optimizer step per batch", std::to_string(s->steps()));

    std::vector<int32_t> bad_order(N, 0);
    bad_order[3] = N + 7;
    o.order = bad_order.data();
    nl::EpochResult r;
    st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    check(st.code == NL_STATUS_INVALID_ARGUMENT, "an order naming a sample outside the dataset is refused", st.message);
    o.order = nullptr;
    o.batch = 3;
    check(s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r).code == NL_STATUS_INVALID_ARGUMENT, "batch above the program's batch size is refused");
    o.batch = 2;

    // Stop from another thread: the epoch returns within one batch, stopped = true. No clock: the
    // progress event of batch 10 hands over to the stopper thread and waits until it has asked to
    // stop, so the request lands at a known batch however loaded the machine is.
    std::vector<uint8_t> big(200000 * 4), big_labels(200000);
    for (size_t i = 0; i < big_labels.size(); i++) big_labels[i] = (uint8_t)(i % 3);
    s->set_dataset(nl::SPLIT_TRAIN, big.data(), big_labels.data(), 200000, 4);
    o.count = 200000;
    o.event_interval_s = 0;
    struct Handover {
        std::promise<void> reached, requested;
        int64_t at = -1;
    } hand;
    std::thread stopper([&] {
        hand.reached.get_future().wait();
        s->request_stop();
        hand.requested.set_value();
    });
    auto at_batch_10 = [](void * ctx, const nl::ProgressEvent & ev) {
        auto * h = static_cast<Handover *>(ctx);
        if (ev.batch != 10 || h->at >= 0) return;
        h->at = ev.batch;
        h->reached.set_value();
        h->requested.get_future().wait();
    };
    st = s->run_epoch(nl::SPLIT_TRAIN, o, at_batch_10, &hand, r);
    stopper.join();
    o.event_interval_s = 0.1;
    check(st.ok() && r.stopped && hand.at == 10 && r.batches >= 10 && r.batches <= 11, "stop is honoured within the epoch (within one batch of the request)",
          std::to_string(r.batches) + " batches, requested after batch " + std::to_string(hand.at));

    // A non-finite loss (here from a NaN weight): NON_FINITE at batch 1, nothing applied.
    Builder hot = tiny();
    auto hw = hot.words(IO);
    std::unique_ptr<nl::Session> s2;
    nl::Session::create(hw.data(), hw.size(), 1, s2);
    std::vector<float> W2(12, 1.f);
    W2[7] = NAN;
    s2->set_buffer(1, W2.data(), 48);
    s2->set_buffer(2, bias.data(), 12);
    s2->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), N, 4);
    o.count = N;
    st = s2->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    std::vector<float> after(12);
    s2->get_buffer(1, after.data(), 48);
    bool untouched = std::memcmp(after.data(), W2.data(), 48) == 0 && s2->steps() == 0;
    check(st.code == NL_STATUS_NON_FINITE && st.message.find("loss became NaN at batch 1 of") != std::string::npos &&
              st.message.find("before applying that batch") != std::string::npos && untouched,
          "a NaN/inf loss stops the run before that batch is applied", std::string(nl_status_code(st.code)) + " " + st.message);

    // ---- resuming an epoch at start_batch -----------------------------------------------------
    {
        // Noisy toy data (some samples mislabelled) so every batch moves the weights.
        std::vector<uint8_t> im(N * 4), lab(N);
        for (int i = 0; i < N; i++) {
            lab[i] = (uint8_t)((i * 5) % 3);
            for (int k = 0; k < 4; k++) im[i * 4 + k] = (uint8_t)((i * 37 + k * 91) % 256);
        }
        std::vector<int32_t> order(N);
        for (int i = 0; i < N; i++) order[i] = (i * 17) % N;
        nl::EpochOptions eo;
        eo.count = N;
        eo.batch = 2;
        eo.order = order.data();
        eo.event_interval_s = 0;   // an event after every batch
        const int64_t B = N / 2;

        auto whole = toy_session(im, lab, N);
        std::vector<float> losses_whole(B), losses_split(B);
        eo.batch_losses = losses_whole.data();
        nl::EpochResult rw;
        st = whole->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, rw);
        check(st.ok() && rw.next_batch == B && !rw.stopped, "a whole epoch reports next_batch = its batch count", std::to_string(rw.next_batch));

        // The same epoch, stopped from the progress callback after batch 11, then resumed there.
        auto split = toy_session(im, lab, N);
        struct Stopper { nl::Session * s; int64_t at; } stopper{split.get(), 11};
        auto stop_at = [](void * ctx, const nl::ProgressEvent & ev) {
            auto * k = static_cast<Stopper *>(ctx);
            if (ev.batch == k->at) k->s->request_stop();
        };
        eo.batch_losses = losses_split.data();
        nl::EpochResult r1, r2;
        st = split->run_epoch(nl::SPLIT_TRAIN, eo, stop_at, &stopper, r1);
        check(st.ok() && r1.stopped && r1.next_batch == 11 && r1.batches == 11 && split->steps() == 11,
              "a stopped epoch reports the next batch to run", std::to_string(r1.next_batch) + " next, " + std::to_string(r1.batches) + " run");
        eo.start_batch = r1.next_batch;
        int64_t first_event_batch = -1;
        struct First { int64_t * at; } first{&first_event_batch};
        auto record = [](void * ctx, const nl::ProgressEvent & ev) {
            auto * f = static_cast<First *>(ctx);
            if (*f->at < 0) *f->at = ev.batch;
        };
        st = split->run_epoch(nl::SPLIT_TRAIN, eo, record, &first, r2);
        check(st.ok() && !r2.stopped && r2.next_batch == B && r2.batches == B - 11 && r2.samples == (B - 11) * 2,
              "resuming at start_batch runs only the remaining batches", std::to_string(r2.batches));
        check(first_event_batch == 12, "progress counts batches of the whole epoch after a resume", std::to_string(first_event_batch));
        std::vector<float> a(12), b(12), ab(3), bb(3);
        whole->get_buffer(1, a.data(), 48);
        split->get_buffer(1, b.data(), 48);
        whole->get_buffer(2, ab.data(), 12);
        split->get_buffer(2, bb.data(), 12);
        check(std::memcmp(a.data(), b.data(), 48) == 0 && std::memcmp(ab.data(), bb.data(), 12) == 0 && whole->steps() == split->steps(),
              "stop + resume at next_batch gives bit-identical weights to an uninterrupted epoch");
        check(std::memcmp(losses_whole.data(), losses_split.data(), B * 4) == 0, "and bit-identical per-batch losses");
        eo.start_batch = B + 1;
        check(split->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, r2).code == NL_STATUS_INVALID_ARGUMENT, "a start batch past the epoch is refused");
        eo.start_batch = B;
        check(split->run_epoch(nl::SPLIT_TRAIN, eo, nullptr, nullptr, r2).ok() && r2.batches == 0 && r2.next_batch == B,
              "start_batch = batches runs nothing");
        eo.start_batch = 0;
        eo.batch_losses = nullptr;

        // ---- predictions and probabilities in an eval epoch --------------------------------------
        std::vector<int32_t> pred(N, -1);
        std::vector<float> prob(N * 3, -1.f);
        nl::EpochOptions ev;
        ev.count = N;
        ev.batch = 2;
        ev.train = false;
        ev.predictions = pred.data();
        ev.probabilities = prob.data();
        nl::EpochResult re;
        st = whole->run_epoch(nl::SPLIT_TEST, ev, nullptr, nullptr, re);
        // Reference: logits of each sample from one-row steps.
        bool same = st.ok();
        int64_t correct = 0;
        double worst_sum = 0;
        for (int i = 0; i < N && same; i++) {
            std::vector<float> x(4);
            for (int k = 0; k < 4; k++) x[k] = (float)im[i * 4 + k] / 255.f;
            int32_t l = lab[i];
            whole->set_buffer(0, x.data(), 16);
            whole->set_buffer(4, &l, 4);
            whole->run_step(1, false);
            float y[3];
            whole->get_buffer(3, y, 12);
            int best = 0;
            for (int c = 1; c < 3; c++)
                if (y[c] > y[best]) best = c;
            same = same && pred[i] == best;
            correct += pred[i] == lab[i];
            double sum = prob[i * 3] + prob[i * 3 + 1] + prob[i * 3 + 2];
            worst_sum = std::max(worst_sum, std::fabs(sum - 1.0));
            same = same && prob[i * 3 + best] >= prob[i * 3 + (best + 1) % 3] && prob[i * 3 + best] >= prob[i * 3 + (best + 2) % 3];
        }
        check(same, "eval predictions are the argmax of each sample's logits, probabilities rank the same", st.message);
        check(correct == re.correct, "predictions agree with the epoch's correct count", std::to_string(correct) + " vs " + std::to_string(re.correct));
        check(worst_sum < 1e-5, "probabilities sum to 1", std::to_string(worst_sum));
        ev.train = true;
        check(whole->run_epoch(nl::SPLIT_TRAIN, ev, nullptr, nullptr, re).code == NL_STATUS_INVALID_ARGUMENT, "predictions in a training epoch are refused");
        std::vector<int32_t> ties(2);
        float tied[6] = {1.f, 3.f, 3.f, 2.f, 2.f, 2.f};
        nl::argmax_rows(tied, ties.data(), 2, 3);
        check(ties[0] == 1 && ties[1] == 0, "argmax takes the first maximum on ties");
    }

    // ---- non-finite gradients: refused before the step -------------------------------------
    {
        auto dw = deep().words(DEEP_IO);
        std::unique_ptr<nl::Session> s3;
        st = nl::Session::create(dw.data(), dw.size(), 2, s3);
        check(st.ok(), "the two-layer program creates", st.message);
        if (!s3) return nltest::finish();
        std::vector<float> W1(16, 0.f), b1(4, 0.f), W2(12), b2(3, 0.f);
        for (int c = 0; c < 3; c++)
            for (int j = 0; j < 4; j++) W2[c * 4 + j] = c == 0 ? -3e38f : 3e38f;
        s3->set_buffer(1, W1.data(), 64);
        s3->set_buffer(2, b1.data(), 16);
        s3->set_buffer(4, W2.data(), 48);
        s3->set_buffer(5, b2.data(), 12);
        std::vector<uint8_t> ones(N * 4, 255), zeros(N, 0);
        s3->set_dataset(nl::SPLIT_TRAIN, ones.data(), zeros.data(), N, 4);
        nl::EpochOptions go;
        go.count = N;
        go.batch = 2;
        nl::EpochResult gr;
        st = s3->run_epoch(nl::SPLIT_TRAIN, go, nullptr, nullptr, gr);
        std::vector<float> W1a(16), W2a(12);
        s3->get_buffer(1, W1a.data(), 64);
        s3->get_buffer(4, W2a.data(), 48);
        float loss = 0;
        s3->get_buffer(9, &loss, 4);
        bool kept = std::memcmp(W1a.data(), W1.data(), 64) == 0 && std::memcmp(W2a.data(), W2.data(), 48) == 0 && s3->steps() == 0;
        check(st.code == NL_STATUS_NON_FINITE && st.message.find("gradients became infinite at batch 1 of 32") != std::string::npos &&
                  st.message.find("before applying that batch") != std::string::npos && std::isfinite(loss) && kept,
              "non-finite gradients (finite loss) stop training before that batch's step", std::string(nl_status_code(st.code)) + " " + st.message);
        check(!s3->gradients_finite(), "gradients_finite() sees the overflow");
        // run_step refuses the step too.
        std::vector<float> x(8, 1.f);
        int32_t l2[2] = {0, 0};
        s3->set_buffer(0, x.data(), 32);
        s3->set_buffer(7, l2, 8);
        st = s3->run_step(2, true);
        s3->get_buffer(1, W1a.data(), 64);
        check(st.code == NL_STATUS_NON_FINITE && std::memcmp(W1a.data(), W1.data(), 64) == 0 && s3->steps() == 0, "run_step refuses the step as well", st.message);
        // With ordinary weights the same program trains: the check passes finite gradients.
        std::fill(W2.begin(), W2.end(), 0.01f);
        s3->set_buffer(4, W2.data(), 48);
        st = s3->run_epoch(nl::SPLIT_TRAIN, go, nullptr, nullptr, gr);
        check(st.ok() && s3->gradients_finite() && s3->steps() == 32, "finite gradients train normally", st.message);
    }
    // ---- a step that would overflow a weight or its optimizer state: refused before it ----------
    // Finite gradients (~1e22) times a learning rate of 1e17 overflow the weights; squared into
    // Adam's v, RMSprop's square average or Adagrad's sum they overflow the state while the weights
    // stay finite (the update divides by the root of the state). lr 1e38 overflows Adam's step size.
    overflow_case(Opt::Sgd, 1e17f, "the weights would become infinite", "SGD, lr 1e17");
    overflow_case(Opt::SgdMomentum, 1e17f, "the weights would become infinite", "SGD with momentum, lr 1e17");
    overflow_case(Opt::Adam, 0.1f, "the optimizer state would become infinite", "Adam, a gradient squared overflows v");
    overflow_case(Opt::Adam, 1e38f, "the weights would become", "Adam, lr 1e38");
    overflow_case(Opt::AdamAmsgrad, 0.1f, "the optimizer state would become infinite", "AdamW with amsgrad, v overflows");
    overflow_case(Opt::Rmsprop, 0.1f, "the optimizer state would become infinite", "RMSprop (centered, momentum), the square average overflows");
    overflow_case(Opt::Adagrad, 0.1f, "the optimizer state would become infinite", "Adagrad, the sum overflows");
    set_buffer_forgets_bound();
    bounds_disabled_for_odd_programs();
    {
        // A step section whose optimizer steps do not come last cannot be checked before it runs.
        OptProgram o = tiny_with(Opt::Sgd);
        o.b.step.push_back(Builder::ins(nl::Op::GRAD_NORM_SQ, {8, 6}, {1}));
        auto bad = o.b.words(IO);
        std::unique_ptr<nl::Session> s;
        st = nl::Session::create(bad.data(), bad.size(), 1, s);
        check(st.code == NL_STATUS_INVALID_ARGUMENT && st.message.find("optimizer steps must come last") != std::string::npos,
              "a step section with an instruction after its optimizer steps is refused", st.message);
    }

    {
        // all_finite over long arrays: a single NaN or inf anywhere is found.
        std::vector<float> v(100003, 1.f);
        bool ok = nl::all_finite(v.data(), v.size());
        v[99999] = INFINITY;
        ok = ok && !nl::all_finite(v.data(), v.size());
        v[99999] = -NAN;
        ok = ok && !nl::all_finite(v.data(), v.size());
        v[99999] = 3.4e38f;
        ok = ok && nl::all_finite(v.data(), v.size());
        check(ok, "all_finite finds one NaN/inf among 100003 values");
    }

    return nltest::finish();
}
