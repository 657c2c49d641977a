// Program decoding and validation. Everything a kernel will assume about its operands (dtype,
// batched or not, element counts, arena bounds) is checked here once, so the kernels can run
// without checks and a malformed Program is reported as an error naming the instruction.
#include "program.h"
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace nl {

static const OpInfo OP_TABLE[] = {
#define NL_OP(e, name, nbuf, nint, nfloat) {name, nbuf, nint, nfloat},
#include "ops.def"
#undef NL_OP
};
static_assert(sizeof(OP_TABLE) / sizeof(OP_TABLE[0]) == (size_t)Op::COUNT, "ops.def and Op disagree");
static_assert((int)Op::COUNT == 41, "update engine/compile/ops.ts and this count together");

const OpInfo & op_info(Op op) { return OP_TABLE[(int)op]; }
int op_count() { return (int)Op::COUNT; }

namespace {

constexpr int64_t MAX_ARENA_WORDS = int64_t(1) << 34;   // 64 GiB: anything above is a corrupt file
constexpr int MAX_BATCH = 1 << 20;
constexpr int MAX_BUFFERS = 1 << 20;
constexpr int MAX_INSTRS = 1 << 22;
constexpr int ACTIVATION_KINDS = 7;   // kernels.h Activation

struct Reader {
    const int32_t * w;
    size_t n, pos = 0;
    bool take(int32_t & v) {
        if (pos >= n) return false;
        v = w[pos++];
        return true;
    }
};

std::string fmt_str(const char * f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt_str(const char * f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

// Operand expectations for one instruction; `where` prefixes every message.
struct Checker {
    const Program & p;
    std::string where;
    Status st;

    bool fail(std::string m) {
        if (st.ok()) st = Status::error(NL_STATUS_SHAPE_MISMATCH, where + ": " + m);
        return false;
    }
    // Buffer id b must exist (or be -1 when optional) and match dtype / batched / elems.
    bool buf(int32_t b, const char * role, DType dt, bool batched, int64_t elems, bool optional = false) {
        if (!st.ok()) return false;
        if (b == -1) return optional ? true : fail(fmt_str("operand '%s' is required but absent", role));
        if (b < 0 || b >= (int32_t)p.buffers.size()) {
            st = Status::error(NL_STATUS_INVALID_PROGRAM,
                               where + fmt_str(": operand '%s' names buffer %d, but the program has %zu buffers",
                                               role, b, p.buffers.size()));
            return false;
        }
        const BufferDesc & d = p.buffers[b];
        if (d.dtype != dt) return fail(fmt_str("operand '%s' (buffer %d) must be %s", role, b, dt == DType::F32 ? "float32" : "int32"));
        if (d.batched != batched)
            return fail(fmt_str("operand '%s' (buffer %d) must be %s", role, b, batched ? "per-sample (batched)" : "a fixed-size buffer"));
        if (d.elems != elems)
            return fail(fmt_str("operand '%s' (buffer %d) holds %lld values%s, expected %lld", role, b, (long long)d.elems,
                                batched ? " per sample" : "", (long long)elems));
        return true;
    }
    bool positive(int64_t v, const char * what) {
        if (v <= 0) {
            if (st.ok()) st = Status::error(NL_STATUS_INVALID_PROGRAM, where + fmt_str(": %s must be positive, got %lld", what, (long long)v));
            return false;
        }
        return true;
    }
    bool flag(int32_t v, const char * what) {
        if (v != 0 && v != 1) {
            if (st.ok()) st = Status::error(NL_STATUS_INVALID_PROGRAM, where + fmt_str(": %s must be 0 or 1, got %d", what, v));
            return false;
        }
        return true;
    }
    bool finite(float v, const char * what) {
        if (!std::isfinite(v)) {
            if (st.ok()) st = Status::error(NL_STATUS_INVALID_PROGRAM, where + fmt_str(": %s is not a finite number", what));
            return false;
        }
        return true;
    }
};

// Geometry checks shared by the conv ops: sizes positive, groups divide, output size consistent.
bool check_conv(Checker & c, const std::vector<int32_t> & g, bool transposed) {
    const char * names[17] = {"cin", "h", "w", "cout", "kh", "kw", "sh", "sw", "ph0", "ph1", "pw0", "pw1", "dh", "dw", "groups", "ho", "wo"};
    for (int k = 0; k < 17; k++) {
        bool pad = k >= 8 && k <= 11;
        if (pad ? g[k] < 0 : g[k] <= 0)
            return c.fail(fmt_str("%s = %d is out of range", names[k], g[k]));
    }
    // 64-bit: sums such as h + ph0 + ph1 of three int32 attributes may pass 2^31
    int64_t cin = g[0], h = g[1], w = g[2], cout = g[3], kh = g[4], kw = g[5], sh = g[6], sw = g[7];
    int64_t ph0 = g[8], ph1 = g[9], pw0 = g[10], pw1 = g[11], dh = g[12], dw = g[13], groups = g[14], ho = g[15], wo = g[16];
    if (cin % groups || cout % groups) return c.fail(fmt_str("groups=%d does not divide channels %d and %d", g[14], g[0], g[3]));
    int64_t eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
    if (!transposed) {
        if (eh > h + ph0 + ph1 || ew > w + pw0 + pw1) return c.fail("kernel larger than the padded input");
        if (ho != (h + ph0 + ph1 - eh) / sh + 1 || wo != (w + pw0 + pw1 - ew) / sw + 1)
            return c.fail(fmt_str("output size %dx%d does not follow from the geometry", g[15], g[16]));
    } else {
        int64_t bh = (h - 1) * sh - ph0 - ph1 + eh, bw = (w - 1) * sw - pw0 - pw1 + ew;
        if (ho < bh || ho >= bh + std::max(sh, dh) || wo < bw || wo >= bw + std::max(sw, dw))
            return c.fail(fmt_str("output size %dx%d does not follow from the geometry", g[15], g[16]));
    }
    return true;
}

bool check_pool(Checker & c, const std::vector<int32_t> & g, bool avg) {
    // max: c h w kh kw sh sw ph pw dh dw ho wo; avg: c h w kh kw sh sw ph pw ho wo cip divisor
    for (int k = 0; k < (avg ? 11 : 13); k++) {
        bool pad = k == 7 || k == 8;
        if (pad ? g[k] < 0 : g[k] <= 0) return c.fail(fmt_str("pool geometry value #%d = %d is out of range", k, g[k]));
    }
    const int64_t h = g[1], w = g[2], kh = g[3], kw = g[4], sh = g[5], sw = g[6], ph = g[7], pw = g[8];
    const int64_t ho = avg ? g[9] : g[11], wo = avg ? g[10] : g[12];
    if (ph > kh / 2 || pw > kw / 2) return c.fail("pool padding must be at most half the kernel");
    // every window starts inside the (left-)padded input, as torch's ceil_mode rule guarantees
    if ((ho - 1) * sh >= h + ph || (wo - 1) * sw >= w + pw)
        return c.fail(fmt_str("output size %lldx%lld is too large for the input", (long long)ho, (long long)wo));
    if (avg && (!c.flag(g[11], "count_include_pad") || g[12] < 0)) return false;
    return true;
}

Status check_instr(const Program & p, const Instr & in, const std::string & where) {
    Checker c{p, where, {}};
    const auto & b = in.bufs;
    const auto & i = in.ints;
    const auto & f = in.floats;
    const DType F = DType::F32, I = DType::I32;
    auto reduction = [&](int32_t v) { return v == 0 || v == 1 ? true : c.fail(fmt_str("reduction %d is not 0 (mean) or 1 (sum)", v)); };
    auto same_as = [&](int32_t id) -> int64_t { return id >= 0 && id < (int32_t)p.buffers.size() ? p.buffers[id].elems : -1; };
    switch (in.op) {
    case Op::LINEAR_FORWARD: {
        int64_t nin = i[0], nout = i[1];
        if (!c.positive(nin, "in_features") || !c.positive(nout, "out_features")) break;
        c.buf(b[0], "x", F, true, nin);
        c.buf(b[1], "weight", F, false, nin * nout);
        c.buf(b[2], "bias", F, false, nout, true);
        c.buf(b[3], "y", F, true, nout);
        break;
    }
    case Op::LINEAR_BACKWARD: {
        int64_t nin = i[0], nout = i[1];
        if (!c.positive(nin, "in_features") || !c.positive(nout, "out_features") || !c.flag(i[2], "accumulate_dx")) break;
        c.buf(b[0], "dy", F, true, nout);
        c.buf(b[1], "x", F, true, nin);
        c.buf(b[2], "weight", F, false, nin * nout);
        c.buf(b[3], "dx", F, true, nin, true);
        c.buf(b[4], "dweight", F, false, nin * nout);
        c.buf(b[5], "dbias", F, false, nout, true);
        break;
    }
    case Op::RELU_FORWARD:
        if (!c.positive(i[0], "features")) break;
        c.buf(b[0], "x", F, true, i[0]);
        c.buf(b[1], "y", F, true, i[0]);
        break;
    case Op::RELU_BACKWARD:
        if (!c.positive(i[0], "features") || !c.flag(i[1], "accumulate")) break;
        c.buf(b[0], "dy", F, true, i[0]);
        c.buf(b[1], "y", F, true, i[0]);
        c.buf(b[2], "dx", F, true, i[0]);
        break;
    case Op::SOFTMAX_CROSS_ENTROPY_FORWARD:
        if (!c.positive(i[0], "classes") || !reduction(i[2]) || !c.finite(f[0], "label_smoothing")) break;
        if (f[0] < 0 || f[0] > 1) { c.fail("label_smoothing must be between 0 and 1"); break; }
        c.buf(b[0], "logits", F, true, i[0]);
        c.buf(b[1], "labels", I, true, 1);
        c.buf(b[2], "probs", F, true, i[0]);
        c.buf(b[3], "loss", F, false, 1);
        c.buf(b[4], "correct", I, false, 1, true);
        c.buf(b[5], "weight", F, false, i[0], true);
        break;
    case Op::SOFTMAX_CROSS_ENTROPY_BACKWARD:
        if (!c.positive(i[0], "classes") || !c.flag(i[1], "accumulate") || !reduction(i[3]) || !c.finite(f[0], "label_smoothing")) break;
        c.buf(b[0], "probs", F, true, i[0]);
        c.buf(b[1], "labels", I, true, 1);
        c.buf(b[2], "dlogits", F, true, i[0]);
        c.buf(b[3], "weight", F, false, i[0], true);
        break;
    case Op::SGD_STEP: {
        if (!c.flag(i[0], "nesterov") || !c.flag(i[1], "maximize")) break;
        for (int k = 0; k < 4; k++) c.finite(f[k], "a hyper-parameter");
        if (!c.st.ok()) break;
        int64_t n = same_as(b[0]);
        c.buf(b[0], "param", F, false, n);
        c.buf(b[1], "grad", F, false, n);
        c.buf(b[2], "momentum_buffer", F, false, n, f[1] == 0.f);
        if (c.st.ok() && i[0] && (f[1] <= 0.f || f[2] != 0.f))
            c.st = Status::error(NL_STATUS_INVALID_PROGRAM, where + ": Nesterov momentum requires a momentum and zero dampening");
        break;
    }
    case Op::ADAM_STEP: {
        if (!c.flag(i[0], "amsgrad") || !c.flag(i[1], "maximize") || !c.flag(i[2], "decoupled")) break;
        for (int k = 0; k < 5; k++) c.finite(f[k], "a hyper-parameter");
        if (!c.st.ok()) break;
        int64_t n = same_as(b[0]);
        c.buf(b[0], "param", F, false, n);
        c.buf(b[1], "grad", F, false, n);
        c.buf(b[2], "exp_avg", F, false, n);
        c.buf(b[3], "exp_avg_sq", F, false, n);
        c.buf(b[4], "max_exp_avg_sq", F, false, n, !i[0]);
        break;
    }
    case Op::CONV2D_FORWARD:
    case Op::CONV_TRANSPOSE2D_FORWARD:
    case Op::CONV2D_BACKWARD:
    case Op::CONV_TRANSPOSE2D_BACKWARD: {
        bool tr = in.op == Op::CONV_TRANSPOSE2D_FORWARD || in.op == Op::CONV_TRANSPOSE2D_BACKWARD;
        bool bwd = in.op == Op::CONV2D_BACKWARD || in.op == Op::CONV_TRANSPOSE2D_BACKWARD;
        if (!check_conv(c, i, tr) || (bwd && !c.flag(i[17], "accumulate_dx"))) break;
        int64_t cin = i[0], h = i[1], w = i[2], cout = i[3], kh = i[4], kw = i[5], groups = i[14], ho = i[15], wo = i[16];
        int64_t wsz = tr ? cin * (cout / groups) * kh * kw : cout * (cin / groups) * kh * kw;
        if (!bwd) {
            c.buf(b[0], "x", F, true, cin * h * w);
            c.buf(b[1], "weight", F, false, wsz);
            c.buf(b[2], "bias", F, false, cout, true);
            c.buf(b[3], "y", F, true, cout * ho * wo);
        } else {
            c.buf(b[0], "dy", F, true, cout * ho * wo);
            c.buf(b[1], "x", F, true, cin * h * w);
            c.buf(b[2], "weight", F, false, wsz);
            c.buf(b[3], "dx", F, true, cin * h * w, true);
            c.buf(b[4], "dweight", F, false, wsz);
            c.buf(b[5], "dbias", F, false, cout, true);
        }
        break;
    }
    case Op::MAX_POOL2D_FORWARD:
    case Op::MAX_POOL2D_BACKWARD: {
        bool bwd = in.op == Op::MAX_POOL2D_BACKWARD;
        if (!check_pool(c, i, false) || (bwd && !c.flag(i[13], "accumulate"))) break;
        int64_t in_e = (int64_t)i[0] * i[1] * i[2], out_e = (int64_t)i[0] * i[11] * i[12];
        if (!bwd) {
            c.buf(b[0], "x", F, true, in_e);
            c.buf(b[1], "y", F, true, out_e);
            c.buf(b[2], "indices", I, true, out_e);
        } else {
            c.buf(b[0], "dy", F, true, out_e);
            c.buf(b[1], "indices", I, true, out_e);
            c.buf(b[2], "dx", F, true, in_e);
        }
        break;
    }
    case Op::AVG_POOL2D_FORWARD:
    case Op::AVG_POOL2D_BACKWARD: {
        bool bwd = in.op == Op::AVG_POOL2D_BACKWARD;
        if (!check_pool(c, i, true) || (bwd && !c.flag(i[13], "accumulate"))) break;
        int64_t in_e = (int64_t)i[0] * i[1] * i[2], out_e = (int64_t)i[0] * i[9] * i[10];
        c.buf(b[0], bwd ? "dy" : "x", F, true, bwd ? out_e : in_e);
        c.buf(b[1], bwd ? "dx" : "y", F, true, bwd ? in_e : out_e);
        break;
    }
    case Op::ADAPTIVE_AVG_POOL2D_FORWARD:
    case Op::ADAPTIVE_AVG_POOL2D_BACKWARD: {
        bool bwd = in.op == Op::ADAPTIVE_AVG_POOL2D_BACKWARD;
        for (int k = 0; k < 5; k++) if (!c.positive(i[k], "an adaptive pool size")) break;
        if (!c.st.ok() || (bwd && !c.flag(i[5], "accumulate"))) break;
        int64_t in_e = (int64_t)i[0] * i[1] * i[2], out_e = (int64_t)i[0] * i[3] * i[4];
        c.buf(b[0], bwd ? "dy" : "x", F, true, bwd ? out_e : in_e);
        c.buf(b[1], bwd ? "dx" : "y", F, true, bwd ? in_e : out_e);
        break;
    }
    case Op::BATCH_NORM_FORWARD: {
        if (!c.positive(i[0], "channels") || !c.positive(i[1], "inner size") || !c.finite(f[0], "eps") || !c.finite(f[1], "momentum")) break;
        int64_t ch = i[0], e = (int64_t)i[0] * i[1];
        c.buf(b[0], "x", F, true, e);
        c.buf(b[1], "weight", F, false, ch, true);
        c.buf(b[2], "bias", F, false, ch, true);
        c.buf(b[3], "running_mean", F, false, ch, true);
        c.buf(b[4], "running_var", F, false, ch, true);
        c.buf(b[5], "num_batches_tracked", I, false, 1, true);
        c.buf(b[6], "save_mean", F, false, ch);
        c.buf(b[7], "save_invstd", F, false, ch);
        c.buf(b[8], "y", F, true, e);
        if (c.st.ok() && ((b[3] < 0) != (b[4] < 0))) c.fail("running_mean and running_var come together");
        break;
    }
    case Op::BATCH_NORM_BACKWARD: {
        if (!c.positive(i[0], "channels") || !c.positive(i[1], "inner size") || !c.flag(i[2], "accumulate_dx")) break;
        int64_t ch = i[0], e = (int64_t)i[0] * i[1];
        c.buf(b[0], "dy", F, true, e);
        c.buf(b[1], "x", F, true, e);
        c.buf(b[2], "weight", F, false, ch, true);
        c.buf(b[3], "save_mean", F, false, ch);
        c.buf(b[4], "save_invstd", F, false, ch);
        c.buf(b[5], "dx", F, true, e, true);
        c.buf(b[6], "dweight", F, false, ch, true);
        c.buf(b[7], "dbias", F, false, ch, true);
        break;
    }
    case Op::LAYER_NORM_FORWARD: {
        if (!c.positive(i[0], "rows") || !c.positive(i[1], "cols") || !c.finite(f[0], "eps")) break;
        int64_t e = (int64_t)i[0] * i[1];
        c.buf(b[0], "x", F, true, e);
        c.buf(b[1], "weight", F, false, i[1], true);
        c.buf(b[2], "bias", F, false, i[1], true);
        c.buf(b[3], "y", F, true, e);
        c.buf(b[4], "mean", F, true, i[0]);
        c.buf(b[5], "rstd", F, true, i[0]);
        break;
    }
    case Op::LAYER_NORM_BACKWARD: {
        if (!c.positive(i[0], "rows") || !c.positive(i[1], "cols") || !c.flag(i[2], "accumulate_dx")) break;
        int64_t e = (int64_t)i[0] * i[1];
        c.buf(b[0], "dy", F, true, e);
        c.buf(b[1], "x", F, true, e);
        c.buf(b[2], "weight", F, false, i[1], true);
        c.buf(b[3], "mean", F, true, i[0]);
        c.buf(b[4], "rstd", F, true, i[0]);
        c.buf(b[5], "dx", F, true, e, true);
        c.buf(b[6], "dweight", F, false, i[1], true);
        c.buf(b[7], "dbias", F, false, i[1], true);
        break;
    }
    case Op::DROPOUT_FORWARD:
        if (!c.positive(i[0], "features") || !c.finite(f[0], "p")) break;
        if (f[0] < 0 || f[0] > 1) { c.fail("dropout probability must be between 0 and 1"); break; }
        c.buf(b[0], "x", F, true, i[0]);
        c.buf(b[1], "y", F, true, i[0]);
        c.buf(b[2], "mask", F, true, i[0]);
        break;
    case Op::DROPOUT_BACKWARD:
        if (!c.positive(i[0], "features") || !c.flag(i[1], "accumulate")) break;
        c.buf(b[0], "dy", F, true, i[0]);
        c.buf(b[1], "mask", F, true, i[0]);
        c.buf(b[2], "dx", F, true, i[0]);
        break;
    case Op::ACTIVATION_FORWARD:
    case Op::ACTIVATION_BACKWARD: {
        bool bwd = in.op == Op::ACTIVATION_BACKWARD;
        if (i[0] < 0 || i[0] >= ACTIVATION_KINDS) { c.fail(fmt_str("unknown activation kind %d", i[0])); break; }
        if (!c.positive(i[1], "features") || !c.finite(f[0], "alpha") || (bwd && !c.flag(i[2], "accumulate"))) break;
        for (int k = 0; k < (bwd ? 4 : 2); k++) c.buf(b[k], bwd ? (k == 0 ? "dy" : k == 1 ? "x" : k == 2 ? "y" : "dx") : (k ? "y" : "x"), F, true, i[1]);
        break;
    }
    case Op::SOFTMAX_FORWARD:
    case Op::SOFTMAX_BACKWARD: {
        bool bwd = in.op == Op::SOFTMAX_BACKWARD;
        if (!c.positive(i[0], "outer") || !c.positive(i[1], "dim") || !c.positive(i[2], "inner") || !c.flag(i[3], "log") ||
            (bwd && !c.flag(i[4], "accumulate")))
            break;
        int64_t e = (int64_t)i[0] * i[1] * i[2];
        for (int k = 0; k < (bwd ? 3 : 2); k++) c.buf(b[k], "operand", F, true, e);
        break;
    }
    case Op::ADD_FORWARD:
        if (!c.positive(i[0], "features")) break;
        for (int k = 0; k < 3; k++) c.buf(b[k], k == 2 ? "y" : "input", F, true, i[0]);
        break;
    case Op::COPY:
        if (!c.positive(i[0], "features") || !c.flag(i[1], "accumulate")) break;
        c.buf(b[0], "src", F, true, i[0]);
        c.buf(b[1], "dst", F, true, i[0]);
        break;
    case Op::CONCAT_FORWARD:
    case Op::CONCAT_BACKWARD: {
        bool bwd = in.op == Op::CONCAT_BACKWARD;
        if (!c.positive(i[0], "outer") || !c.positive(i[1], "x_inner") || !c.positive(i[2], "y_inner") || (bwd && !c.flag(i[4], "accumulate"))) break;
        if (i[3] < 0 || (int64_t)i[3] + i[1] > i[2]) { c.fail("the slice lies outside the concatenated tensor"); break; }
        c.buf(b[0], bwd ? "dy" : "x", F, true, (int64_t)i[0] * (bwd ? i[2] : i[1]));
        c.buf(b[1], bwd ? "dx" : "y", F, true, (int64_t)i[0] * (bwd ? i[1] : i[2]));
        break;
    }
    case Op::NLL_LOSS_FORWARD:
        if (!c.positive(i[0], "classes") || !reduction(i[2])) break;
        c.buf(b[0], "log_probs", F, true, i[0]);
        c.buf(b[1], "labels", I, true, 1);
        c.buf(b[2], "loss", F, false, 1);
        c.buf(b[3], "correct", I, false, 1, true);
        c.buf(b[4], "weight", F, false, i[0], true);
        break;
    case Op::NLL_LOSS_BACKWARD:
        if (!c.positive(i[0], "classes") || !reduction(i[2]) || !c.flag(i[3], "accumulate")) break;
        c.buf(b[0], "labels", I, true, 1);
        c.buf(b[1], "dlog_probs", F, true, i[0]);
        c.buf(b[2], "weight", F, false, i[0], true);
        break;
    case Op::POINT_LOSS_FORWARD:
    case Op::POINT_LOSS_BACKWARD: {
        bool bwd = in.op == Op::POINT_LOSS_BACKWARD;
        if (i[0] < 0 || i[0] > 3) { c.fail(fmt_str("unknown point loss kind %d", i[0])); break; }
        if (!c.positive(i[1], "features") || !reduction(i[2]) || !c.finite(f[0], "beta")) break;
        if (bwd && (!c.flag(i[3], "accumulate") || !c.flag(i[4], "accumulate"))) break;
        c.buf(b[0], "pred", F, true, i[1]);
        c.buf(b[1], "target", F, true, i[1]);
        if (!bwd) c.buf(b[2], "loss", F, false, 1);
        else {
            c.buf(b[2], "dpred", F, true, i[1], true);
            c.buf(b[3], "dtarget", F, true, i[1], true);
        }
        break;
    }
    case Op::ONE_HOT:
        if (!c.positive(i[0], "classes")) break;
        c.buf(b[0], "labels", I, true, 1);
        c.buf(b[1], "y", F, true, i[0]);
        break;
    case Op::RMSPROP_STEP: {
        if (!c.flag(i[0], "centered") || !c.flag(i[1], "maximize")) break;
        for (int k = 0; k < 5; k++) c.finite(f[k], "a hyper-parameter");
        if (!c.st.ok()) break;
        int64_t n = same_as(b[0]);
        c.buf(b[0], "param", F, false, n);
        c.buf(b[1], "grad", F, false, n);
        c.buf(b[2], "square_avg", F, false, n);
        c.buf(b[3], "momentum_buffer", F, false, n, f[4] <= 0.f);
        c.buf(b[4], "grad_avg", F, false, n, !i[0]);
        break;
    }
    case Op::ADAGRAD_STEP: {
        if (!c.flag(i[0], "maximize")) break;
        for (int k = 0; k < 4; k++) c.finite(f[k], "a hyper-parameter");
        if (!c.st.ok()) break;
        int64_t n = same_as(b[0]);
        c.buf(b[0], "param", F, false, n);
        c.buf(b[1], "grad", F, false, n);
        c.buf(b[2], "sum", F, false, n);
        break;
    }
    case Op::GRAD_NORM_SQ:
    case Op::CLIP_GRAD: {
        if (in.op == Op::GRAD_NORM_SQ ? !c.flag(i[0], "first") : !c.finite(f[0], "max_norm")) break;
        c.buf(b[0], "grad", F, false, same_as(b[0]));
        c.buf(b[1], "norm_sq", F, false, 1);
        break;
    }
    case Op::COUNT: break;
    }
    return c.st;
}

} // namespace

Status program_decode(const int32_t * words, size_t n, Program & out) {
    if (!words || n < (size_t)HEADER_WORDS)
        return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("program is %zu words long, shorter than its %d-word header", n, HEADER_WORDS));
    if (words[0] != PROGRAM_MAGIC)
        return Status::error(NL_STATUS_INVALID_PROGRAM, "not a Netloom program (bad magic number)");
    if (words[1] != PROGRAM_VERSION)
        return Status::error(NL_STATUS_INVALID_PROGRAM,
                             fmt_str("program format version %d is not supported (this engine reads version %d)", words[1], PROGRAM_VERSION));
    Program p;
    p.max_batch = words[2];
    int64_t arena = words[3];
    int32_t nbuf = words[4], nf = words[5], nb = words[6], ns = words[7];
    if (p.max_batch < 1 || p.max_batch > MAX_BATCH)
        return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("batch size %d is out of range (1..%d)", p.max_batch, MAX_BATCH));
    if (arena < 0 || nbuf < 0 || nbuf > MAX_BUFFERS || nf < 0 || nb < 0 || ns < 0 || (int64_t)nf + nb + ns > MAX_INSTRS)
        return Status::error(NL_STATUS_INVALID_PROGRAM, "program header has negative or absurd counts");
    // arena_floats is stored in units of 16 words (one cache line) so that it fits in an int32.
    p.arena_words = arena * 16;
    int32_t ids[6];
    std::memcpy(ids, words + 8, sizeof ids);
    p.classes = words[14];
    if (p.classes < 0) return Status::error(NL_STATUS_INVALID_PROGRAM, "program header has a negative class count");
    const int32_t targets = words[15];

    Reader r{words, n, HEADER_WORDS};
    p.buffers.resize(nbuf);
    for (int32_t k = 0; k < nbuf; k++) {
        int32_t dt, batched, elems, offset16;
        if (!r.take(dt) || !r.take(batched) || !r.take(elems) || !r.take(offset16))
            return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("program ends inside buffer %d's description", k));
        if ((dt != 0 && dt != 1) || (batched != 0 && batched != 1) || elems <= 0 || offset16 < 0)
            return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("buffer %d has an invalid description (dtype %d, batched %d, elems %d)", k, dt, batched, elems));
        BufferDesc d{(DType)dt, batched == 1, elems, (int64_t)offset16 * 16};
        if (d.words(p.max_batch) > MAX_ARENA_WORDS || d.offset + d.words(p.max_batch) > p.arena_words)
            return Status::error(NL_STATUS_INVALID_PROGRAM,
                                 fmt_str("buffer %d (offset %lld, %lld words) lies outside the %lld-word arena", k,
                                         (long long)d.offset, (long long)d.words(p.max_batch), (long long)p.arena_words));
        p.buffers[k] = d;
    }
    if (p.arena_words > MAX_ARENA_WORDS)
        return Status::error(NL_STATUS_INVALID_PROGRAM, "program arena is larger than 64 GiB");

    std::vector<Instr> * sections[3] = {&p.forward, &p.backward, &p.step};
    const char * names[3] = {"forward", "backward", "step"};
    int32_t counts[3] = {nf, nb, ns};
    int index = 0;
    for (int s = 0; s < 3; s++) {
        sections[s]->resize(counts[s]);
        for (int32_t j = 0; j < counts[s]; j++, index++) {
            Instr & in = (*sections[s])[j];
            int32_t op, nbufs, nints, nfloats;
            std::string where = fmt_str("instruction %d (%s #%d", index, names[s], j);
            if (!r.take(op) || !r.take(nbufs) || !r.take(nints) || !r.take(nfloats))
                return Status::error(NL_STATUS_INVALID_PROGRAM, where + "): program ends inside it");
            if (op < 0 || op >= (int32_t)Op::COUNT)
                return Status::error(NL_STATUS_INVALID_PROGRAM, where + fmt_str("): unknown opcode %d (this engine knows 0..%d)", op, (int)Op::COUNT - 1));
            in.op = (Op)op;
            const OpInfo & info = op_info(in.op);
            where += std::string(", ") + info.name + ")";
            if (nbufs != info.n_buffers || nints != info.n_ints || nfloats != info.n_floats)
                return Status::error(NL_STATUS_INVALID_PROGRAM,
                                     where + fmt_str(": has %d buffers, %d int and %d float attributes; %s takes %d, %d and %d",
                                                     nbufs, nints, nfloats, info.name, info.n_buffers, info.n_ints, info.n_floats));
            in.bufs.resize(nbufs);
            in.ints.resize(nints);
            in.floats.resize(nfloats);
            bool ok = true;
            for (auto & v : in.bufs) ok = ok && r.take(v);
            for (auto & v : in.ints) ok = ok && r.take(v);
            for (auto & v : in.floats) {
                int32_t bits = 0;   // read only when take() succeeded; zero keeps the copy defined when it did not
                ok = ok && r.take(bits);
                std::memcpy(&v, &bits, 4);
            }
            if (!ok) return Status::error(NL_STATUS_INVALID_PROGRAM, where + ": program ends inside it");
            Status st = check_instr(p, in, where);
            if (!st.ok()) return st;
        }
    }
    if (r.pos != n)
        return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("program has %zu unexpected words after its last instruction", n - r.pos));

    // Well-known buffers: checked like operands so the runtime can use them blindly.
    Checker c{p, "program header", {}};
    if (ids[0] != -1) c.buf(ids[0], "input", DType::F32, true, ids[0] >= 0 && ids[0] < nbuf ? p.buffers[ids[0]].elems : 1);
    if (ids[1] != -1) c.buf(ids[1], "labels", DType::I32, true, 1);
    if (ids[2] != -1) c.buf(ids[2], "logits", DType::F32, true, ids[2] >= 0 && ids[2] < nbuf ? p.buffers[ids[2]].elems : 1);
    if (ids[3] != -1) c.buf(ids[3], "probs", DType::F32, true, ids[3] >= 0 && ids[3] < nbuf ? p.buffers[ids[3]].elems : 1);
    if (ids[4] != -1) c.buf(ids[4], "loss", DType::F32, false, 1);
    if (ids[5] != -1) c.buf(ids[5], "correct", DType::I32, false, 1);
    // Regression targets: any width, but float and one row per sample, so the runtime can gather
    // a dataset's target rows into it.
    if (targets != -1) c.buf(targets, "targets", DType::F32, true, targets >= 0 && targets < nbuf ? p.buffers[targets].elems : 1);
    if (ids[1] != -1 && p.classes <= 0) c.fail("a program that reads labels must say how many classes they index");
    if (!c.st.ok()) return c.st;
    p.input = ids[0];
    p.labels = ids[1];
    p.logits = ids[2];
    p.probs = ids[3];
    p.loss = ids[4];
    p.correct = ids[5];
    p.targets = targets;
    out = std::move(p);
    return {};
}

} // namespace nl
