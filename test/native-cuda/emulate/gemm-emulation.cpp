// Runs the CUDA GEMM-shaped ops (native/cuda/ops/linear.cu, conv.cu on kernels/gemm.cuh) on the CPU
// through the emulation shim (cuda_runtime.h here; run.sh builds it) and compares every output with
// the CPU kernels (native/core/kernels/) over the odd shapes of test/native-cuda/op-cases.h: the check that the indexing, masking,
// batching, split reduction, chunking and col2im of the CUDA code are right, where no GPU exists.
// Not a substitute for test/native-cuda/parity.cpp on a GPU: the PTX (mma.sync, cvt.rna.tf32) and real
// concurrency between blocks are not exercised here.
//
// Every buffer sits at an odd word offset (misaligned for vector loads), outputs that are overwritten
// start as NaN (a kernel that reads them shows it), accumulated outputs start random.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <random>
#include <string>
#include <vector>
#include "cuda-args.h"
#include "kernels.h"
#include "../op-case-parse.h"

namespace nl {
Status cuda_launched(const char *) { return {}; }
}

using namespace nl;

namespace {

std::mt19937 rng(1234);
int failures = 0, checks = 0;

std::vector<float> randv(int64_t n) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> v((size_t)n);
    for (auto & x : v) x = u(rng);
    return v;
}

// A buffer of the fake program: its data (whole batch) and whether it is batched; empty: absent.
struct Buf {
    std::vector<float> * data;
    bool batched;
};

// Runs op O on the "device" (host memory) through cuda_run<O>, with the given operands.
template <class O> Status run_cuda(const std::vector<int32_t> & ints, const std::vector<Buf> & bufs, int n, bool tf32) {
    Program prog;
    prog.max_batch = n;
    Instr in;
    in.op = O::code;
    in.ints = ints;
    int64_t words = 1;
    for (const Buf & b : bufs) {
        if (!b.data) {
            in.bufs.push_back(-1);
            continue;
        }
        const int64_t total = (int64_t)b.data->size();
        in.bufs.push_back((int32_t)prog.buffers.size());
        prog.buffers.push_back(BufferDesc{DType::F32, b.batched, b.batched ? total / n : total, words});
        words += total + 3;   // odd offsets: nothing is 8- or 16-byte aligned
    }
    std::vector<float> arena((size_t)words);
    for (size_t k = 0, id = 0; k < bufs.size(); k++)
        if (bufs[k].data) std::copy(bufs[k].data->begin(), bufs[k].data->end(), arena.begin() + prog.buffers[id++].offset);
    const OperandsOf<O> ops{in};
    std::vector<float> ws(cuda_workspace<O>(ops, n) / 4 + 1);
    CudaContext cx;
    cx.prog = &prog;
    cx.arena = reinterpret_cast<char *>(arena.data());
    cx.workspace = ws.data();
    cx.workspace_bytes = ws.size() * 4;
    cx.tf32 = tf32;
    cx.sm_count = 6;   // few SMs: small GEMMs take the split-K path
    cx.cc_major = 9;
    StepState st;
    st.n = n;
    const Status s = cuda_run<O>(CudaArgs<O>(in, cx, st));
    for (size_t k = 0, id = 0; k < bufs.size(); k++)
        if (bufs[k].data) {
            const BufferDesc & d = prog.buffers[id++];
            std::copy(arena.begin() + d.offset, arena.begin() + d.offset + (int64_t)bufs[k].data->size(), bufs[k].data->begin());
        }
    return s;
}

// |got - want| <= tol * max(1, max |want|) everywhere (NaN fails)
void expect_close(const std::string & what, const std::vector<float> & got, const std::vector<float> & want, float tol = 1e-4f) {
    checks++;
    float scale = 1.f, worst = 0.f;
    for (float w : want) scale = std::fmax(scale, std::fabs(w));
    size_t at = 0;
    bool bad = got.size() != want.size();
    for (size_t i = 0; !bad && i < got.size(); i++) {
        const float e = std::fabs(got[i] - want[i]);
        if (!(e <= tol * scale)) bad = true, at = i;
        if (e > worst) worst = e;
    }
    if (bad) {
        failures++;
        std::printf("FAIL %s: at %zu got %g want %g (size %zu vs %zu)\n", what.c_str(), at, at < got.size() ? got[at] : NAN,
                    at < want.size() ? want[at] : NAN, got.size(), want.size());
    }
}

std::vector<float> nans(int64_t n) { return std::vector<float>((size_t)n, NAN); }

// ---- linear ----------------------------------------------------------------------------------------

void linear_case(const std::string & name, int n, int in, int out, bool bias, bool dx, bool acc, bool tf32, float tol) {
    auto x = randv((int64_t)n * in), w = randv((int64_t)in * out), b = randv(out), dy = randv((int64_t)n * out);
    std::vector<float> y = nans((int64_t)n * out), y_ref(y.size());
    Status s = run_cuda<op::LINEAR_FORWARD>({in, out}, {{&x, true}, {&w, false}, {bias ? &b : nullptr, false}, {&y, true}}, n, tf32);
    linear_forward(nullptr, x.data(), w.data(), bias ? b.data() : nullptr, y_ref.data(), n, in, out);
    expect_close(name + " forward y", y, y_ref, tol);
    std::vector<float> gx = acc ? randv((int64_t)n * in) : nans((int64_t)n * in), gx_ref = gx;
    std::vector<float> gw = nans((int64_t)in * out), gw_ref(gw.size()), gb = nans(out), gb_ref(out);
    s = run_cuda<op::LINEAR_BACKWARD>({in, out, acc ? 1 : 0},
                                      {{&dy, true}, {&x, true}, {&w, false}, {dx ? &gx : nullptr, true}, {&gw, false}, {bias ? &gb : nullptr, false}},
                                      n, tf32);
    linear_backward(nullptr, dy.data(), x.data(), w.data(), dx ? gx_ref.data() : nullptr, gw_ref.data(), bias ? gb_ref.data() : nullptr, n,
                    in, out, acc);
    if (!s.ok()) failures++, std::printf("FAIL %s: %s\n", name.c_str(), s.message.c_str());
    if (dx) expect_close(name + " dx", gx, gx_ref, tol);
    expect_close(name + " dW", gw, gw_ref, tol);
    if (bias) expect_close(name + " db", gb, gb_ref, tol);
}

// ---- conv ------------------------------------------------------------------------------------------

struct ConvCase {
    int n, cin, h, w, cout, kh, kw, sh, sw, ph0, ph1, pw0, pw1, dh, dw, groups;
    int opad_h, opad_w;   // transposed only: output_padding
};

std::vector<int32_t> ints_of(const ConvShape & s) {
    return {s.cin, s.h, s.w, s.cout, s.kh, s.kw, s.sh, s.sw, s.ph0, s.ph1, s.pw0, s.pw1, s.dh, s.dw, s.groups, s.ho, s.wo};
}

void conv_case(const std::string & name, const ConvCase & c, bool transposed, bool bias, bool dx, bool acc, bool tf32, float tol) {
    ConvShape s{c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph0, c.ph1, c.pw0, c.pw1, c.dh, c.dw, c.groups, 0, 0};
    const int eh = c.dh * (c.kh - 1) + 1, ew = c.dw * (c.kw - 1) + 1;
    if (!transposed) {
        s.ho = (c.h + c.ph0 + c.ph1 - eh) / c.sh + 1;
        s.wo = (c.w + c.pw0 + c.pw1 - ew) / c.sw + 1;
    } else {
        s.ho = (c.h - 1) * c.sh - c.ph0 - c.ph1 + eh + c.opad_h;
        s.wo = (c.w - 1) * c.sw - c.pw0 - c.pw1 + ew + c.opad_w;
    }
    const int64_t n = c.n, in_e = (int64_t)c.cin * c.h * c.w, out_e = (int64_t)c.cout * s.ho * s.wo;
    const int64_t wsz = transposed ? (int64_t)c.cin * (c.cout / c.groups) * c.kh * c.kw : (int64_t)c.cout * (c.cin / c.groups) * c.kh * c.kw;
    auto x = randv(n * in_e), w = randv(wsz), b = randv(c.cout), dy = randv(n * out_e);
    std::vector<float> y = nans(n * out_e), y_ref(y.size());
    const std::vector<int32_t> fi = ints_of(s);
    std::vector<int32_t> bi = fi;
    bi.push_back(acc ? 1 : 0);
    const std::vector<Buf> fwd = {{&x, true}, {&w, false}, {bias ? &b : nullptr, false}, {&y, true}};
    Status st = transposed ? run_cuda<op::CONV_TRANSPOSE2D_FORWARD>(fi, fwd, c.n, tf32) : run_cuda<op::CONV2D_FORWARD>(fi, fwd, c.n, tf32);
    if (transposed) conv_transpose2d_forward(nullptr, s, x.data(), w.data(), bias ? b.data() : nullptr, y_ref.data(), n);
    else conv2d_forward(nullptr, s, x.data(), w.data(), bias ? b.data() : nullptr, y_ref.data(), n);
    if (!st.ok()) failures++, std::printf("FAIL %s forward: %s\n", name.c_str(), st.message.c_str());
    expect_close(name + " forward y", y, y_ref, tol);

    std::vector<float> gx = acc ? randv(n * in_e) : nans(n * in_e), gx_ref = gx;
    std::vector<float> gw = nans(wsz), gw_ref(wsz), gb = nans(c.cout), gb_ref(c.cout);
    const std::vector<Buf> bwd = {{&dy, true}, {&x, true}, {&w, false}, {dx ? &gx : nullptr, true}, {&gw, false}, {bias ? &gb : nullptr, false}};
    st = transposed ? run_cuda<op::CONV_TRANSPOSE2D_BACKWARD>(bi, bwd, c.n, tf32) : run_cuda<op::CONV2D_BACKWARD>(bi, bwd, c.n, tf32);
    float * pdx = dx ? gx_ref.data() : nullptr, * pdb = bias ? gb_ref.data() : nullptr;
    if (transposed) conv_transpose2d_backward(nullptr, s, dy.data(), x.data(), w.data(), pdx, gw_ref.data(), pdb, n, acc);
    else conv2d_backward(nullptr, s, dy.data(), x.data(), w.data(), pdx, gw_ref.data(), pdb, n, acc);
    if (!st.ok()) failures++, std::printf("FAIL %s backward: %s\n", name.c_str(), st.message.c_str());
    if (dx) expect_close(name + " dx", gx, gx_ref, tol);
    expect_close(name + " dW", gw, gw_ref, tol);
    if (bias) expect_close(name + " db", gb, gb_ref, tol);
}

// ---- the rows of test/native-cuda/op-cases.h ----------------------------------------------------

int get(const opcase::Shape & kv, const char * key, size_t i = 0, int dflt = 0) { return kv.i(key, i, dflt); }

void run_row(const OpCase & row) {
    const opcase::Shape kv = opcase::parse_shape(row.shape);
    const bool bias = kv.has("bias"), dx = kv.has("dx"), acc = kv.has("acc"), tf32 = kv.str("mode") == "tf32";
    // The emulation computes exact fp32 in both modes (no TF32 rounding on a CPU): the fp32 row's
    // tolerance applies to the tf32 rows too (5e-4 for the batch-256 reductions, 1e-4 otherwise).
    const double fp32_tol = get(kv, "n") >= 256 ? 5e-4 : 1e-4;
    const float tol = (float)(tf32 ? fp32_tol : std::max(row.forward_tol, row.backward_tol));
    const std::string label = std::string(row.op) + " [" + row.shape + "]";
    if (std::string(row.op) == "linear") {
        linear_case(label, get(kv, "n"), get(kv, "in"), get(kv, "out"), bias, dx, acc, tf32, tol);
        return;
    }
    ConvCase c{get(kv, "n"), get(kv, "cin"), get(kv, "h"), get(kv, "w"), get(kv, "cout"), get(kv, "k", 0, 1), get(kv, "k", 1, 1),
               get(kv, "s", 0, 1), get(kv, "s", 1, 1), get(kv, "pad", 0), get(kv, "pad", 1), get(kv, "pad", 2), get(kv, "pad", 3),
               get(kv, "d", 0, 1), get(kv, "d", 1, 1), get(kv, "groups", 0, 1), get(kv, "opad", 0), get(kv, "opad", 1)};
    conv_case(label, c, std::string(row.op) == "conv_transpose2d", bias, dx, acc, tf32, tol);
}

} // namespace

// Rows with a batch of 256 take minutes under emulation (one host thread per CUDA thread): they run
// only with NETLOOM_EMULATE_ALL=1, or when NETLOOM_EMULATE_ONLY picks them.
int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);   // FAIL lines as they happen, also into a log file
    const bool all = std::getenv("NETLOOM_EMULATE_ALL") != nullptr;
    const char * only = std::getenv("NETLOOM_EMULATE_ONLY");   // runs the rows whose "op [shape]" contains it
    int skipped = 0;
    int rows = 0;
    for (const OpCase & row : kOpCases) {
        // The table's other block (cuda-ops) is ops-emulation's (test/native-cuda/emulate-ops/).
        if (!opcase::is_gemm_op(row.op)) continue;
        rows++;
        if (only && (std::string(row.op) + " [" + row.shape + "]").find(only) == std::string::npos) {
            skipped++;
            continue;
        }
        if (!all && !only && opcase::parse_shape(row.shape).i("n") >= 256) {
            skipped++;
            continue;
        }
        run_row(row);
    }
    std::printf("%d GEMM rows: %d checks, %d failures, %d rows skipped (batch 256: NETLOOM_EMULATE_ALL=1 runs them)\n", rows, checks, failures, skipped);
    return failures || rows == 0 || checks == 0 ? 1 : 0;
}
