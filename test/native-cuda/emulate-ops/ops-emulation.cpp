// Runs the non-GEMM CUDA ops (native/cuda/ops/{activation,loss,pool,norm,dropout,structure,optim}.cu)
// on the CPU through the emulation shim (cuda_runtime.h here; run.sh builds it) and compares every
// output with the CPU kernels (native/core/kernels/) over odd shapes and every attribute: the check
// that the indexing, the window/gather rules, the reductions and the device-side scalars of the CUDA
// code are right, where no GPU exists. Not a substitute for test/native-cuda/parity.cpp on a GPU:
// CUDA's own expf/erff/tanhf/pow, real warp scheduling and real concurrency are not exercised.
//
// Buffers sit at odd word offsets; overwritten outputs start as NaN (a kernel that reads them shows
// it), accumulated ones start random. Elementwise results and optimizer steps must match the CPU to
// the bit (the same float operations); reductions, whose summation order differs, within 1e-6.
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>
#include "cuda-args.h"
#include "kernels.h"

namespace nl {
Status cuda_launched(const char *) { return {}; }
} // namespace nl

using namespace nl;

namespace {

std::mt19937 rng(4321);
int failures = 0, checks = 0;

std::vector<float> randv(int64_t n, float lo = -2.f, float hi = 2.f) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> v((size_t)n);
    for (auto & x : v) x = u(rng);
    return v;
}
std::vector<int32_t> labels(int n, int c, int ignore) {
    std::vector<int32_t> v((size_t)n);
    for (int i = 0; i < n; i++) v[i] = (i % 7 == 3) ? ignore : (int32_t)(rng() % (unsigned)c);
    return v;
}

// One instruction of a fake program over a host "arena": operands in ops.def order.
struct Fake {
    Program prog;
    Instr in;
    std::vector<float> arena = std::vector<float>(1);
    int n;
    bool training = true;
    DeviceStep ds{-1.f, -1.f, 1, 7, 0, 0};
    explicit Fake(Op op, std::vector<int32_t> ints, std::vector<float> floats, int n_) : n(n_) {
        in.op = op;
        in.ints = std::move(ints);
        in.floats = std::move(floats);
        prog.max_batch = n;
    }
    // batched: v holds n samples; words are 4 bytes (int32 values stored bitwise)
    int add(const void * v, size_t words, bool batched, DType t = DType::F32) {
        const int64_t off = (int64_t)arena.size() + 1;   // odd offsets
        arena.resize((size_t)off + words + 2);
        std::memcpy(&arena[(size_t)off], v, words * 4);
        prog.buffers.push_back(BufferDesc{t, batched, batched ? (int64_t)words / n : (int64_t)words, off});
        in.bufs.push_back((int32_t)prog.buffers.size() - 1);
        return in.bufs.back();
    }
    int f(const std::vector<float> & v, bool batched = true) { return add(v.data(), v.size(), batched); }
    int i(const std::vector<int32_t> & v, bool batched = true) { return add(v.data(), v.size(), batched, DType::I32); }
    int out(size_t words, bool batched = true) { return f(std::vector<float>(words, NAN), batched); }
    void none() { in.bufs.push_back(-1); }
    float * at(int k) { return &arena[(size_t)prog.buffers[in.bufs[k]].offset]; }
    std::vector<float> get(int k) {
        const BufferDesc & b = prog.buffers[in.bufs[k]];
        const float * p = at(k);
        return std::vector<float>(p, p + b.words(n));
    }
    int32_t geti(int k) {
        int32_t v;
        std::memcpy(&v, at(k), 4);
        return v;
    }
    template <class O> void run(unsigned * bits = nullptr) {
        const size_t wsb = cuda_workspace<O>(OperandsOf<O>{in}, n);
        std::vector<double> ws(wsb / 8 + 2, NAN);
        CudaContext cx;
        cx.prog = &prog;
        cx.arena = reinterpret_cast<char *>(arena.data());
        cx.dstep = &ds;
        cx.workspace = ws.data();
        cx.workspace_bytes = wsb;
        cx.sm_count = 1;   // small grids: the grid-stride loops wrap
        StepState st;
        st.n = n;
        st.training = training;
        CudaArgs<O> a(in, cx, st);
        Status s = bits ? cuda_check_step<O>(a, bits) : cuda_run<O>(a);
        if (!s.ok()) std::printf("  run failed: %s\n", s.message.c_str());
    }
};

void compare(const std::string & what, const std::vector<float> & got, const std::vector<float> & want, double tol) {
    checks++;
    double worst = 0;
    size_t bad = 0, at = 0;
    if (got.size() != want.size()) {
        std::printf("FAIL %s: size %zu vs %zu\n", what.c_str(), got.size(), want.size());
        failures++;
        return;
    }
    for (size_t k = 0; k < got.size(); k++) {
        const double g = got[k], w = want[k];
        if (std::isnan(g) && std::isnan(w)) continue;
        const double e = std::fabs(g - w) / (1.0 + std::fabs(w));
        if (!(e <= tol)) {
            if (!bad) at = k;
            bad++;
            if (!(e <= worst)) worst = e;
        }
    }
    if (bad) {
        failures++;
        std::printf("FAIL %s: %zu of %zu off (first at %zu: %.9g vs %.9g), worst %.3g\n", what.c_str(), bad, got.size(), at, got[at], want[at], worst);
    }
}
void compare1(const std::string & what, double got, double want, double tol) { compare(what, {(float)got}, {(float)want}, tol); }

// ---- activation.cu ---------------------------------------------------------------------------------

void test_activation() {
    const int n = 3, feat = 257;
    const auto x = randv(n * feat, -6, 6), dy = randv(n * feat), acc0 = randv(n * feat);
    {
        Fake f(Op::RELU_FORWARD, {feat}, {}, n);
        f.f(x), f.out(x.size());
        f.run<op::RELU_FORWARD>();
        std::vector<float> want(x.size());
        relu_forward(x.data(), want.data(), x.size());
        compare("relu_forward", f.get(1), want, 0);
        for (int acc = 0; acc < 2; acc++) {
            Fake b(Op::RELU_BACKWARD, {feat, acc}, {}, n);
            b.f(dy), b.f(want), acc ? b.f(acc0) : b.out(x.size());
            b.run<op::RELU_BACKWARD>();
            std::vector<float> w = acc0;
            relu_backward(dy.data(), want.data(), w.data(), x.size(), acc);
            compare("relu_backward acc=" + std::to_string(acc), b.get(2), w, 0);
        }
    }
    for (int kind = 0; kind < ACTIVATION_COUNT; kind++) {
        const float alpha = 0.37f;
        Fake f(Op::ACTIVATION_FORWARD, {kind, feat}, {alpha}, n);
        f.f(x), f.out(x.size());
        f.run<op::ACTIVATION_FORWARD>();
        std::vector<float> y(x.size());
        activation_forward((Activation)kind, alpha, x.data(), y.data(), x.size());
        compare("activation_forward kind " + std::to_string(kind), f.get(1), y, 0);
        for (int acc = 0; acc < 2; acc++) {
            Fake b(Op::ACTIVATION_BACKWARD, {kind, feat, acc}, {alpha}, n);
            b.f(dy), b.f(x), b.f(y), acc ? b.f(acc0) : b.out(x.size());
            b.run<op::ACTIVATION_BACKWARD>();
            std::vector<float> w = acc0;
            activation_backward((Activation)kind, alpha, dy.data(), x.data(), y.data(), w.data(), x.size(), acc);
            compare("activation_backward kind " + std::to_string(kind) + " acc=" + std::to_string(acc), b.get(3), w, 0);
        }
    }
}

void test_softmax() {
    const int n = 3;
    for (int inner : {1, 5})
        for (int dim : {7, 45})
            for (int log = 0; log < 2; log++) {
                const int outer = 2, e = outer * dim * inner;
                const auto x = randv(n * e, -9, 9), dy = randv(n * e), acc0 = randv(n * e);
                const std::string tag = " inner=" + std::to_string(inner) + " dim=" + std::to_string(dim) + " log=" + std::to_string(log);
                Fake f(Op::SOFTMAX_FORWARD, {outer, dim, inner, log}, {}, n);
                f.f(x), f.out(x.size());
                f.run<op::SOFTMAX_FORWARD>();
                std::vector<float> y(x.size());
                softmax_forward(x.data(), y.data(), (int64_t)n * outer, dim, inner, log);
                compare("softmax_forward" + tag, f.get(1), y, 1e-6);
                for (int acc = 0; acc < 2; acc++) {
                    Fake b(Op::SOFTMAX_BACKWARD, {outer, dim, inner, log, acc}, {}, n);
                    b.f(dy), b.f(y), acc ? b.f(acc0) : b.out(x.size());
                    b.run<op::SOFTMAX_BACKWARD>();
                    std::vector<float> w = acc0;
                    softmax_backward(dy.data(), y.data(), w.data(), (int64_t)n * outer, dim, inner, log, acc);
                    compare("softmax_backward" + tag + " acc=" + std::to_string(acc), b.get(2), w, 1e-6);
                }
            }
}

// ---- loss.cu ---------------------------------------------------------------------------------------

void test_class_losses() {
    const int n = 37;
    for (int c : {11, 40})
        for (int weighted = 0; weighted < 2; weighted++)
            for (int red = 0; red < REDUCTION_COUNT; red++)
                for (float eps : {0.f, 0.1f}) {
                    const int ignore = 2;
                    auto logits = randv(n * c, -5, 5);
                    logits[5] = logits[6] = 4.f;   // a tie in row 0
                    const auto lab = labels(n, c, ignore);
                    const auto w = randv(c, 0.1f, 2.f);
                    const std::string tag = " c=" + std::to_string(c) + " w=" + std::to_string(weighted) + " red=" + std::to_string(red) +
                                            " eps=" + std::to_string(eps);
                    CrossEntropyParams p;
                    p.weight = weighted ? w.data() : nullptr;
                    p.ignore_index = ignore;
                    p.label_smoothing = eps;
                    p.reduction = (Reduction)red;
                    Fake f(Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {c, ignore, red}, {eps}, n);
                    f.f(logits), f.i(lab), f.out(logits.size()), f.out(1, false), f.out(1, false);
                    weighted ? (void)f.f(w, false) : f.none();
                    f.run<op::SOFTMAX_CROSS_ENTROPY_FORWARD>();
                    std::vector<float> probs(logits.size());
                    float loss = 0;
                    int64_t correct = 0;
                    cross_entropy_forward(logits.data(), lab.data(), probs.data(), n, c, p, &loss, &correct);
                    compare("cross_entropy probs" + tag, f.get(2), probs, 1e-6);
                    compare1("cross_entropy loss" + tag, f.get(3)[0], loss, 1e-6);
                    compare1("cross_entropy correct" + tag, f.geti(4), (double)correct, 0);
                    for (int acc = 0; acc < 2; acc++) {
                        const auto acc0 = randv(n * c);
                        Fake b(Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {c, acc, ignore, red}, {eps}, n);
                        b.f(probs), b.i(lab), acc ? b.f(acc0) : b.out(probs.size());
                        weighted ? (void)b.f(w, false) : b.none();
                        b.run<op::SOFTMAX_CROSS_ENTROPY_BACKWARD>();
                        std::vector<float> want = acc0;
                        cross_entropy_backward(probs.data(), lab.data(), want.data(), n, c, p, acc);
                        compare("cross_entropy_backward" + tag + " acc=" + std::to_string(acc), b.get(2), want, 1e-6);
                    }
                    if (eps != 0.f) continue;
                    // nll over the log-probabilities
                    std::vector<float> logp(logits.size());
                    softmax_forward(logits.data(), logp.data(), n, c, 1, true);
                    Fake g(Op::NLL_LOSS_FORWARD, {c, ignore, red}, {}, n);
                    g.f(logp), g.i(lab), g.out(1, false), g.out(1, false);
                    weighted ? (void)g.f(w, false) : g.none();
                    g.run<op::NLL_LOSS_FORWARD>();
                    nll_loss_forward(logp.data(), lab.data(), n, c, p, &loss, &correct);
                    compare1("nll loss" + tag, g.get(2)[0], loss, 1e-6);
                    compare1("nll correct" + tag, g.geti(3), (double)correct, 0);
                    for (int acc = 0; acc < 2; acc++) {
                        const auto acc0 = randv(n * c);
                        Fake b(Op::NLL_LOSS_BACKWARD, {c, ignore, red, acc}, {}, n);
                        b.i(lab), acc ? b.f(acc0) : b.out(logp.size());
                        weighted ? (void)b.f(w, false) : b.none();
                        b.run<op::NLL_LOSS_BACKWARD>();
                        std::vector<float> want = acc0;
                        nll_loss_backward(lab.data(), want.data(), n, c, p, acc);
                        compare("nll_backward" + tag + " acc=" + std::to_string(acc), b.get(1), want, 1e-6);
                    }
                }
    // a label outside [0, c): NaN loss on CUDA (the CPU returns BAD_LABEL)
    const int c = 5, n2 = 4;
    Fake f(Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {c, -100, 0}, {0.f}, n2);
    f.f(randv(n2 * c)), f.i({0, 1, 9, 2}), f.out(n2 * c), f.out(1, false), f.none(), f.none();
    f.run<op::SOFTMAX_CROSS_ENTROPY_FORWARD>();
    checks++;
    if (!std::isnan(f.get(3)[0])) failures++, std::printf("FAIL cross_entropy bad label: loss %g, not NaN\n", f.get(3)[0]);
    // one_hot
    const auto lab = labels(9, c, -100);
    Fake o(Op::ONE_HOT, {c}, {}, 9);
    o.i(lab), o.out(9 * c);
    o.run<op::ONE_HOT>();
    std::vector<float> want(9 * c);
    one_hot(lab.data(), want.data(), 9, c);
    compare("one_hot", o.get(1), want, 0);
}

void test_point_losses() {
    const int n = 5, feat = 67;
    const auto pred = randv(n * feat, -3, 3), target = randv(n * feat, -3, 3);
    for (int kind = 0; kind < POINT_LOSS_COUNT; kind++)
        for (int red = 0; red < REDUCTION_COUNT; red++) {
            const float beta = kind == (int)PointLoss::SMOOTH_L1 ? 0.7f : 1.f;
            const std::string tag = " kind=" + std::to_string(kind) + " red=" + std::to_string(red);
            Fake f(Op::POINT_LOSS_FORWARD, {kind, feat, red}, {beta}, n);
            f.f(pred), f.f(target), f.out(1, false);
            f.run<op::POINT_LOSS_FORWARD>();
            compare1("point_loss" + tag, f.get(2)[0], point_loss_forward((PointLoss)kind, pred.data(), target.data(), pred.size(), (Reduction)red, beta),
                     1e-6);
            const auto a0 = randv(n * feat);
            Fake b(Op::POINT_LOSS_BACKWARD, {kind, feat, red, 1, 0}, {beta}, n);
            b.f(pred), b.f(target), b.f(a0), b.out(pred.size());
            b.run<op::POINT_LOSS_BACKWARD>();
            std::vector<float> wp = a0, wt(pred.size());
            point_loss_backward((PointLoss)kind, pred.data(), target.data(), wp.data(), nullptr, pred.size(), (Reduction)red, beta, true);
            point_loss_backward((PointLoss)kind, pred.data(), target.data(), nullptr, wt.data(), pred.size(), (Reduction)red, beta, false);
            compare("point_loss_backward dpred" + tag, b.get(2), wp, 0);
            compare("point_loss_backward dtarget" + tag, b.get(3), wt, 0);
        }
}

// ---- pool.cu ---------------------------------------------------------------------------------------

void test_pools() {
    const int n = 2;
    struct G { int c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo; };
    for (const G & g : {G{3, 9, 8, 3, 2, 2, 1, 1, 1, 2, 1, 4, 9}, G{2, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1, 4, 4}, G{1, 7, 5, 3, 3, 1, 2, 1, 1, 1, 1, 7, 3},
                        G{2, 5, 5, 3, 3, 2, 2, 0, 0, 1, 1, 2, 2}}) {
        const std::vector<int32_t> geo{g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.ho, g.wo};
        const PoolShape s{g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.ho, g.wo, false, 0};
        const int in = g.c * g.h * g.w, out = g.c * g.ho * g.wo;
        auto x = randv(n * in);
        x[4] = x[5];   // ties
        const std::string tag = " " + std::to_string(g.h) + "x" + std::to_string(g.w) + " k" + std::to_string(g.kh) + std::to_string(g.kw);
        Fake f(Op::MAX_POOL2D_FORWARD, geo, {}, n);
        f.f(x), f.out(n * out), f.out(n * out);
        f.run<op::MAX_POOL2D_FORWARD>();
        std::vector<float> y(n * out);
        std::vector<int32_t> idx(n * out);
        max_pool2d_forward(nullptr, s, x.data(), y.data(), idx.data(), n);
        compare("max_pool2d_forward" + tag, f.get(1), y, 0);
        std::vector<float> idxf(idx.size());
        std::memcpy(idxf.data(), idx.data(), idx.size() * 4);
        const auto gi = f.get(2);
        checks++;
        if (std::memcmp(gi.data(), idxf.data(), idx.size() * 4)) failures++, std::printf("FAIL max_pool2d indices%s\n", tag.c_str());
        const auto dy = randv(n * out), acc0 = randv(n * in);
        for (int acc = 0; acc < 2; acc++) {
            auto geo_b = geo;
            geo_b.push_back(acc);
            Fake b(Op::MAX_POOL2D_BACKWARD, geo_b, {}, n);
            b.f(dy), b.i(idx), acc ? b.f(acc0) : b.out(n * in);
            b.run<op::MAX_POOL2D_BACKWARD>();
            std::vector<float> want = acc0;
            max_pool2d_backward(nullptr, s, dy.data(), idx.data(), want.data(), n, acc);
            compare("max_pool2d_backward" + tag + " acc=" + std::to_string(acc), b.get(2), want, 0);
        }
        if (g.dh != 1 || g.dw != 1) continue;
        for (int cip = 0; cip < 2; cip++)
            for (int div : {0, 5}) {
                const std::vector<int32_t> ageo{g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.ho, g.wo, cip, div};
                const PoolShape as{g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, 1, 1, g.ho, g.wo, cip != 0, div};
                const std::string at = tag + " cip=" + std::to_string(cip) + " div=" + std::to_string(div);
                Fake a(Op::AVG_POOL2D_FORWARD, ageo, {}, n);
                a.f(x), a.out(n * out);
                a.run<op::AVG_POOL2D_FORWARD>();
                std::vector<float> ay(n * out);
                avg_pool2d_forward(nullptr, as, x.data(), ay.data(), n);
                compare("avg_pool2d_forward" + at, a.get(1), ay, 0);
                for (int acc = 0; acc < 2; acc++) {
                    auto geo_b = ageo;
                    geo_b.push_back(acc);
                    Fake b(Op::AVG_POOL2D_BACKWARD, geo_b, {}, n);
                    b.f(dy), acc ? b.f(acc0) : b.out(n * in);
                    b.run<op::AVG_POOL2D_BACKWARD>();
                    std::vector<float> want = acc0;
                    avg_pool2d_backward(nullptr, as, dy.data(), want.data(), n, acc);
                    compare("avg_pool2d_backward" + at + " acc=" + std::to_string(acc), b.get(1), want, 0);
                }
            }
    }
    struct A { int c, h, w, ho, wo; };
    for (const A & g : {A{3, 9, 7, 4, 3}, A{2, 5, 3, 11, 7}, A{1, 6, 6, 1, 1}}) {
        const int in = g.c * g.h * g.w, out = g.c * g.ho * g.wo;
        const auto x = randv(n * in), dy = randv(n * out), acc0 = randv(n * in);
        const std::string tag = " " + std::to_string(g.h) + "x" + std::to_string(g.w) + "->" + std::to_string(g.ho) + "x" + std::to_string(g.wo);
        Fake f(Op::ADAPTIVE_AVG_POOL2D_FORWARD, {g.c, g.h, g.w, g.ho, g.wo}, {}, n);
        f.f(x), f.out(n * out);
        f.run<op::ADAPTIVE_AVG_POOL2D_FORWARD>();
        std::vector<float> y(n * out);
        adaptive_avg_pool2d_forward(x.data(), y.data(), n, g.c, g.h, g.w, g.ho, g.wo);
        compare("adaptive_avg_pool2d_forward" + tag, f.get(1), y, 0);
        for (int acc = 0; acc < 2; acc++) {
            Fake b(Op::ADAPTIVE_AVG_POOL2D_BACKWARD, {g.c, g.h, g.w, g.ho, g.wo, acc}, {}, n);
            b.f(dy), acc ? b.f(acc0) : b.out(n * in);
            b.run<op::ADAPTIVE_AVG_POOL2D_BACKWARD>();
            std::vector<float> want = acc0;
            adaptive_avg_pool2d_backward(dy.data(), want.data(), n, g.c, g.h, g.w, g.ho, g.wo, acc);
            compare("adaptive_avg_pool2d_backward" + tag + " acc=" + std::to_string(acc), b.get(1), want, 0);
        }
    }
}

// ---- norm.cu ---------------------------------------------------------------------------------------

void test_batch_norm() {
    const int n = 5, c = 3;
    for (int inner : {1, 13})
        for (int affine = 0; affine < 2; affine++)
            for (float momentum : {0.1f, -1.f})
                for (int halted = 0; halted < 2; halted++) {
                    const int e = c * inner;
                    const auto x = randv(n * e, -3, 5), gamma = randv(c), beta = randv(c), rm0 = randv(c), rv0 = randv(c, 0.5f, 2.f);
                    const std::string tag = " inner=" + std::to_string(inner) + " affine=" + std::to_string(affine) +
                                            " momentum=" + std::to_string(momentum) + " halted=" + std::to_string(halted);
                    Fake f(Op::BATCH_NORM_FORWARD, {c, inner}, {1e-5f, momentum}, n);
                    f.ds.halted = halted;
                    f.f(x);
                    affine ? (void)f.f(gamma, false) : f.none();
                    affine ? (void)f.f(beta, false) : f.none();
                    f.f(rm0, false), f.f(rv0, false), f.i({4}, false), f.out(c, false), f.out(c, false), f.out(x.size());
                    f.run<op::BATCH_NORM_FORWARD>();
                    std::vector<float> rm = rm0, rv = rv0, sm(c), si(c), y(x.size());
                    int32_t nbt = 4;
                    batch_norm_forward_train(x.data(), affine ? gamma.data() : nullptr, affine ? beta.data() : nullptr, y.data(), sm.data(), si.data(),
                                             rm.data(), rv.data(), &nbt, n, c, inner, 1e-5f, momentum);
                    if (halted) rm = rm0, rv = rv0, nbt = 4;
                    compare("batch_norm y" + tag, f.get(8), y, 1e-6);
                    compare("batch_norm save_mean" + tag, f.get(6), sm, 1e-6);
                    compare("batch_norm save_invstd" + tag, f.get(7), si, 1e-6);
                    compare("batch_norm running_mean" + tag, f.get(3), rm, 1e-6);
                    compare("batch_norm running_var" + tag, f.get(4), rv, 1e-6);
                    compare1("batch_norm num_batches_tracked" + tag, f.geti(5), nbt, 0);
                    if (halted) continue;
                    // eval
                    Fake ev(Op::BATCH_NORM_FORWARD, {c, inner}, {1e-5f, momentum}, n);
                    ev.training = false;
                    ev.f(x);
                    affine ? (void)ev.f(gamma, false) : ev.none();
                    affine ? (void)ev.f(beta, false) : ev.none();
                    ev.f(rm0, false), ev.f(rv0, false), ev.i({4}, false), ev.out(c, false), ev.out(c, false), ev.out(x.size());
                    ev.run<op::BATCH_NORM_FORWARD>();
                    std::vector<float> ye(x.size());
                    batch_norm_forward_eval(x.data(), affine ? gamma.data() : nullptr, affine ? beta.data() : nullptr, rm0.data(), rv0.data(), ye.data(),
                                            n, c, inner, 1e-5f);
                    compare("batch_norm eval" + tag, ev.get(8), ye, 0);
                    for (int acc = 0; acc < 2; acc++) {
                        const auto dy = randv(x.size()), acc0 = randv(x.size());
                        Fake b(Op::BATCH_NORM_BACKWARD, {c, inner, acc}, {}, n);
                        b.f(dy), b.f(x);
                        affine ? (void)b.f(gamma, false) : b.none();
                        b.f(sm, false), b.f(si, false), acc ? b.f(acc0) : b.out(x.size());
                        if (affine) b.out(c, false), b.out(c, false);
                        else b.none(), b.none();
                        b.run<op::BATCH_NORM_BACKWARD>();
                        std::vector<float> dx = acc0, dg(c), db(c);
                        batch_norm_backward(dy.data(), x.data(), affine ? gamma.data() : nullptr, sm.data(), si.data(), dx.data(),
                                            affine ? dg.data() : nullptr, affine ? db.data() : nullptr, n, c, inner, acc);
                        compare("batch_norm_backward dx" + tag + " acc=" + std::to_string(acc), b.get(5), dx, 1e-6);
                        if (affine) compare("batch_norm_backward dgamma" + tag, b.get(6), dg, 1e-6), compare("batch_norm_backward dbeta" + tag, b.get(7), db, 1e-6);
                    }
                }
}

void test_layer_norm() {
    const int n = 3;
    for (int rows : {1, 31})
        for (int cols : {7, 100})
            for (int affine = 0; affine < 2; affine++) {
                const int e = rows * cols;
                const auto x = randv(n * e, -3, 5), gamma = randv(cols), beta = randv(cols);
                const std::string tag = " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " affine=" + std::to_string(affine);
                Fake f(Op::LAYER_NORM_FORWARD, {rows, cols}, {1e-5f}, n);
                f.f(x);
                affine ? (void)f.f(gamma, false) : f.none();
                affine ? (void)f.f(beta, false) : f.none();
                f.out(x.size()), f.out(n * rows), f.out(n * rows);
                f.run<op::LAYER_NORM_FORWARD>();
                std::vector<float> y(x.size()), m(n * rows), rs(n * rows);
                layer_norm_forward(x.data(), affine ? gamma.data() : nullptr, affine ? beta.data() : nullptr, y.data(), m.data(), rs.data(), (int64_t)n * rows,
                                   cols, 1e-5f);
                compare("layer_norm y" + tag, f.get(3), y, 1e-6);
                compare("layer_norm mean" + tag, f.get(4), m, 1e-6);
                compare("layer_norm rstd" + tag, f.get(5), rs, 1e-6);
                for (int acc = 0; acc < 2; acc++) {
                    const auto dy = randv(x.size()), acc0 = randv(x.size());
                    Fake b(Op::LAYER_NORM_BACKWARD, {rows, cols, acc}, {}, n);
                    b.f(dy), b.f(x);
                    affine ? (void)b.f(gamma, false) : b.none();
                    b.f(m), b.f(rs), acc ? b.f(acc0) : b.out(x.size());
                    if (affine) b.out(cols, false), b.out(cols, false);
                    else b.none(), b.none();
                    b.run<op::LAYER_NORM_BACKWARD>();
                    std::vector<float> dx = acc0, dg(cols), db(cols);
                    layer_norm_backward(dy.data(), x.data(), affine ? gamma.data() : nullptr, m.data(), rs.data(), dx.data(), affine ? dg.data() : nullptr,
                                        affine ? db.data() : nullptr, (int64_t)n * rows, cols, acc);
                    compare("layer_norm_backward dx" + tag + " acc=" + std::to_string(acc), b.get(5), dx, 1e-6);
                    if (affine) compare("layer_norm_backward dgamma" + tag, b.get(6), dg, 1e-5), compare("layer_norm_backward dbeta" + tag, b.get(7), db, 1e-5);
                }
            }
}

// ---- dropout.cu, structure.cu ----------------------------------------------------------------------

void test_dropout_structure() {
    const int n = 3, feat = 301;
    const auto x = randv(n * feat);
    for (float p : {0.f, 0.3f, 1.f})
        for (int training = 0; training < 2; training++) {
            const int salt = 5;
            Fake f(Op::DROPOUT_FORWARD, {feat, salt}, {p}, n);
            f.training = training;
            f.ds.step = 12;
            f.ds.seed = 99;
            f.f(x), f.out(x.size()), f.f(std::vector<float>(x.size(), -7.f));
            f.run<op::DROPOUT_FORWARD>();
            std::vector<float> y(x.size()), mask(x.size(), -7.f);
            if (!training || p == 0.f)
                y = x;
            else
                dropout_forward(x.data(), y.data(), mask.data(), x.size(), p, 99ull ^ (0x9E3779B97F4A7C15ull * (uint64_t)(salt + 1)), 12);
            const std::string tag = " p=" + std::to_string(p) + " training=" + std::to_string(training);
            compare("dropout y" + tag, f.get(1), y, 0);
            compare("dropout mask" + tag, f.get(2), mask, 0);
            if (!training || p == 0.f) continue;
            const auto dy = randv(x.size()), acc0 = randv(x.size());
            Fake b(Op::DROPOUT_BACKWARD, {feat, 1}, {}, n);
            b.f(dy), b.f(mask), b.f(acc0);
            b.run<op::DROPOUT_BACKWARD>();
            std::vector<float> want = acc0;
            dropout_backward(dy.data(), mask.data(), want.data(), x.size(), true);
            compare("dropout_backward" + tag, b.get(2), want, 0);
        }
    const auto b2 = randv(n * feat);
    Fake a(Op::ADD_FORWARD, {feat}, {}, n);
    a.f(x), a.f(b2), a.out(x.size());
    a.run<op::ADD_FORWARD>();
    std::vector<float> sum(x.size());
    add_forward(x.data(), b2.data(), sum.data(), x.size());
    compare("add_forward", a.get(2), sum, 0);
    for (int acc = 0; acc < 2; acc++) {
        Fake c(Op::COPY, {feat, acc}, {}, n);
        c.f(x), c.f(b2);
        c.run<op::COPY>();
        std::vector<float> want = b2;
        copy_forward(x.data(), want.data(), x.size(), acc);
        compare("copy acc=" + std::to_string(acc), c.get(1), want, 0);
    }
    const int outer = 3, xi = 7, yi = 19, off = 5;
    const auto cx = randv(n * outer * xi), cy = randv(n * outer * yi);
    Fake cf(Op::CONCAT_FORWARD, {outer, xi, yi, off}, {}, n);
    cf.f(cx), cf.f(cy);
    cf.run<op::CONCAT_FORWARD>();
    std::vector<float> want = cy;
    concat_copy(cx.data(), want.data(), (int64_t)n * outer, xi, yi, off);
    compare("concat_forward", cf.get(1), want, 0);
    for (int acc = 0; acc < 2; acc++) {
        Fake cb(Op::CONCAT_BACKWARD, {outer, xi, yi, off, acc}, {}, n);
        cb.f(cy), cb.f(cx);
        cb.run<op::CONCAT_BACKWARD>();
        std::vector<float> w = cx;
        slice_copy(cy.data(), w.data(), (int64_t)n * outer, xi, yi, off, acc);
        compare("concat_backward acc=" + std::to_string(acc), cb.get(1), w, 0);
    }
}

// ---- optim.cu --------------------------------------------------------------------------------------

// A gradient with an inf at `bad` (or none when bad < 0), for the check mode.
std::vector<float> grad_with(int count, int bad) {
    auto g = randv(count);
    if (bad >= 0) g[bad] = INFINITY;
    return g;
}

void test_optimizers() {
    const int count = 1037;
    const auto p0 = randv(count), s0 = randv(count, 0.f, 1.f), m0 = randv(count);
    for (int step : {1, 3})
        for (int variant = 0; variant < 4; variant++)
            for (float lr_override : {-1.f, 0.05f}) {
                const std::string tag = " step=" + std::to_string(step) + " variant=" + std::to_string(variant) + " lr=" + std::to_string(lr_override);
                const auto g = randv(count);
                // SGD: variant bit 0 nesterov, bit 1 maximize; momentum 0.9 with weight decay
                {
                    SgdParams hp;
                    hp.lr = lr_override >= 0 ? lr_override : 0.01f, hp.momentum = 0.9f, hp.weight_decay = 1e-4f, hp.nesterov = variant & 1,
                    hp.maximize = variant & 2;
                    Fake f(Op::SGD_STEP, {variant & 1, (variant >> 1) & 1}, {0.01f, 0.9f, 0.f, 1e-4f}, 1);
                    f.ds.step = step, f.ds.lr = lr_override;
                    f.f(p0, false), f.f(g, false), f.f(m0, false);
                    f.run<op::SGD_STEP>();
                    std::vector<float> p = p0, b = m0;
                    sgd_step(p.data(), g.data(), b.data(), count, hp, step);
                    compare("sgd param" + tag, f.get(0), p, 0);
                    compare("sgd momentum_buffer" + tag, f.get(2), b, 0);
                }
                // Adam: bit 0 amsgrad, bit 1 decoupled (AdamW)
                {
                    AdamParams hp;
                    hp.lr = lr_override >= 0 ? lr_override : 0.001f, hp.weight_decay = 0.01f, hp.amsgrad = variant & 1, hp.decoupled_weight_decay = variant & 2;
                    Fake f(Op::ADAM_STEP, {variant & 1, 0, (variant >> 1) & 1}, {0.001f, 0.9f, 0.999f, 1e-8f, 0.01f}, 1);
                    f.ds.step = step, f.ds.lr = lr_override;
                    f.f(p0, false), f.f(g, false), f.f(m0, false), f.f(s0, false), f.f(s0, false);
                    f.run<op::ADAM_STEP>();
                    std::vector<float> p = p0, m = m0, v = s0, vm = s0;
                    adam_step(p.data(), g.data(), m.data(), v.data(), vm.data(), count, hp, step);
                    compare("adam param" + tag, f.get(0), p, 0);
                    compare("adam exp_avg" + tag, f.get(2), m, 0);
                    compare("adam exp_avg_sq" + tag, f.get(3), v, 0);
                    compare("adam max_exp_avg_sq" + tag, f.get(4), vm, 0);
                }
                // RMSprop: bit 0 centered, bit 1 momentum
                {
                    RmspropParams hp;
                    hp.lr = lr_override >= 0 ? lr_override : 0.01f, hp.weight_decay = 0.001f, hp.momentum = variant & 2 ? 0.5f : 0.f, hp.centered = variant & 1;
                    Fake f(Op::RMSPROP_STEP, {variant & 1, 1}, {0.01f, 0.99f, 1e-8f, 0.001f, hp.momentum}, 1);
                    hp.maximize = true;
                    f.ds.step = step, f.ds.lr = lr_override;
                    f.f(p0, false), f.f(g, false), f.f(s0, false);
                    variant & 2 ? (void)f.f(m0, false) : f.none();
                    variant & 1 ? (void)f.f(m0, false) : f.none();
                    f.run<op::RMSPROP_STEP>();
                    std::vector<float> p = p0, sq = s0, mb = m0, ga = m0;
                    rmsprop_step(p.data(), g.data(), sq.data(), variant & 2 ? mb.data() : nullptr, variant & 1 ? ga.data() : nullptr, count, hp, step);
                    compare("rmsprop param" + tag, f.get(0), p, 0);
                    compare("rmsprop square_avg" + tag, f.get(2), sq, 0);
                    if (variant & 2) compare("rmsprop momentum_buffer" + tag, f.get(3), mb, 0);
                    if (variant & 1) compare("rmsprop grad_avg" + tag, f.get(4), ga, 0);
                }
                // Adagrad: lr_decay, weight decay; bit 0 maximize
                {
                    AdagradParams hp;
                    hp.lr = lr_override >= 0 ? lr_override : 0.01f, hp.lr_decay = 0.01f, hp.weight_decay = variant & 2 ? 0.1f : 0.f, hp.maximize = variant & 1;
                    Fake f(Op::ADAGRAD_STEP, {variant & 1}, {0.01f, 0.01f, hp.weight_decay, 1e-10f}, 1);
                    f.ds.step = step, f.ds.lr = lr_override;
                    f.f(p0, false), f.f(g, false), f.f(s0, false);
                    f.run<op::ADAGRAD_STEP>();
                    std::vector<float> p = p0, s = s0;
                    adagrad_step(p.data(), g.data(), s.data(), count, hp, step);
                    compare("adagrad param" + tag, f.get(0), p, 0);
                    compare("adagrad sum" + tag, f.get(2), s, 0);
                }
            }
    // halted: nothing written
    {
        Fake f(Op::SGD_STEP, {0, 0}, {0.01f, 0.9f, 0.f, 0.f}, 1);
        f.ds.halted = 1;
        f.f(p0, false), f.f(randv(count), false), f.f(m0, false);
        f.run<op::SGD_STEP>();
        compare("sgd halted param", f.get(0), p0, 0);
        compare("sgd halted buffer", f.get(2), m0, 0);
    }
    // check mode: the CPU's bits for a finite and a non-finite gradient, nothing written
    for (int bad : {-1, 17, 1030}) {
        const auto g = grad_with(count, bad);
        const std::string tag = " bad=" + std::to_string(bad);
        SgdParams sp;
        sp.lr = 0.01f, sp.momentum = 0.9f;
        Fake f(Op::SGD_STEP, {0, 0}, {0.01f, 0.9f, 0.f, 0.f}, 1);
        f.ds.step = 2;
        f.f(p0, false), f.f(g, false), f.f(m0, false);
        unsigned bits = 0;
        f.run<op::SGD_STEP>(&bits);
        compare1("sgd check bits" + tag, bits, sgd_step_check(p0.data(), g.data(), m0.data(), count, sp, 2), 0);
        compare("sgd check writes nothing" + tag, f.get(0), p0, 0);
        AdamParams ap;
        Fake a(Op::ADAM_STEP, {0, 0, 0}, {0.001f, 0.9f, 0.999f, 1e-8f, 0.f}, 1);
        a.ds.step = 2;
        a.f(p0, false), a.f(g, false), a.f(m0, false), a.f(s0, false), a.none();
        bits = 0;
        a.run<op::ADAM_STEP>(&bits);
        compare1("adam check bits" + tag, bits, adam_step_check(p0.data(), g.data(), m0.data(), s0.data(), nullptr, count, ap, 2), 0);
        RmspropParams rp;
        Fake r(Op::RMSPROP_STEP, {0, 0}, {0.01f, 0.99f, 1e-8f, 0.f, 0.f}, 1);
        r.f(p0, false), r.f(g, false), r.f(s0, false), r.none(), r.none();
        bits = 0;
        r.run<op::RMSPROP_STEP>(&bits);
        compare1("rmsprop check bits" + tag, bits, rmsprop_step_check(p0.data(), g.data(), s0.data(), nullptr, nullptr, count, rp, 1), 0);
        AdagradParams gp;
        Fake d(Op::ADAGRAD_STEP, {0}, {0.01f, 0.f, 0.f, 1e-10f}, 1);
        d.f(p0, false), d.f(g, false), d.f(s0, false);
        bits = 0;
        d.run<op::ADAGRAD_STEP>(&bits);
        compare1("adagrad check bits" + tag, bits, adagrad_step_check(p0.data(), g.data(), s0.data(), count, gp, 1), 0);
    }
    // grad norm and clip
    for (int first = 0; first < 2; first++) {
        const auto g = randv(5003);
        Fake f(Op::GRAD_NORM_SQ, {first}, {}, 1);
        f.f(g, false), f.f({2.5f}, false);
        f.run<op::GRAD_NORM_SQ>();
        compare1("grad_norm_sq first=" + std::to_string(first), f.get(1)[0], (float)((first ? 0.0 : 2.5) + sum_squares(g.data(), g.size())), 1e-7);
        Fake c(Op::CLIP_GRAD, {}, {3.f}, 1);
        c.f(g, false), c.f(f.get(1), false);
        c.run<op::CLIP_GRAD>();
        std::vector<float> want = g;
        const double total = std::sqrt((double)f.get(1)[0]);
        scale_inplace(want.data(), want.size(), (float)std::min(1.0, 3.0 / (total + 1e-6)));
        compare("clip_grad", c.get(0), want, 0);
    }
}

} // namespace

int main() {
    test_activation();
    test_softmax();
    test_class_losses();
    test_point_losses();
    test_pools();
    test_batch_norm();
    test_layer_norm();
    test_dropout_structure();
    test_optimizers();
    std::printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
