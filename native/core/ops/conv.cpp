// Conv2d (and Conv1d) and ConvTranspose2d (kernels/conv2d.cpp, conv-transpose2d.cpp): the geometry
// check shared by the four instructions, their operand checks and their CPU calls.
#include <algorithm>
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

namespace {

// Sizes positive, groups divide, output size consistent with the geometry.
bool check_geometry(Checker & c, const std::vector<int32_t> & g, bool transposed) {
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

template <class O> int64_t weight_elems(const OperandsOf<O> & a, bool transposed) {
    const int64_t cin = a.i(O::cin), cout = a.i(O::cout), k = (int64_t)a.i(O::kh) * a.i(O::kw), groups = a.i(O::groups);
    return transposed ? cin * (cout / groups) * k : cout * (cin / groups) * k;
}

// Conv2d and ConvTranspose2d forward: x [cin, h, w], weight, bias? [cout] -> y [cout, ho, wo] per sample
template <class O> void check_forward(Checker & c, const OperandsOf<O> & a, bool transposed) {
    if (!check_geometry(c, a.in.ints, transposed)) return;
    const int64_t in_e = (int64_t)a.i(O::cin) * a.i(O::h) * a.i(O::w), out_e = (int64_t)a.i(O::cout) * a.i(O::ho) * a.i(O::wo);
    c.buf(a, O::x, F32, BATCHED, in_e);
    c.buf(a, O::weight, F32, FIXED, weight_elems(a, transposed));
    c.buf(a, O::bias, F32, FIXED, a.i(O::cout), OPTIONAL);
    c.buf(a, O::y, F32, BATCHED, out_e);
}

template <class O> void check_backward(Checker & c, const OperandsOf<O> & a, bool transposed) {
    if (!check_geometry(c, a.in.ints, transposed) || !c.flag(a, O::accumulate_dx)) return;
    const int64_t in_e = (int64_t)a.i(O::cin) * a.i(O::h) * a.i(O::w), out_e = (int64_t)a.i(O::cout) * a.i(O::ho) * a.i(O::wo);
    const int64_t wsz = weight_elems(a, transposed);
    c.buf(a, O::dy, F32, BATCHED, out_e);
    c.buf(a, O::x, F32, BATCHED, in_e);
    c.buf(a, O::weight, F32, FIXED, wsz);
    c.buf(a, O::dx, F32, BATCHED, in_e, OPTIONAL);
    c.buf(a, O::dweight, F32, FIXED, wsz);
    c.buf(a, O::dbias, F32, FIXED, a.i(O::cout), OPTIONAL);
}

ConvShape conv_shape(const std::vector<int32_t> & g) {
    return ConvShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15], g[16]};
}

} // namespace

template <> void check_op<op::CONV2D_FORWARD>(Checker & c, const OperandsOf<op::CONV2D_FORWARD> & a) { check_forward(c, a, false); }
template <> void check_op<op::CONV_TRANSPOSE2D_FORWARD>(Checker & c, const OperandsOf<op::CONV_TRANSPOSE2D_FORWARD> & a) {
    check_forward(c, a, true);
}
template <> void check_op<op::CONV2D_BACKWARD>(Checker & c, const OperandsOf<op::CONV2D_BACKWARD> & a) { check_backward(c, a, false); }
template <> void check_op<op::CONV_TRANSPOSE2D_BACKWARD>(Checker & c, const OperandsOf<op::CONV_TRANSPOSE2D_BACKWARD> & a) {
    check_backward(c, a, true);
}

template <> Status cpu_run<op::CONV2D_FORWARD>(const CpuArgs<op::CONV2D_FORWARD> & a) {
    using O = op::CONV2D_FORWARD;
    conv2d_forward(a.pool(), conv_shape(a.in.ints), a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y), a.n());
    return {};
}

template <> Status cpu_run<op::CONV2D_BACKWARD>(const CpuArgs<op::CONV2D_BACKWARD> & a) {
    using O = op::CONV2D_BACKWARD;
    conv2d_backward(a.pool(), conv_shape(a.in.ints), a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::dx), a.f32(O::dweight),
                    a.f32(O::dbias), a.n(), a.flag(O::accumulate_dx));
    return {};
}

template <> Status cpu_run<op::CONV_TRANSPOSE2D_FORWARD>(const CpuArgs<op::CONV_TRANSPOSE2D_FORWARD> & a) {
    using O = op::CONV_TRANSPOSE2D_FORWARD;
    conv_transpose2d_forward(a.pool(), conv_shape(a.in.ints), a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y), a.n());
    return {};
}

template <> Status cpu_run<op::CONV_TRANSPOSE2D_BACKWARD>(const CpuArgs<op::CONV_TRANSPOSE2D_BACKWARD> & a) {
    using O = op::CONV_TRANSPOSE2D_BACKWARD;
    conv_transpose2d_backward(a.pool(), conv_shape(a.in.ints), a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::dx),
                              a.f32(O::dweight), a.f32(O::dbias), a.n(), a.flag(O::accumulate_dx));
    return {};
}

} // namespace nl
