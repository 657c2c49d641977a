// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d (kernels/pool2d.cpp, adaptive-pool2d.cpp): checks and CPU calls.
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

namespace {

// max: c h w kh kw sh sw ph pw dh dw ho wo; avg: c h w kh kw sh sw ph pw ho wo cip divisor
bool check_geometry(Checker & c, const std::vector<int32_t> & g, bool avg) {
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

// values per sample of the input [c, h, w] and of the output [c, ho, wo]
template <class O> int64_t in_elems(const OperandsOf<O> & a) { return (int64_t)a.i(O::c) * a.i(O::h) * a.i(O::w); }
template <class O> int64_t out_elems(const OperandsOf<O> & a) { return (int64_t)a.i(O::c) * a.i(O::ho) * a.i(O::wo); }

PoolShape max_pool_shape(const std::vector<int32_t> & g) {
    return PoolShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], false, 0};
}
PoolShape avg_pool_shape(const std::vector<int32_t> & g) {
    return PoolShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], 1, 1, g[9], g[10], g[11] != 0, g[12]};
}

// Adaptive pools: every size positive.
template <class O> bool check_adaptive_sizes(Checker & c, const OperandsOf<O> & a) {
    for (typename O::Int k : {O::c, O::h, O::w, O::ho, O::wo})
        if (!c.positive(a.i(k), "an adaptive pool size")) return false;
    return true;
}

} // namespace

template <> void check_op<op::MAX_POOL2D_FORWARD>(Checker & c, const OperandsOf<op::MAX_POOL2D_FORWARD> & a) {
    using O = op::MAX_POOL2D_FORWARD;
    if (!check_geometry(c, a.in.ints, false)) return;
    c.buf(a, O::x, F32, BATCHED, in_elems(a));
    c.buf(a, O::y, F32, BATCHED, out_elems(a));
    c.buf(a, O::indices, I32, BATCHED, out_elems(a));
}

template <> Status cpu_run<op::MAX_POOL2D_FORWARD>(const CpuArgs<op::MAX_POOL2D_FORWARD> & a) {
    using O = op::MAX_POOL2D_FORWARD;
    max_pool2d_forward(a.pool(), max_pool_shape(a.in.ints), a.f32(O::x), a.f32(O::y), a.i32(O::indices), a.n());
    return {};
}

template <> void check_op<op::MAX_POOL2D_BACKWARD>(Checker & c, const OperandsOf<op::MAX_POOL2D_BACKWARD> & a) {
    using O = op::MAX_POOL2D_BACKWARD;
    if (!check_geometry(c, a.in.ints, false) || !c.flag(a, O::accumulate)) return;
    c.buf(a, O::dy, F32, BATCHED, out_elems(a));
    c.buf(a, O::indices, I32, BATCHED, out_elems(a));
    c.buf(a, O::dx, F32, BATCHED, in_elems(a));
}

template <> Status cpu_run<op::MAX_POOL2D_BACKWARD>(const CpuArgs<op::MAX_POOL2D_BACKWARD> & a) {
    using O = op::MAX_POOL2D_BACKWARD;
    max_pool2d_backward(a.pool(), max_pool_shape(a.in.ints), a.f32(O::dy), a.i32(O::indices), a.f32(O::dx), a.n(), a.flag(O::accumulate));
    return {};
}

template <> void check_op<op::AVG_POOL2D_FORWARD>(Checker & c, const OperandsOf<op::AVG_POOL2D_FORWARD> & a) {
    using O = op::AVG_POOL2D_FORWARD;
    if (!check_geometry(c, a.in.ints, true)) return;
    c.buf(a, O::x, F32, BATCHED, in_elems(a));
    c.buf(a, O::y, F32, BATCHED, out_elems(a));
}

template <> Status cpu_run<op::AVG_POOL2D_FORWARD>(const CpuArgs<op::AVG_POOL2D_FORWARD> & a) {
    using O = op::AVG_POOL2D_FORWARD;
    avg_pool2d_forward(a.pool(), avg_pool_shape(a.in.ints), a.f32(O::x), a.f32(O::y), a.n());
    return {};
}

template <> void check_op<op::AVG_POOL2D_BACKWARD>(Checker & c, const OperandsOf<op::AVG_POOL2D_BACKWARD> & a) {
    using O = op::AVG_POOL2D_BACKWARD;
    if (!check_geometry(c, a.in.ints, true) || !c.flag(a, O::accumulate)) return;
    c.buf(a, O::dy, F32, BATCHED, out_elems(a));
    c.buf(a, O::dx, F32, BATCHED, in_elems(a));
}

template <> Status cpu_run<op::AVG_POOL2D_BACKWARD>(const CpuArgs<op::AVG_POOL2D_BACKWARD> & a) {
    using O = op::AVG_POOL2D_BACKWARD;
    avg_pool2d_backward(a.pool(), avg_pool_shape(a.in.ints), a.f32(O::dy), a.f32(O::dx), a.n(), a.flag(O::accumulate));
    return {};
}

template <> void check_op<op::ADAPTIVE_AVG_POOL2D_FORWARD>(Checker & c, const OperandsOf<op::ADAPTIVE_AVG_POOL2D_FORWARD> & a) {
    using O = op::ADAPTIVE_AVG_POOL2D_FORWARD;
    if (!check_adaptive_sizes(c, a)) return;
    c.buf(a, O::x, F32, BATCHED, in_elems(a));
    c.buf(a, O::y, F32, BATCHED, out_elems(a));
}

template <> Status cpu_run<op::ADAPTIVE_AVG_POOL2D_FORWARD>(const CpuArgs<op::ADAPTIVE_AVG_POOL2D_FORWARD> & a) {
    using O = op::ADAPTIVE_AVG_POOL2D_FORWARD;
    adaptive_avg_pool2d_forward(a.f32(O::x), a.f32(O::y), a.n(), a.i(O::c), a.i(O::h), a.i(O::w), a.i(O::ho), a.i(O::wo));
    return {};
}

template <> void check_op<op::ADAPTIVE_AVG_POOL2D_BACKWARD>(Checker & c, const OperandsOf<op::ADAPTIVE_AVG_POOL2D_BACKWARD> & a) {
    using O = op::ADAPTIVE_AVG_POOL2D_BACKWARD;
    if (!check_adaptive_sizes(c, a) || !c.flag(a, O::accumulate)) return;
    c.buf(a, O::dy, F32, BATCHED, out_elems(a));
    c.buf(a, O::dx, F32, BATCHED, in_elems(a));
}

template <> Status cpu_run<op::ADAPTIVE_AVG_POOL2D_BACKWARD>(const CpuArgs<op::ADAPTIVE_AVG_POOL2D_BACKWARD> & a) {
    using O = op::ADAPTIVE_AVG_POOL2D_BACKWARD;
    adaptive_avg_pool2d_backward(a.f32(O::dy), a.f32(O::dx), a.n(), a.i(O::c), a.i(O::h), a.i(O::w), a.i(O::ho), a.i(O::wo),
                                 a.flag(O::accumulate));
    return {};
}

} // namespace nl
