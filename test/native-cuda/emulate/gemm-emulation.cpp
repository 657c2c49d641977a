// Runs the CUDA GEMM-shaped ops (native/cuda/ops/linear.cu, conv.cu on kernels/gemm.cuh) on the CPU
// through the emulation shim (cuda_runtime.h here; run.sh builds it) and compares every output with
// the CPU kernels (native/core/kernels/) over odd shapes: the check that the indexing, masking,
// batching, split reduction, chunking and col2im of the CUDA code are right, where no GPU exists.
// Not a substitute for test/native-cuda/parity.cpp on a GPU: the PTX (mma.sync, cvt.rna.tf32) and real
// concurrency between blocks are not exercised here.
//
// Every buffer sits at an odd word offset (misaligned for vector loads), outputs that are overwritten
// start as NaN (a kernel that reads them shows it), accumulated outputs start random.
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>
#include "cuda-args.h"
#include "kernels.h"

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
    cx.sm_count = 2;
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

void linear_case(int n, int in, int out, bool bias, bool dx, bool acc, bool tf32) {
    const std::string name = "linear n=" + std::to_string(n) + " in=" + std::to_string(in) + " out=" + std::to_string(out) +
                             (bias ? " bias" : "") + (dx ? (acc ? " dx+=" : " dx") : "") + (tf32 ? " tf32" : " fp32");
    auto x = randv((int64_t)n * in), w = randv((int64_t)in * out), b = randv(out), dy = randv((int64_t)n * out);
    std::vector<float> y = nans((int64_t)n * out), y_ref(y.size());
    Status s = run_cuda<op::LINEAR_FORWARD>({in, out}, {{&x, true}, {&w, false}, {bias ? &b : nullptr, false}, {&y, true}}, n, tf32);
    linear_forward(nullptr, x.data(), w.data(), bias ? b.data() : nullptr, y_ref.data(), n, in, out);
    expect_close(name + " forward y", y, y_ref);
    std::vector<float> gx = acc ? randv((int64_t)n * in) : nans((int64_t)n * in), gx_ref = gx;
    std::vector<float> gw = nans((int64_t)in * out), gw_ref(gw.size()), gb = nans(out), gb_ref(out);
    s = run_cuda<op::LINEAR_BACKWARD>({in, out, acc ? 1 : 0},
                                      {{&dy, true}, {&x, true}, {&w, false}, {dx ? &gx : nullptr, true}, {&gw, false}, {bias ? &gb : nullptr, false}},
                                      n, tf32);
    linear_backward(nullptr, dy.data(), x.data(), w.data(), dx ? gx_ref.data() : nullptr, gw_ref.data(), bias ? gb_ref.data() : nullptr, n,
                    in, out, acc);
    if (!s.ok()) failures++, std::printf("FAIL %s: %s\n", name.c_str(), s.message.c_str());
    if (dx) expect_close(name + " dx", gx, gx_ref);
    expect_close(name + " dW", gw, gw_ref);
    if (bias) expect_close(name + " db", gb, gb_ref);
}

// ---- conv ------------------------------------------------------------------------------------------

struct ConvCase {
    const char * name;
    int n, cin, h, w, cout, kh, kw, sh, sw, ph0, ph1, pw0, pw1, dh, dw, groups;
    int opad_h, opad_w;   // transposed only: output_padding
};

std::vector<int32_t> ints_of(const ConvShape & s) {
    return {s.cin, s.h, s.w, s.cout, s.kh, s.kw, s.sh, s.sw, s.ph0, s.ph1, s.pw0, s.pw1, s.dh, s.dw, s.groups, s.ho, s.wo};
}

void conv_case(const ConvCase & c, bool transposed, bool bias, bool dx, bool acc, bool tf32) {
    ConvShape s{c.cin, c.h, c.w, c.cout, c.kh, c.kw, c.sh, c.sw, c.ph0, c.ph1, c.pw0, c.pw1, c.dh, c.dw, c.groups, 0, 0};
    const int eh = c.dh * (c.kh - 1) + 1, ew = c.dw * (c.kw - 1) + 1;
    if (!transposed) {
        s.ho = (c.h + c.ph0 + c.ph1 - eh) / c.sh + 1;
        s.wo = (c.w + c.pw0 + c.pw1 - ew) / c.sw + 1;
    } else {
        s.ho = (c.h - 1) * c.sh - c.ph0 - c.ph1 + eh + c.opad_h;
        s.wo = (c.w - 1) * c.sw - c.pw0 - c.pw1 + ew + c.opad_w;
    }
    const std::string name = std::string(transposed ? "conv_transpose2d " : "conv2d ") + c.name + (bias ? " bias" : "") +
                             (dx ? (acc ? " dx+=" : " dx") : "") + (tf32 ? " tf32" : " fp32");
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
    expect_close(name + " forward y", y, y_ref);

    std::vector<float> gx = acc ? randv(n * in_e) : nans(n * in_e), gx_ref = gx;
    std::vector<float> gw = nans(wsz), gw_ref(wsz), gb = nans(c.cout), gb_ref(c.cout);
    const std::vector<Buf> bwd = {{&dy, true}, {&x, true}, {&w, false}, {dx ? &gx : nullptr, true}, {&gw, false}, {bias ? &gb : nullptr, false}};
    st = transposed ? run_cuda<op::CONV_TRANSPOSE2D_BACKWARD>(bi, bwd, c.n, tf32) : run_cuda<op::CONV2D_BACKWARD>(bi, bwd, c.n, tf32);
    float * pdx = dx ? gx_ref.data() : nullptr, * pdb = bias ? gb_ref.data() : nullptr;
    if (transposed) conv_transpose2d_backward(nullptr, s, dy.data(), x.data(), w.data(), pdx, gw_ref.data(), pdb, n, acc);
    else conv2d_backward(nullptr, s, dy.data(), x.data(), w.data(), pdx, gw_ref.data(), pdb, n, acc);
    if (!st.ok()) failures++, std::printf("FAIL %s backward: %s\n", name.c_str(), st.message.c_str());
    if (dx) expect_close(name + " dx", gx, gx_ref);
    expect_close(name + " dW", gw, gw_ref);
    if (bias) expect_close(name + " db", gb, gb_ref);
}

} // namespace

int main() {
    for (bool tf32 : {false, true}) {
        linear_case(1, 1, 1, true, true, false, tf32);
        linear_case(3, 7, 5, true, true, true, tf32);
        linear_case(65, 33, 70, false, true, false, tf32);
        linear_case(70, 129, 10, true, false, false, tf32);
        linear_case(2, 17, 130, true, true, true, tf32);
    }
    const ConvCase conv[] = {
        // name                          n cin  h  w cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw groups opad
        {"3x3 pad1 in=3", 3, 3, 9, 8, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {"s2 d2 asym-pad groups=2", 2, 4, 11, 10, 6, 3, 2, 2, 2, 2, 1, 0, 3, 2, 2, 2, 0, 0},
        {"groups=3 5x7 k3", 3, 6, 5, 7, 9, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 3, 0, 0},
        {"1x1 direct", 4, 5, 6, 5, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0},
        {"1x1 s2", 3, 5, 7, 6, 3, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0, 0},
        {"fashion conv1 1x28x28->32", 2, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0},
        {"k larger than pad, 65 ch", 2, 65, 4, 3, 3, 2, 3, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 0},
        {"depthwise 4", 2, 4, 6, 6, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 4, 0, 0},
    };
    const ConvCase convt[] = {
        {"3x3 s1 pad1", 3, 3, 5, 4, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0},
        {"s2 d2 groups=2 opad", 2, 4, 5, 4, 6, 3, 2, 2, 2, 1, 1, 0, 0, 2, 2, 2, 1, 1},
        {"s3 k2 opad2 groups=3", 2, 6, 3, 4, 3, 2, 2, 3, 3, 0, 0, 0, 0, 1, 1, 3, 2, 1},
        {"1x1 direct", 3, 5, 4, 5, 7, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0},
        {"4x4 s2 pad1 (DCGAN)", 2, 8, 4, 4, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0},
    };
    for (bool tf32 : {false, true})
        for (int v = 0; v < 3; v++) {
            const bool bias = v != 1, dx = v != 2, acc = v == 1;
            for (const ConvCase & c : conv) conv_case(c, false, bias, dx, acc, tf32);
            for (const ConvCase & c : convt) conv_case(c, true, bias, dx, acc, tf32);
        }
    std::printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
