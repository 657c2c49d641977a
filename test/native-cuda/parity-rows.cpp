// The rows of test/native-cuda/op-cases.h as Programs (see parity-rows.h). Each op's builder turns the
// row's shape words into buffers and forward/backward/step instructions with ops.def's operand
// order; the runner decodes the program (the core's validation), runs it on the CPU backend and on
// the CUDA backend through run()/check_step() and compares every buffer the row's direction writes:
//   |cuda - cpu| <= tol * max(1, max |cpu|)     (ints and tolerance-0 rows: equal to the bit)
#include "parity-rows.h"
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include "test-util.h"

namespace parity {
namespace {

using opcase::Shape;
using Ins = std::vector<int32_t>;

Ins ins(nl::Op op, std::vector<int32_t> b, std::vector<int32_t> i, std::vector<float> f = {}) { return ProgramBuilder::ins(op, b, i, f); }

// Adds buffers to a case with their initial contents; the random stream is the case's own, so the
// CPU and CUDA runs start from the same words.
struct Maker {
    RowCase & c;
    nltest::Rng rng{1234};
    int buf(bool is_int, bool batched, int64_t elems, Role role, std::function<float(int64_t)> fill) {
        const int id = c.b.add(is_int ? 1 : 0, batched ? 1 : 0, (int)elems);
        c.role.push_back(role);
        c.is_int.push_back(is_int);
        std::vector<float> v((size_t)(elems * (batched ? c.b.batch : 1)));
        for (size_t k = 0; k < v.size(); k++) v[k] = fill((int64_t)k);
        c.init.push_back(v);
        return id;
    }
    // floats uniform in [lo, hi)
    int f(int64_t elems, Role role = Role::Input, bool batched = true, float lo = -1.f, float hi = 1.f) {
        return buf(false, batched, elems, role, [&](int64_t) { return rng.uniform(lo, hi); });
    }
    int w(int64_t elems, Role role = Role::Input) { return f(elems, role, false); }     // per-model (not batched)
    int nonneg(int64_t elems, Role role) { return f(elems, role, false, 0.f, 1.f); }   // a square, a sum of squares
    int ints(int64_t elems, bool batched, Role role, std::function<int32_t(int64_t)> value) {
        return buf(true, batched, elems, role, [&](int64_t k) {
            float x;
            const int32_t v = value(k);
            std::memcpy(&x, &v, 4);
            return x;
        });
    }
};

int ops_reduction(const Shape & s) { return s.str("reduction", "mean") == "sum" ? 1 : 0; }

int index_of(const std::string & name, std::initializer_list<const char *> names) {
    int k = 0;
    for (const char * n : names) {
        if (name == n) return k;
        k++;
    }
    return -1;
}

// ---- the GEMM block -----------------------------------------------------------------------------

void build_linear(const Shape & s, RowCase & c, Maker & m) {
    const int in = s.i("in"), out = s.i("out");
    const bool bias = s.has("bias"), dx = s.has("dx");
    int x = m.f(in), W = m.w((int64_t)in * out), b = bias ? m.w(out) : -1, y = m.f(out, Role::Forward);
    int dy = m.f(out), gx = dx ? m.f(in, Role::Backward) : -1, gW = m.w((int64_t)in * out, Role::Backward), gb = bias ? m.w(out, Role::Backward) : -1;
    c.b.fwd.push_back(ins(nl::Op::LINEAR_FORWARD, {x, W, b, y}, {in, out}));
    c.b.bwd.push_back(ins(nl::Op::LINEAR_BACKWARD, {dy, x, W, gx, gW, gb}, {in, out, s.has("acc") ? 1 : 0}));
}

void build_conv(const Shape & s, RowCase & c, Maker & m, bool transposed) {
    const int cin = s.i("cin"), h = s.i("h"), w = s.i("w"), cout = s.i("cout"), kh = s.i("k", 0, 1), kw = s.i("k", 1, 1);
    const int sh = s.i("s", 0, 1), sw = s.i("s", 1, 1), dh = s.i("d", 0, 1), dw = s.i("d", 1, 1), groups = s.i("groups", 0, 1);
    const int ph0 = s.i("pad", 0), ph1 = s.i("pad", 1), pw0 = s.i("pad", 2), pw1 = s.i("pad", 3);
    const int ho = transposed ? (h - 1) * sh - ph0 - ph1 + dh * (kh - 1) + s.i("opad", 0) + 1 : (h + ph0 + ph1 - dh * (kh - 1) - 1) / sh + 1;
    const int wo = transposed ? (w - 1) * sw - pw0 - pw1 + dw * (kw - 1) + s.i("opad", 1) + 1 : (w + pw0 + pw1 - dw * (kw - 1) - 1) / sw + 1;
    const int64_t wsize = transposed ? (int64_t)cin * (cout / groups) * kh * kw : (int64_t)cout * (cin / groups) * kh * kw;
    const bool bias = s.has("bias"), dx = s.has("dx");
    const int64_t xin = (int64_t)cin * h * w, yout = (int64_t)cout * ho * wo;
    int x = m.f(xin), W = m.w(wsize), b = bias ? m.w(cout) : -1, y = m.f(yout, Role::Forward);
    int dy = m.f(yout), gx = dx ? m.f(xin, Role::Backward) : -1, gW = m.w(wsize, Role::Backward), gb = bias ? m.w(cout, Role::Backward) : -1;
    std::vector<int32_t> g{cin, h, w, cout, kh, kw, sh, sw, ph0, ph1, pw0, pw1, dh, dw, groups, ho, wo};
    c.b.fwd.push_back(ins(transposed ? nl::Op::CONV_TRANSPOSE2D_FORWARD : nl::Op::CONV2D_FORWARD, {x, W, b, y}, g));
    g.push_back(s.has("acc") ? 1 : 0);
    c.b.bwd.push_back(ins(transposed ? nl::Op::CONV_TRANSPOSE2D_BACKWARD : nl::Op::CONV2D_BACKWARD, {dy, x, W, gx, gW, gb}, g));
}

// ---- elementwise, softmax, structure ------------------------------------------------------------

void build_activation(const std::string & op, const Shape & s, RowCase & c, Maker & m, std::string & why) {
    const int f = s.i("features"), acc = s.has("acc") ? 1 : 0;
    if (op == "relu") {
        int x = m.f(f), y = m.f(f, Role::Forward), dy = m.f(f), dx = m.f(f, Role::Backward);
        c.b.fwd.push_back(ins(nl::Op::RELU_FORWARD, {x, y}, {f}));
        c.b.bwd.push_back(ins(nl::Op::RELU_BACKWARD, {dy, y, dx}, {f, acc}));
        return;
    }
    const int kind = index_of(s.str("kind"), {"LeakyReLU", "ELU", "GELU", "GELU_TANH", "SiLU", "Sigmoid", "Tanh"});
    if (kind < 0) {
        why = "unknown activation kind '" + s.str("kind") + "' (activation.def)";
        return;
    }
    const float alpha = (float)s.num("alpha");
    int x = m.f(f, Role::Input, true, -6.f, 6.f), y = m.f(f, Role::Forward), dy = m.f(f), dx = m.f(f, Role::Backward);
    c.b.fwd.push_back(ins(nl::Op::ACTIVATION_FORWARD, {x, y}, {kind, f}, {alpha}));
    c.b.bwd.push_back(ins(nl::Op::ACTIVATION_BACKWARD, {dy, x, y, dx}, {kind, f, acc}, {alpha}));
}

void build_softmax(const Shape & s, RowCase & c, Maker & m) {
    const int outer = s.i("outer"), dim = s.i("dim"), inner = s.i("inner"), log = s.i("log"), e = outer * dim * inner;
    int x = m.f(e, Role::Input, true, -4.f, 4.f), y = m.f(e, Role::Forward), dy = m.f(e), dx = m.f(e, Role::Backward);
    c.b.fwd.push_back(ins(nl::Op::SOFTMAX_FORWARD, {x, y}, {outer, dim, inner, log}));
    c.b.bwd.push_back(ins(nl::Op::SOFTMAX_BACKWARD, {dy, y, dx}, {outer, dim, inner, log, s.has("acc") ? 1 : 0}));
}

void build_dropout(const Shape & s, RowCase & c, Maker & m) {
    const int f = s.i("features");
    c.s.training = !s.has("eval");
    c.s.seed = (uint64_t)s.i("seed", 0, 99);
    c.s.step = s.i("step", 0, 1);
    int x = m.f(f), y = m.f(f, Role::Forward), mask = m.f(f, Role::Forward), dy = m.f(f), dx = m.f(f, Role::Backward);
    c.b.fwd.push_back(ins(nl::Op::DROPOUT_FORWARD, {x, y, mask}, {f, s.i("salt")}, {(float)s.num("p", 0, 0.5)}));
    c.b.bwd.push_back(ins(nl::Op::DROPOUT_BACKWARD, {dy, mask, dx}, {f, s.has("acc") ? 1 : 0}));
}

void build_structure(const std::string & op, const Shape & s, RowCase & c, Maker & m) {
    const int f = s.i("features"), acc = s.has("acc") ? 1 : 0;
    if (op == "add") {
        int a = m.f(f), b = m.f(f), y = m.f(f, Role::Forward);
        c.b.fwd.push_back(ins(nl::Op::ADD_FORWARD, {a, b, y}, {f}));
    } else if (op == "copy") {
        int src = m.f(f), dst = m.f(f, Role::Forward);
        c.b.fwd.push_back(ins(nl::Op::COPY, {src, dst}, {f, acc}));
    } else {   // concat
        const int outer = s.i("outer"), xi = s.i("x_inner"), yi = s.i("y_inner"), off = s.i("offset");
        int x = m.f(outer * xi), y = m.f(outer * yi, Role::Forward), dy = m.f(outer * yi), dx = m.f(outer * xi, Role::Backward);
        c.b.fwd.push_back(ins(nl::Op::CONCAT_FORWARD, {x, y}, {outer, xi, yi, off}));
        c.b.bwd.push_back(ins(nl::Op::CONCAT_BACKWARD, {dy, dx}, {outer, xi, yi, off, acc}));
    }
}

// ---- losses ---------------------------------------------------------------------------------------

// Labels: row r gets (3r + 1) mod classes; every 7th row the ignore_index when the row names one;
// every row when all_ignored.
int label_of(const Shape & s, int64_t r, int classes, int ignore) {
    if (s.has("all_ignored")) return ignore;
    if (s.has("ignore_index") && r % 7 == 6) return ignore;
    return (int)((3 * r + 1) % classes);
}

void build_class_loss(const std::string & op, const Shape & s, RowCase & c, Maker & m) {
    const int C = s.i("classes"), ignore = s.has("ignore_index") ? s.i("ignore_index") : -100, red = ops_reduction(s);
    const int acc = s.has("acc") ? 1 : 0;
    const float ls = (float)s.num("label_smoothing");
    int logits = m.f(C, Role::Input, true, -3.f, 3.f);
    // A tie in row 0 (the first index must win on both).
    if (C > 1) c.init[logits][1] = c.init[logits][0];
    int lab = m.ints(1, true, Role::Input, [&](int64_t r) { return label_of(s, r, C, ignore); });
    int loss = m.w(1, Role::Forward), correct = m.ints(1, false, Role::Forward, [](int64_t) { return 0; });
    int weight = s.has("weight") ? m.nonneg(C, Role::Input) : -1;
    if (op == "softmax_cross_entropy") {
        int probs = m.f(C, Role::Forward), dl = m.f(C, Role::Backward);
        c.b.fwd.push_back(ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {logits, lab, probs, loss, correct, weight}, {C, ignore, red}, {ls}));
        c.b.bwd.push_back(ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dl, weight}, {C, acc, ignore, red}, {ls}));
    } else {   // nll_loss on log-probabilities
        for (float & v : c.init[logits]) v = -std::fabs(v);
        int dlp = m.f(C, Role::Backward);
        c.b.fwd.push_back(ins(nl::Op::NLL_LOSS_FORWARD, {logits, lab, loss, correct, weight}, {C, ignore, red}));
        c.b.bwd.push_back(ins(nl::Op::NLL_LOSS_BACKWARD, {lab, dlp, weight}, {C, ignore, red, acc}));
    }
}

void build_point_loss(const Shape & s, RowCase & c, Maker & m, std::string & why) {
    const int kind = index_of(s.str("kind"), {"MSELoss", "L1Loss", "SmoothL1Loss", "BCEWithLogitsLoss"});
    if (kind < 0) {
        why = "unknown point loss kind '" + s.str("kind") + "' (point-loss.def)";
        return;
    }
    const int f = s.i("features"), red = ops_reduction(s);
    const float beta = (float)s.num("beta", 0, 1.0);
    int pred = m.f(f, Role::Input, true, -3.f, 3.f), tgt = m.f(f, Role::Input, true, 0.f, 1.f), loss = m.w(1, Role::Forward);
    int dp = s.has("dpred") ? m.f(f, Role::Backward) : -1, dt = s.has("dtarget") ? m.f(f, Role::Backward) : -1;
    c.b.fwd.push_back(ins(nl::Op::POINT_LOSS_FORWARD, {pred, tgt, loss}, {kind, f, red}, {beta}));
    c.b.bwd.push_back(
        ins(nl::Op::POINT_LOSS_BACKWARD, {pred, tgt, dp, dt}, {kind, f, red, s.has("acc_pred") ? 1 : 0, s.has("acc_target") ? 1 : 0}, {beta}));
}

void build_one_hot(const Shape & s, RowCase & c, Maker & m) {
    const int C = s.i("classes");
    int lab = m.ints(1, true, Role::Input, [&](int64_t r) { return (int32_t)((3 * r + 1) % C); }), y = m.f(C, Role::Forward);
    c.b.fwd.push_back(ins(nl::Op::ONE_HOT, {lab, y}, {C}));
}

// ---- pooling, normalisation -----------------------------------------------------------------------

// PyTorch's pooled size, ceil_mode included (a last window must start inside the input or its left padding).
int pooled(int in, int k, int st, int pad, int dil, bool ceil_mode) {
    const int span = in + 2 * pad - dil * (k - 1) - 1;
    int out = (ceil_mode ? (span + st - 1) / st : span / st) + 1;
    if (ceil_mode && (out - 1) * st >= in + pad) out--;
    return out;
}

void build_pool(const std::string & op, const Shape & s, RowCase & c, Maker & m) {
    const int ch = s.i("c"), h = s.i("h"), w = s.i("w"), acc = s.has("acc") ? 1 : 0;
    if (op == "adaptive_avg_pool2d") {
        const int ho = s.i("ho"), wo = s.i("wo");
        int x = m.f(ch * h * w), y = m.f(ch * ho * wo, Role::Forward), dy = m.f(ch * ho * wo), dx = m.f(ch * h * w, Role::Backward);
        c.b.fwd.push_back(ins(nl::Op::ADAPTIVE_AVG_POOL2D_FORWARD, {x, y}, {ch, h, w, ho, wo}));
        c.b.bwd.push_back(ins(nl::Op::ADAPTIVE_AVG_POOL2D_BACKWARD, {dy, dx}, {ch, h, w, ho, wo, acc}));
        return;
    }
    const int kh = s.i("k", 0, 1), kw = s.i("k", 1, 1), sh = s.i("s", 0, 1), sw = s.i("s", 1, 1), ph = s.i("pad", 0), pw = s.i("pad", 1);
    const int dh = s.i("d", 0, 1), dw = s.i("d", 1, 1);
    const bool ceil_mode = s.has("ceil_mode");
    const int ho = pooled(h, kh, sh, ph, dh, ceil_mode), wo = pooled(w, kw, sw, pw, dw, ceil_mode);
    int x = m.f(ch * h * w), y = m.f(ch * ho * wo, Role::Forward);
    if (op == "max_pool2d") {
        int idx = m.ints(ch * ho * wo, true, Role::Forward, [](int64_t) { return 0; }), dy = m.f(ch * ho * wo), dx = m.f(ch * h * w, Role::Backward);
        std::vector<int32_t> g{ch, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo};
        c.b.fwd.push_back(ins(nl::Op::MAX_POOL2D_FORWARD, {x, y, idx}, g));
        g.push_back(acc);
        c.b.bwd.push_back(ins(nl::Op::MAX_POOL2D_BACKWARD, {dy, idx, dx}, g));
        return;
    }
    int dy = m.f(ch * ho * wo), dx = m.f(ch * h * w, Role::Backward);
    std::vector<int32_t> g{ch, h, w, kh, kw, sh, sw, ph, pw, ho, wo, s.i("count_include_pad", 0, 1), s.i("divisor_override")};
    c.b.fwd.push_back(ins(nl::Op::AVG_POOL2D_FORWARD, {x, y}, g));
    g.push_back(acc);
    c.b.bwd.push_back(ins(nl::Op::AVG_POOL2D_BACKWARD, {dy, dx}, g));
}

void build_batch_norm(const Shape & s, RowCase & c, Maker & m) {
    const int C = s.i("channels"), inner = s.i("inner");
    const bool affine = s.has("affine"), running = s.has("running");
    c.s.training = !s.has("eval");
    if (s.has("halted"))
        c.skip = "DeviceStep.halted is set only by the device-side epoch loop, not through Backend::run (ops-emulation checks it)";
    int x = m.f(C * inner, Role::Input, true, -2.f, 3.f), w = affine ? m.w(C) : -1, b = affine ? m.w(C) : -1;
    int rm = running ? m.w(C, Role::Forward) : -1, rv = running ? m.nonneg(C, Role::Forward) : -1;
    int nbt = running ? m.ints(1, false, Role::Forward, [](int64_t) { return 4; }) : -1;
    int sm = m.w(C, Role::Forward), si = m.w(C, Role::Forward), y = m.f(C * inner, Role::Forward);
    c.b.fwd.push_back(ins(nl::Op::BATCH_NORM_FORWARD, {x, w, b, rm, rv, nbt, sm, si, y}, {C, inner}, {1e-5f, (float)s.num("momentum", 0, 0.1)}));
    if (!c.s.training) return;
    int dy = m.f(C * inner), dx = m.f(C * inner, Role::Backward), dw = affine ? m.w(C, Role::Backward) : -1, db = affine ? m.w(C, Role::Backward) : -1;
    c.b.bwd.push_back(ins(nl::Op::BATCH_NORM_BACKWARD, {dy, x, w, sm, si, dx, dw, db}, {C, inner, s.has("acc") ? 1 : 0}));
}

void build_layer_norm(const Shape & s, RowCase & c, Maker & m) {
    const int rows = s.i("rows"), cols = s.i("cols");
    const bool affine = s.has("affine");
    int x = m.f(rows * cols, Role::Input, true, -2.f, 3.f), w = affine ? m.w(cols) : -1, b = affine ? m.w(cols) : -1;
    int y = m.f(rows * cols, Role::Forward), mean = m.f(rows, Role::Forward), rstd = m.f(rows, Role::Forward);
    int dy = m.f(rows * cols), dx = m.f(rows * cols, Role::Backward), dw = affine ? m.w(cols, Role::Backward) : -1, db = affine ? m.w(cols, Role::Backward) : -1;
    c.b.fwd.push_back(ins(nl::Op::LAYER_NORM_FORWARD, {x, w, b, y, mean, rstd}, {rows, cols}, {1e-5f}));
    c.b.bwd.push_back(ins(nl::Op::LAYER_NORM_BACKWARD, {dy, x, w, mean, rstd, dx, dw, db}, {rows, cols, s.has("acc") ? 1 : 0}));
}

// ---- optimizers (the step section; forward_tol bounds the parameter and every state) ---------------

void build_optimizer(const std::string & op, const Shape & s, RowCase & c, Maker & m) {
    const int n = s.i("count");
    const int maximize = s.has("maximize") ? 1 : 0;
    const float wd = (float)s.num("weight_decay"), mom = (float)s.num("momentum");
    c.s.step = s.i("step", 0, 1);
    c.s.lr = (float)s.num("lr_override", 0, -1);
    c.s.momentum = (float)s.num("beta1_override", 0, -1);
    c.check_mode = s.has("check");
    const Role out = c.check_mode ? Role::Input : Role::Forward;   // check mode writes nothing: compared too
    int p = m.w(n, out), g = m.w(n);
    const int bad = s.i("grad_inf_at", 0, -1);
    if (bad >= 0 && bad < n) c.init[g][bad] = INFINITY;
    if (op == "sgd_step") {
        int buf = (mom != 0 || c.check_mode) ? m.w(n, out) : -1;
        c.b.step.push_back(ins(nl::Op::SGD_STEP, {p, g, buf}, {s.has("nesterov") ? 1 : 0, maximize}, {0.1f, mom, (float)s.num("dampening"), wd}));
    } else if (op == "adam_step") {
        const int ams = s.has("amsgrad") ? 1 : 0;
        int ea = m.w(n, out), eas = m.nonneg(n, out), mx = ams ? m.nonneg(n, out) : -1;
        c.b.step.push_back(ins(nl::Op::ADAM_STEP, {p, g, ea, eas, mx}, {ams, maximize, s.has("decoupled") ? 1 : 0}, {1e-2f, 0.9f, 0.999f, 1e-8f, wd}));
    } else if (op == "rmsprop_step") {
        const int centered = s.has("centered") ? 1 : 0;
        int sq = m.nonneg(n, out), mb = mom != 0 ? m.w(n, out) : -1, ga = centered ? m.w(n, out) : -1;
        c.b.step.push_back(ins(nl::Op::RMSPROP_STEP, {p, g, sq, mb, ga}, {centered, maximize}, {1e-2f, 0.99f, 1e-8f, wd, mom}));
    } else {   // adagrad_step
        int sum = m.nonneg(n, out);
        c.b.step.push_back(ins(nl::Op::ADAGRAD_STEP, {p, g, sum}, {maximize}, {1e-2f, (float)s.num("lr_decay"), wd, 1e-10f}));
    }
}

void build_grad_norm(const std::string & op, const Shape & s, RowCase & c, Maker & m) {
    const int n = s.i("count");
    if (op == "grad_norm_sq") {
        const int first = s.i("first");
        int g = m.w(n), norm = m.buf(false, false, 1, Role::Forward, [](int64_t) { return 2.5f; });
        c.b.step.push_back(ins(nl::Op::GRAD_NORM_SQ, {g, norm}, {first}));
        return;
    }
    int g = m.w(n, Role::Forward), norm = m.w(1, Role::Forward);   // clip_grad: the norm on the device first
    c.b.step.push_back(ins(nl::Op::GRAD_NORM_SQ, {g, norm}, {1}));
    c.b.step.push_back(ins(nl::Op::CLIP_GRAD, {g, norm}, {}, {(float)s.num("max_norm", 0, 1.0)}));
}

void build_one(const OpCase & row, const Shape & s, RowCase & c, std::string & why) {
    Maker m{c};
    const std::string op = row.op;
    c.b.batch = s.has("n") ? s.i("n") : 1;
    c.tf32 = s.str("mode", "tf32") == "tf32";
    c.s.n = c.b.batch;
    if (op == "linear") build_linear(s, c, m);
    else if (op == "conv2d" || op == "conv_transpose2d") build_conv(s, c, m, op == "conv_transpose2d");
    else if (op == "relu" || op == "activation") build_activation(op, s, c, m, why);
    else if (op == "softmax") build_softmax(s, c, m);
    else if (op == "dropout") build_dropout(s, c, m);
    else if (op == "add" || op == "copy" || op == "concat") build_structure(op, s, c, m);
    else if (op == "softmax_cross_entropy" || op == "nll_loss") build_class_loss(op, s, c, m);
    else if (op == "point_loss") build_point_loss(s, c, m, why);
    else if (op == "one_hot") build_one_hot(s, c, m);
    else if (op == "max_pool2d" || op == "avg_pool2d" || op == "adaptive_avg_pool2d") build_pool(op, s, c, m);
    else if (op == "batch_norm") build_batch_norm(s, c, m);
    else if (op == "layer_norm") build_layer_norm(s, c, m);
    else if (op == "sgd_step" || op == "adam_step" || op == "rmsprop_step" || op == "adagrad_step") build_optimizer(op, s, c, m);
    else if (op == "grad_norm_sq" || op == "clip_grad") build_grad_norm(op, s, c, m);
    else why = "no builder for op '" + op + "' (add one to parity-rows.cpp)";
}

} // namespace

bool build_row(const OpCase & row, std::vector<RowCase> & out, std::string & why) {
    for (const Shape & s : opcase::expand(row)) {
        RowCase c;
        c.label = std::string(row.op) + " [" + s.text() + "]";
        c.fwd_tol = row.forward_tol;
        c.bwd_tol = row.backward_tol;
        build_one(row, s, c, why);
        if (!why.empty()) return false;
        if (row.backward_tol < 0) c.b.bwd.clear();   // that direction does not exist
        out.push_back(std::move(c));
    }
    return true;
}

namespace {

// Runs a case on `be`: every buffer from its initial words, then the forward, backward and step
// sections (check_step instead of run() in check mode); the buffers after, and the step-check bits.
nl::Status run_case(nl::Backend & be, const nl::Program & p, const RowCase & c, std::vector<std::vector<float>> & out, unsigned & nonfinite) {
    nl::Status st = be.alloc_buffers(p);
    for (size_t id = 0; st.ok() && id < c.init.size(); id++) st = be.set_buffer((int32_t)id, c.init[id].data(), c.init[id].size() * 4);
    nonfinite = 0;
    for (const std::vector<nl::Instr> * section : {&p.forward, &p.backward, &p.step})
        for (const nl::Instr & in : *section) {
            if (!st.ok()) break;
            if (c.check_mode && section == &p.step) {
                unsigned bits = 0;
                st = be.check_step(in, c.s, false, bits);
                nonfinite |= bits;
            } else {
                st = be.run(in, c.s);
            }
        }
    if (st.ok()) st = be.synchronize();
    out.assign(c.init.size(), {});
    for (size_t id = 0; st.ok() && id < c.init.size(); id++) {
        out[id].resize(c.init[id].size());
        st = be.get_buffer((int32_t)id, out[id].data(), out[id].size() * 4);
    }
    return st;
}

// |got - want| / max(1, max |want|) over one buffer; NaN where exactly one side is NaN (fails any
// tolerance). Ints and inputs (never written): any difference in the bits is an infinite error.
double buffer_error(const std::vector<float> & want, const std::vector<float> & got, bool exact) {
    if (exact) return std::memcmp(want.data(), got.data(), want.size() * 4) ? INFINITY : 0.0;
    double diff = 0, scale = 1;
    for (size_t k = 0; k < want.size(); k++) {
        const bool a = std::isnan(want[k]), b = std::isnan(got[k]);
        if (a || b) {
            if (a != b) return NAN;
            continue;
        }
        if (std::isinf(want[k]) || std::isinf(got[k])) {
            if (want[k] != got[k]) return INFINITY;
            continue;
        }
        diff = std::max(diff, (double)std::fabs(want[k] - got[k]));
        scale = std::max(scale, (double)std::fabs(want[k]));
    }
    return diff / scale;
}

bool within(double err, double tol) { return !std::isnan(err) && (tol == 0 ? err == 0 : err <= tol); }

// Compares one case's CPU and CUDA buffers: whether it passed, and its report line in `text`.
bool evaluate(const RowCase & c, const std::vector<std::vector<float>> & want, const std::vector<std::vector<float>> & got, unsigned want_bits,
              unsigned got_bits, std::string & text) {
    double fwd = 0, bwd = 0, inputs = 0;
    for (size_t id = 0; id < want.size(); id++) {
        const bool exact = c.is_int[id] || c.role[id] == Role::Input;
        const double tol = c.role[id] == Role::Backward ? c.bwd_tol : c.fwd_tol;
        const double e = buffer_error(want[id], got[id], exact || tol == 0);
        double & into = c.role[id] == Role::Input ? inputs : c.role[id] == Role::Forward ? fwd : bwd;
        into = std::isnan(e) || std::isnan(into) ? NAN : std::max(into, e);
    }
    const bool ok = within(fwd, c.fwd_tol) && (c.bwd_tol < 0 || within(bwd, c.bwd_tol)) && inputs == 0 && want_bits == got_bits;
    char line[512];
    std::snprintf(line, sizeof line, "%s%s: forward max error %.2e (tol %.0e)", c.label.c_str(), c.tf32 ? "" : " (fp32)", fwd, c.fwd_tol);
    text = line;
    if (c.bwd_tol >= 0) {
        std::snprintf(line, sizeof line, ", backward %.2e (tol %.0e)", bwd, c.bwd_tol);
        text += line;
    }
    if (inputs != 0) text += ", an input was written";
    if (c.check_mode) {
        std::snprintf(line, sizeof line, ", step-check bits cpu %u cuda %u", want_bits, got_bits);
        text += line;
    }
    return ok;
}

bool compare(const RowCase & c, const std::vector<std::vector<float>> & want, const std::vector<std::vector<float>> & got, unsigned want_bits,
             unsigned got_bits) {
    std::string text;
    const bool ok = evaluate(c, want, got, want_bits, got_bits, text);
    nltest::check(ok, text);
    return ok;
}

} // namespace

int run_table(nl::Backend & cpu, nl::Backend * cuda_tf32, nl::Backend * cuda_fp32) {
    int rows = 0, cases = 0, failed = 0, skipped = 0;
    for (const OpCase & row : kOpCases) {
        rows++;
        std::vector<RowCase> built;
        std::string why;
        if (!build_row(row, built, why)) {
            nltest::check(false, "%s [%s]: the row builds: %s", row.op, row.shape, why.c_str());
            failed++;
            continue;
        }
        for (const RowCase & c : built) {
            cases++;
            auto words = c.b.words({-1, -1, -1, -1, -1, -1, 0, -1});
            nl::Program p;
            nl::Status st = nl::program_decode(words.data(), words.size(), p);
            std::vector<std::vector<float>> want, got;
            unsigned want_bits = 0, got_bits = 0;
            if (st.ok()) st = run_case(cpu, p, c, want, want_bits);
            if (!st.ok()) {
                nltest::check(false, "%s: a valid instruction that runs on the CPU: %s", c.label.c_str(), st.message.c_str());
                failed++;
                continue;
            }
            if (!c.skip.empty()) {
                std::printf("SKIP  %s on CUDA: %s\n", c.label.c_str(), c.skip.c_str());
                skipped++;
                continue;
            }
            nl::Backend * cuda = c.tf32 ? cuda_tf32 : cuda_fp32;
            if (!cuda) {   // --cpu
                nltest::check(true, "%s: decodes, validates and runs on the CPU", c.label.c_str());
                continue;
            }
            st = run_case(*cuda, p, c, got, got_bits);
            if (!st.ok()) {
                nltest::check(false, "%s runs on CUDA: %s", c.label.c_str(), st.message.c_str());
                failed++;
                continue;
            }
            if (!compare(c, want, got, want_bits, got_bits)) failed++;
        }
    }
    std::printf("op table: %d rows, %d cases, %d failed, %d skipped%s\n", rows, cases, failed, skipped,
                cuda_tf32 ? "" : " (CPU only: every case decoded, validated and ran on the CPU)");
    if (!cuda_tf32) nltest::check(failed == 0 && cases > 0, "every row of op-cases.h builds a valid program that runs on the CPU");
    return failed;
}

bool comparison_catches_errors() {
    // A softmax case (tolerance 1e-6) and a max_pool2d case (exact, int indices): the comparison must
    // pass the CPU's own buffers and fail them with one value 1e-5 off or one index off by one.
    const OpCase rows[] = {{"softmax", "n=2 outer=1 dim=5 inner=1 log=0", 1e-6, 1e-6, ""},
                           {"max_pool2d", "n=1 c=1 h=4 w=4 k=2x2 s=2x2 pad=0x0 d=1x1", 0, 0, ""}};
    std::unique_ptr<nl::Backend> cpu;
    nl::cpu_backend_create(1, cpu);
    bool caught = true;
    for (const OpCase & row : rows) {
        std::vector<RowCase> built;
        std::string why, text;
        if (!build_row(row, built, why)) return false;
        const RowCase & c = built[0];
        auto words = c.b.words({-1, -1, -1, -1, -1, -1, 0, -1});
        nl::Program p;
        std::vector<std::vector<float>> want;
        unsigned bits = 0;
        if (!nl::program_decode(words.data(), words.size(), p).ok() || !run_case(*cpu, p, c, want, bits).ok()) return false;
        caught = caught && evaluate(c, want, want, bits, bits, text);
        for (size_t id = 0; id < want.size(); id++) {
            if (c.role[id] != Role::Forward) continue;
            std::vector<std::vector<float>> got = want;
            if (c.is_int[id]) {
                int32_t k;
                std::memcpy(&k, &got[id][0], 4);
                k++;
                std::memcpy(&got[id][0], &k, 4);
            } else {
                got[id][0] += 1e-5f;
            }
            caught = caught && !evaluate(c, want, got, bits, bits, text);
        }
    }
    return caught;
}

} // namespace parity
