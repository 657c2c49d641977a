// CPU-vs-CUDA parity (issue 16): every row of test/native-cuda/op-cases.h (the kernel engineers'
// table: op, shape, forward and backward tolerance) on both backends through the Backend interface
// (parity-rows.cpp), one line per case; then this file's own cases, with a per-op tolerance (the
// table in cases()); then the quickstart MLP and a
// fashion-cnn-shaped CNN trained on both from the same weights, data and order, their loss curves
// and step counts compared; then the CUDA steps timed at batch 64 and 256.
//
// Exit 0 when every check passes, 1 when one fails, 77 (ctest's SKIP_RETURN_CODE) when
// cuda_probe() finds no usable GPU. `parity --cpu` runs every case on the CPU alone (no GPU needed):
// it checks that the case table decodes and runs, so a broken case is found before a GPU is;
// `parity --cpu-vs-cpu` runs the op table's comparison with a second CPU backend in CUDA's place.
//
// Tolerances are on the error relative to the buffer's scale, max|cpu - cuda| / (max|cpu| + 1e-6):
//   - GEMM-shaped ops (linear, conv, conv-transpose) with TF32 tensor cores: 2e-2 (TF32 keeps 10
//     mantissa bits, ~5e-4 per product, growing with sqrt of the reduction length); with exact
//     fp32 (tf32 off): 1e-4 (only the summation order differs);
//   - reductions (norms, softmax, losses, pooling averages, optimizer steps): 1e-5;
//   - elementwise ops (relu, add, copy, dropout with the same counter-based RNG, one-hot): 1e-6.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "cuda-loader.h"
#include "parity-rows.h"
#include "netloom.h"
#include "program-builder.h"
#include "test-util.h"

using nltest::check;

namespace {

constexpr float ELEMENTWISE = 1e-6f, REDUCTION = 1e-5f, GEMM_TF32 = 2e-2f, GEMM_FP32 = 1e-4f;

// One parity case: a small program (forward, backward, step sections) whose buffers all start
// random; int buffers take values in [0, int_range[id]), int_range -1 marks a non-negative float.
struct Case {
    std::string name;
    ProgramBuilder b;
    std::vector<int> int_range;   // per buffer id: 0 = float
    float tol = REDUCTION;
    bool gemm = false;
    explicit Case(std::string n) : name(std::move(n)) {}
    int add(int dt, int batched, int elems, int range = 0) {
        int_range.push_back(dt == 1 ? std::max(range, 1) : 0);
        return b.add(dt, batched, elems);
    }
    int f(int elems, bool batched = true) { return add(0, batched ? 1 : 0, elems); }
    int i(int elems, int range, bool batched = true) { return add(1, batched ? 1 : 0, elems, range); }
    int nonneg(int elems) {   // fixed, >= 0 (a running variance, a sum of squares)
        int id = add(0, 0, elems);
        int_range.back() = -1;
        return id;
    }
};

using Ins = std::vector<int32_t>;
Ins ins(nl::Op op, std::vector<int32_t> b, std::vector<int32_t> i, std::vector<float> f = {}) { return ProgramBuilder::ins(op, b, i, f); }

void add_gemm_cases(std::vector<Case> & out) {
    {   // linear 7 -> 3, batch 5
        Case c("linear 7->3");
        c.b.batch = 5;
        int x = c.f(7), W = c.f(21, false), bias = c.f(3, false), y = c.f(3), dy = c.f(3), dx = c.f(7), dW = c.f(21, false), db = c.f(3, false);
        c.b.fwd.push_back(ins(nl::Op::LINEAR_FORWARD, {x, W, bias, y}, {7, 3}));
        c.b.bwd.push_back(ins(nl::Op::LINEAR_BACKWARD, {dy, x, W, dx, dW, db}, {7, 3, 0}));
        c.gemm = true;
        out.push_back(c);
    }
    // conv geometry: cin h w cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw groups ho wo
    auto conv = [&](const char * name, nl::Op fwd, nl::Op bwd, std::vector<int32_t> g, int wsize) {
        Case c(name);
        c.b.batch = 3;
        const int in = g[0] * g[1] * g[2], outn = g[3] * g[15] * g[16];
        int x = c.f(in), W = c.f(wsize, false), bias = c.f(g[3], false), y = c.f(outn), dy = c.f(outn), dx = c.f(in), dW = c.f(wsize, false),
            db = c.f(g[3], false);
        c.b.fwd.push_back(ins(fwd, {x, W, bias, y}, g));
        std::vector<int32_t> gb = g;
        gb.push_back(0);
        c.b.bwd.push_back(ins(bwd, {dy, x, W, dx, dW, db}, gb));
        c.gemm = true;
        out.push_back(c);
    };
    conv("conv2d 3x9x7 -> 4, k3x2 s2x1 p(1,1,0,1) d1x2", nl::Op::CONV2D_FORWARD, nl::Op::CONV2D_BACKWARD,
         {3, 9, 7, 4, 3, 2, 2, 1, 1, 1, 0, 1, 1, 2, 1, 5, 6}, 4 * 3 * 3 * 2);
    conv("conv2d grouped 4x5x6 -> 6, k3 p1 groups 2", nl::Op::CONV2D_FORWARD, nl::Op::CONV2D_BACKWARD,
         {4, 5, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 5, 6}, 6 * 2 * 3 * 3);
    conv("conv_transpose2d 3x4x5 -> 2, k3 s2 p1", nl::Op::CONV_TRANSPOSE2D_FORWARD, nl::Op::CONV_TRANSPOSE2D_BACKWARD,
         {3, 4, 5, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 7, 9}, 3 * 2 * 3 * 3);
}

void add_pool_norm_cases(std::vector<Case> & out) {
    {   // max pool c3 7x9, k3x2 s2 p(1,0): 4x4
        Case c("max_pool2d 3x7x9 k3x2 s2 p1x0");
        c.b.batch = 3;
        std::vector<int32_t> g{3, 7, 9, 3, 2, 2, 2, 1, 0, 1, 1, 4, 4};
        int x = c.f(189), y = c.f(48), idx = c.i(48, 1), dy = c.f(48), dx = c.f(189);
        c.b.fwd.push_back(ins(nl::Op::MAX_POOL2D_FORWARD, {x, y, idx}, g));
        g.push_back(0);
        c.b.bwd.push_back(ins(nl::Op::MAX_POOL2D_BACKWARD, {dy, idx, dx}, g));
        out.push_back(c);
    }
    for (int include_pad : {0, 1}) {   // avg pool c2 7x6, k3 s2 p1: 4x3
        Case c(std::string("avg_pool2d 2x7x6 k3 s2 p1 count_include_pad ") + std::to_string(include_pad));
        c.b.batch = 3;
        std::vector<int32_t> g{2, 7, 6, 3, 3, 2, 2, 1, 1, 4, 3, include_pad, 0};
        int x = c.f(84), y = c.f(24), dy = c.f(24), dx = c.f(84);
        c.b.fwd.push_back(ins(nl::Op::AVG_POOL2D_FORWARD, {x, y}, g));
        g.push_back(0);
        c.b.bwd.push_back(ins(nl::Op::AVG_POOL2D_BACKWARD, {dy, dx}, g));
        out.push_back(c);
    }
    {
        Case c("adaptive_avg_pool2d 3x7x5 -> 3x2");
        c.b.batch = 3;
        int x = c.f(105), y = c.f(18), dy = c.f(18), dx = c.f(105);
        c.b.fwd.push_back(ins(nl::Op::ADAPTIVE_AVG_POOL2D_FORWARD, {x, y}, {3, 7, 5, 3, 2}));
        c.b.bwd.push_back(ins(nl::Op::ADAPTIVE_AVG_POOL2D_BACKWARD, {dy, dx}, {3, 7, 5, 3, 2, 0}));
        out.push_back(c);
    }
    {
        Case c("batch_norm 3 channels x 10, training");
        c.b.batch = 5;
        int x = c.f(30), w = c.f(3, false), bias = c.f(3, false), rm = c.f(3, false), rv = c.nonneg(3), nbt = c.i(1, 5, false),
            sm = c.f(3, false), si = c.f(3, false), y = c.f(30), dy = c.f(30), dx = c.f(30), dw = c.f(3, false), db = c.f(3, false);
        c.b.fwd.push_back(ins(nl::Op::BATCH_NORM_FORWARD, {x, w, bias, rm, rv, nbt, sm, si, y}, {3, 10}, {1e-5f, 0.1f}));
        c.b.bwd.push_back(ins(nl::Op::BATCH_NORM_BACKWARD, {dy, x, w, sm, si, dx, dw, db}, {3, 10, 0}));
        out.push_back(c);
    }
    {
        Case c("layer_norm 2 rows x 13");
        c.b.batch = 3;
        int x = c.f(26), w = c.f(13, false), bias = c.f(13, false), y = c.f(26), mean = c.f(2), rstd = c.f(2), dy = c.f(26), dx = c.f(26),
            dw = c.f(13, false), db = c.f(13, false);
        c.b.fwd.push_back(ins(nl::Op::LAYER_NORM_FORWARD, {x, w, bias, y, mean, rstd}, {2, 13}, {1e-5f}));
        c.b.bwd.push_back(ins(nl::Op::LAYER_NORM_BACKWARD, {dy, x, w, mean, rstd, dx, dw, db}, {2, 13, 0}));
        out.push_back(c);
    }
}

void add_elementwise_cases(std::vector<Case> & out) {
    {
        Case c("relu");
        c.b.batch = 5;
        int x = c.f(13), y = c.f(13), dy = c.f(13), dx = c.f(13);
        c.b.fwd.push_back(ins(nl::Op::RELU_FORWARD, {x, y}, {13}));
        c.b.bwd.push_back(ins(nl::Op::RELU_BACKWARD, {dy, y, dx}, {13, 1}));
        c.tol = ELEMENTWISE;
        out.push_back(c);
    }
    const char * kinds[] = {"LeakyReLU", "ELU", "GELU", "GELU_TANH", "SiLU", "Sigmoid", "Tanh"};
    for (int k = 0; k < 7; k++) {
        Case c(std::string("activation ") + kinds[k]);
        c.b.batch = 5;
        int x = c.f(13), y = c.f(13), dy = c.f(13), dx = c.f(13);
        const float alpha = k == 0 ? 0.01f : 1.f;
        c.b.fwd.push_back(ins(nl::Op::ACTIVATION_FORWARD, {x, y}, {k, 13}, {alpha}));
        c.b.bwd.push_back(ins(nl::Op::ACTIVATION_BACKWARD, {dy, x, y, dx}, {k, 13, 0}, {alpha}));
        out.push_back(c);
    }
    {
        Case c("dropout p=0.3 (training)");
        c.b.batch = 5;
        int x = c.f(11), y = c.f(11), mask = c.f(11), dy = c.f(11), dx = c.f(11);
        c.b.fwd.push_back(ins(nl::Op::DROPOUT_FORWARD, {x, y, mask}, {11, 7}, {0.3f}));
        c.b.bwd.push_back(ins(nl::Op::DROPOUT_BACKWARD, {dy, mask, dx}, {11, 0}));
        c.tol = ELEMENTWISE;
        out.push_back(c);
    }
    {
        Case c("add, copy (accumulate), concat");
        c.b.batch = 5;
        int a = c.f(9), b2 = c.f(9), y = c.f(9), z = c.f(9), cat = c.f(3 * 14), dcat = c.f(9);
        c.b.fwd.push_back(ins(nl::Op::ADD_FORWARD, {a, b2, y}, {9}));
        c.b.fwd.push_back(ins(nl::Op::COPY, {y, z}, {9, 1}));
        c.b.fwd.push_back(ins(nl::Op::CONCAT_FORWARD, {a, cat}, {3, 3, 14, 5}));
        c.b.bwd.push_back(ins(nl::Op::CONCAT_BACKWARD, {cat, dcat}, {3, 3, 14, 5, 1}));
        c.tol = ELEMENTWISE;
        out.push_back(c);
    }
    for (int log = 0; log < 2; log++) {
        Case c(log ? "log_softmax over dim 5 of 2x5x3" : "softmax over dim 5 of 2x5x3");
        c.b.batch = 3;
        int x = c.f(30), y = c.f(30), dy = c.f(30), dx = c.f(30);
        c.b.fwd.push_back(ins(nl::Op::SOFTMAX_FORWARD, {x, y}, {2, 5, 3, log}));
        c.b.bwd.push_back(ins(nl::Op::SOFTMAX_BACKWARD, {dy, y, dx}, {2, 5, 3, log, 0}));
        out.push_back(c);
    }
}

void add_loss_cases(std::vector<Case> & out) {
    for (int reduction : {0, 1}) {
        Case c(std::string("softmax_cross_entropy 10 classes, smoothing 0.1, ") + (reduction ? "sum" : "mean"));
        c.b.batch = 7;
        int logits = c.f(10), lab = c.i(1, 10), probs = c.f(10), loss = c.f(1, false), correct = c.i(1, 1, false), w = c.f(10, false),
            dl = c.f(10);
        c.b.fwd.push_back(ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {logits, lab, probs, loss, correct, w}, {10, -100, reduction}, {0.1f}));
        c.b.bwd.push_back(ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dl, w}, {10, 0, -100, reduction}, {0.1f}));
        out.push_back(c);
    }
    {
        Case c("nll_loss 6 classes + one_hot");
        c.b.batch = 7;
        int lp = c.f(6), lab = c.i(1, 6), loss = c.f(1, false), correct = c.i(1, 1, false), dlp = c.f(6), oh = c.f(6);
        c.b.fwd.push_back(ins(nl::Op::NLL_LOSS_FORWARD, {lp, lab, loss, correct, -1}, {6, -100, 0}));
        c.b.fwd.push_back(ins(nl::Op::ONE_HOT, {lab, oh}, {6}));
        c.b.bwd.push_back(ins(nl::Op::NLL_LOSS_BACKWARD, {lab, dlp, -1}, {6, -100, 0, 0}));
        out.push_back(c);
    }
    const char * kinds[] = {"MSELoss", "L1Loss", "SmoothL1Loss", "BCEWithLogitsLoss"};
    for (int k = 0; k < 4; k++) {
        Case c(std::string("point loss ") + kinds[k]);
        c.b.batch = 5;
        int pred = c.f(7), tgt = c.f(7), loss = c.f(1, false), dp = c.f(7), dt = c.f(7);
        c.b.fwd.push_back(ins(nl::Op::POINT_LOSS_FORWARD, {pred, tgt, loss}, {k, 7, 0}, {0.5f}));
        c.b.bwd.push_back(ins(nl::Op::POINT_LOSS_BACKWARD, {pred, tgt, dp, dt}, {k, 7, 0, 0, 0}, {0.5f}));
        out.push_back(c);
    }
}

void add_optimizer_cases(std::vector<Case> & out) {
    Case c("clip_grad + sgd (nesterov) + adam (amsgrad) + rmsprop (centered) + adagrad");
    c.b.batch = 2;
    const int n = 37;
    int p1 = c.f(n, false), g1 = c.f(n, false), m1 = c.f(n, false);
    int p2 = c.f(n, false), g2 = c.f(n, false), ea = c.f(n, false), eas = c.nonneg(n), mx = c.nonneg(n);
    int p3 = c.f(n, false), g3 = c.f(n, false), sq = c.nonneg(n), mb = c.f(n, false), ga = c.f(n, false);
    int p4 = c.f(n, false), g4 = c.f(n, false), sum = c.nonneg(n), norm = c.f(1, false);
    for (int g : {g1, g2, g3, g4}) c.b.step.push_back(ins(nl::Op::GRAD_NORM_SQ, {g, norm}, {g == g1 ? 1 : 0}));
    for (int g : {g1, g2, g3, g4}) c.b.step.push_back(ins(nl::Op::CLIP_GRAD, {g, norm}, {}, {1.5f}));
    c.b.step.push_back(ins(nl::Op::SGD_STEP, {p1, g1, m1}, {1, 0}, {0.1f, 0.9f, 0.f, 1e-4f}));
    c.b.step.push_back(ins(nl::Op::ADAM_STEP, {p2, g2, ea, eas, mx}, {1, 0, 1}, {1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f}));
    c.b.step.push_back(ins(nl::Op::RMSPROP_STEP, {p3, g3, sq, mb, ga}, {1, 0}, {1e-2f, 0.99f, 1e-8f, 0.f, 0.9f}));
    c.b.step.push_back(ins(nl::Op::ADAGRAD_STEP, {p4, g4, sum}, {0}, {1e-2f, 0.f, 0.f, 1e-10f}));
    out.push_back(c);
}

std::vector<Case> cases() {
    std::vector<Case> out;
    add_gemm_cases(out);
    add_pool_norm_cases(out);
    add_elementwise_cases(out);
    add_loss_cases(out);
    add_optimizer_cases(out);
    return out;
}

// The initial contents of every buffer of `c` (the same on both backends): uniform in [-1, 1),
// [0, 1) for the state that is a square or a sum of squares, ints in their range.
std::vector<std::vector<float>> initial(const Case & c, const nl::Program & p) {
    nltest::Rng rng(1234);
    std::vector<std::vector<float>> v(p.buffers.size());
    for (size_t id = 0; id < p.buffers.size(); id++) {
        v[id].resize((size_t)p.buffers[id].words(p.max_batch));
        for (float & x : v[id]) {
            if (c.int_range[id] < 0) {
                x = rng.uniform(0.f, 1.f);
            } else if (c.int_range[id]) {
                int32_t k = (int32_t)(rng.next() % (uint64_t)c.int_range[id]);
                std::memcpy(&x, &k, 4);
            } else {
                x = rng.uniform();
            }
        }
    }
    return v;
}

// Runs every section of `p` on `be` from `init`; returns the buffers after (empty on failure).
std::vector<std::vector<float>> run_case(nl::Backend & be, const nl::Program & p, const std::vector<std::vector<float>> & init, std::string & err) {
    nl::Status st = be.alloc_buffers(p);
    for (size_t id = 0; st.ok() && id < init.size(); id++) st = be.set_buffer((int32_t)id, init[id].data(), init[id].size() * 4);
    nl::StepState s;
    s.n = p.max_batch;
    s.training = true;
    s.step = 3;
    s.seed = 99;
    for (const std::vector<nl::Instr> * section : {&p.forward, &p.backward, &p.step})
        for (const nl::Instr & in : *section)
            if (st.ok()) st = be.run(in, s);
    if (st.ok()) st = be.synchronize();
    std::vector<std::vector<float>> out(init.size());
    for (size_t id = 0; st.ok() && id < init.size(); id++) {
        out[id].resize(init[id].size());
        st = be.get_buffer((int32_t)id, out[id].data(), out[id].size() * 4);
    }
    if (!st.ok()) {
        err = st.message;
        return {};
    }
    return out;
}

// max|a - b| / (max|a| + 1e-6) over one buffer; ints compare exactly (any difference is 1).
double buffer_error(const std::vector<float> & a, const std::vector<float> & b, bool is_int) {
    if (is_int) return std::memcmp(a.data(), b.data(), a.size() * 4) ? 1.0 : 0.0;
    double diff = 0, scale = 0;
    for (size_t k = 0; k < a.size(); k++) {
        if (std::isnan(a[k]) != std::isnan(b[k])) return 1.0;
        diff = std::max(diff, (double)std::fabs(a[k] - b[k]));
        scale = std::max(scale, (double)std::fabs(a[k]));
    }
    return diff / (scale + 1e-6);
}

void run_op_cases(nl::Backend * cuda_tf32, nl::Backend * cuda_fp32) {
    std::unique_ptr<nl::Backend> cpu;
    nl::cpu_backend_create(1, cpu);
    for (Case & c : cases()) {
        std::vector<int32_t> io(8, -1);
        io[6] = 0;
        auto words = c.b.words(io);
        nl::Program p;
        nl::Status st = nl::program_decode(words.data(), words.size(), p);
        if (!st.ok()) {
            check(false, "%s: the case's program decodes: %s", c.name.c_str(), st.message.c_str());
            continue;
        }
        auto init = initial(c, p);
        std::string err;
        auto ref = run_case(*cpu, p, init, err);
        if (ref.empty()) {
            check(false, "%s runs on the CPU: %s", c.name.c_str(), err.c_str());
            continue;
        }
        if (!cuda_tf32) {
            check(true, "%s runs on the CPU", c.name.c_str());
            continue;
        }
        for (nl::Backend * be : {cuda_tf32, cuda_fp32}) {
            if (be == cuda_fp32 && !c.gemm) continue;
            const float tol = c.gemm ? (be == cuda_tf32 ? GEMM_TF32 : GEMM_FP32) : c.tol;
            auto got = run_case(*be, p, init, err);
            if (got.empty()) {
                check(false, "%s runs on CUDA: %s", c.name.c_str(), err.c_str());
                continue;
            }
            double worst = 0;
            int worst_id = -1;
            for (size_t id = 0; id < ref.size(); id++) {
                const double e = buffer_error(ref[id], got[id], c.int_range[id] != 0);
                if (e > worst) worst = e, worst_id = (int)id;
            }
            check(worst <= tol, "%s%s: max relative error %.2e (buffer %d) <= %.0e", c.name.c_str(),
                  c.gemm ? (be == cuda_tf32 ? " [tf32]" : " [fp32]") : "", worst, worst_id, (double)tol);
        }
    }
}

} // namespace

// The trained models and timings (parity-train.cpp).
void run_training_parity(bool have_cuda);

int main(int argc, char ** argv) {
    const bool cpu_only = argc > 1 && std::string(argv[1]) == "--cpu";
    if (argc > 1 && std::string(argv[1]) == "--cpu-vs-cpu") {
        // The table's comparison itself, without a GPU: a 2-thread CPU backend in CUDA's place must
        // match the 1-thread reference within every row's tolerance (exactly where it is 0).
        std::unique_ptr<nl::Backend> one, two;
        nl::cpu_backend_create(1, one);
        nl::cpu_backend_create(2, two);
        parity::run_table(*one, two.get(), two.get());
        check(parity::comparison_catches_errors(), "the comparison fails a value 1e-5 off (tolerance 1e-6) and an index off by one");
        return nltest::finish();
    }
    const nl::CudaProbe & probe = nl::cuda_probe();
    if (!cpu_only && probe.devices.empty()) {
        std::printf("SKIP  no usable GPU: %s\n", probe.reason.c_str());
        return 77;
    }
    std::unique_ptr<nl::Backend> tf32, fp32;
    if (!cpu_only) {
        const auto & d = probe.devices[0];
        std::printf("cuda:0 %s, compute capability %d.%d, %d SMs, %.1f GiB\n", d.name.c_str(), d.cc_major, d.cc_minor, d.sm_count,
                    d.total_bytes / 1073741824.0);
        nl::Status a = nl::cuda_backend_create(0, true, tf32), b = nl::cuda_backend_create(0, false, fp32);
        check(a.ok() && b.ok(), "the CUDA backends start: %s%s", a.message.c_str(), b.message.c_str());
        if (!a.ok() || !b.ok()) return nltest::finish();
    }
    {
        std::unique_ptr<nl::Backend> cpu;
        nl::cpu_backend_create(0, cpu);   // every core: the reference side of the batch-256 rows
        parity::run_table(*cpu, tf32.get(), fp32.get());
    }
    run_op_cases(tf32.get(), fp32.get());
    tf32.reset();
    fp32.reset();
    run_training_parity(!cpu_only);
    return nltest::finish();
}
