// Pooling on CUDA, mirroring native/core/ops/pool.cpp and the CPU kernels pool2d.cpp and
// adaptive-pool2d.cpp (window rules, NaN and tie rules, divisors: see their header comments).
//
//   max_pool2d:           x [n, c, h, w] -> y [n, c, ho, wo], indices int32 [n, c, ho, wo] (flat h*w)
//                         backward: dx [n, c, h, w] (+)= dy gathered from every window whose index is here
//   avg_pool2d:           x -> y; backward: every input in a window gets dy / divisor
//   adaptive_avg_pool2d:  window i spans [floor(i*h/ho), ceil((i+1)*h/ho)); y = sum / kh / kw
//
// Forward: one thread per output value, the window walked in the CPU's order, so sums round the
// same way. Backward: one thread per INPUT value gathering from the windows that cover it (in
// increasing output order, the order the CPU's scatter adds them), so there are no atomics, the
// result is deterministic, and it equals the CPU's to the bit. One case differs: a max-pool window
// lying entirely in the padding (torch's shape rules never make one) gives the CPU an index outside
// that window, which the gather does not visit.
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

// The attribute layouts of ops.def (max-pool geometry 13 ints, avg-pool 13), as pool.cpp reads them.
PoolShape max_pool_shape(const std::vector<int32_t> & g) {
    return PoolShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], false, 0};
}
PoolShape avg_pool_shape(const std::vector<int32_t> & g) {
    return PoolShape{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], 1, 1, g[9], g[10], g[11] != 0, g[12]};
}

// ---- max -------------------------------------------------------------------------------------------

__global__ void max_pool_forward_kernel(PoolShape s, const float * x, float * y, int32_t * indices, int64_t n) {
    const int64_t OP = (int64_t)s.ho * s.wo, HW = (int64_t)s.h * s.w, total = n * s.c * OP;
    for (int64_t t = global_thread(); t < total; t += grid_threads()) {
        const int64_t p = t / OP, o = t - p * OP;
        const int64_t oh = o / s.wo, ow = o - oh * s.wo;
        int64_t ih0 = oh * s.sh - s.ph, iw0 = ow * s.sw - s.pw;
        int64_t ih1 = ih0 + (int64_t)(s.kh - 1) * s.dh + 1, iw1 = iw0 + (int64_t)(s.kw - 1) * s.dw + 1;
        if (ih1 > s.h) ih1 = s.h;
        if (iw1 > s.w) iw1 = s.w;
        while (ih0 < 0) ih0 += s.dh;
        while (iw0 < 0) iw0 += s.dw;
        const float * in = x + p * HW;
        float m = -INFINITY;
        int64_t best = ih0 * s.w + iw0;
        for (int64_t ih = ih0; ih < ih1; ih += s.dh)
            for (int64_t iw = iw0; iw < iw1; iw += s.dw) {
                const int64_t k = ih * s.w + iw;
                const float v = in[k];
                if (v > m || v != v) {   // a NaN wins (the last one's index), ties keep the first
                    m = v;
                    best = k;
                }
            }
        y[t] = m;
        if (indices) indices[t] = (int32_t)best;
    }
}

// Output positions o in [lo, hi] whose window start o*stride - pad + k*dil can equal i for some
// tap k < kernel: walked from the last tap to the first, which is increasing o.
template <bool Acc> __global__ void max_pool_backward_kernel(PoolShape s, const float * dy, const int32_t * indices, float * dx, int64_t n) {
    const int64_t OP = (int64_t)s.ho * s.wo, HW = (int64_t)s.h * s.w, total = n * s.c * HW;
    for (int64_t t = global_thread(); t < total; t += grid_threads()) {
        const int64_t p = t / HW, k = t - p * HW;
        const int64_t ih = k / s.w, iw = k - ih * s.w;
        const float * d = dy + p * OP;
        const int32_t * idx = indices + p * OP;
        float g = Acc ? dx[t] : 0.f;
        for (int ki = s.kh - 1; ki >= 0; ki--) {
            const int64_t th = ih + s.ph - (int64_t)ki * s.dh;
            if (th < 0 || th % s.sh) continue;
            const int64_t oh = th / s.sh;
            if (oh >= s.ho) continue;
            for (int kj = s.kw - 1; kj >= 0; kj--) {
                const int64_t tw = iw + s.pw - (int64_t)kj * s.dw;
                if (tw < 0 || tw % s.sw) continue;
                const int64_t ow = tw / s.sw;
                if (ow >= s.wo) continue;
                const int64_t o = oh * s.wo + ow;
                if (idx[o] == k) g += d[o];
            }
        }
        dx[t] = g;
    }
}

// ---- avg -------------------------------------------------------------------------------------------

// pool2d.cpp's nl_avg_window: the clipped window of output (oh, ow) and its divisor (0: empty).
__device__ __forceinline__ int64_t avg_window(const PoolShape & s, int64_t oh, int64_t ow, int64_t & ih0, int64_t & ih1, int64_t & iw0,
                                              int64_t & iw1) {
    int64_t h0 = oh * s.sh - s.ph, w0 = ow * s.sw - s.pw;
    int64_t h1 = h0 + s.kh, w1 = w0 + s.kw;
    if (h1 > s.h + s.ph) h1 = s.h + s.ph;
    if (w1 > s.w + s.pw) w1 = s.w + s.pw;
    const int64_t pool_size = (h1 - h0) * (w1 - w0);
    if (h0 < 0) h0 = 0;
    if (w0 < 0) w0 = 0;
    if (h1 > s.h) h1 = s.h;
    if (w1 > s.w) w1 = s.w;
    ih0 = h0, ih1 = h1, iw0 = w0, iw1 = w1;
    if (h0 >= h1 || w0 >= w1) return 0;
    if (s.divisor_override) return s.divisor_override;
    return s.count_include_pad ? pool_size : (h1 - h0) * (w1 - w0);
}

__global__ void avg_pool_forward_kernel(PoolShape s, const float * x, float * y, int64_t n) {
    const int64_t OP = (int64_t)s.ho * s.wo, HW = (int64_t)s.h * s.w, total = n * s.c * OP;
    for (int64_t t = global_thread(); t < total; t += grid_threads()) {
        const int64_t p = t / OP, o = t - p * OP;
        const int64_t oh = o / s.wo, ow = o - oh * s.wo;
        int64_t ih0, ih1, iw0, iw1;
        const int64_t div = avg_window(s, oh, ow, ih0, ih1, iw0, iw1);
        if (div == 0) {
            y[t] = 0.f;
            continue;
        }
        const float * in = x + p * HW;
        float sum = 0.f;
        for (int64_t ih = ih0; ih < ih1; ih++)
            for (int64_t iw = iw0; iw < iw1; iw++) sum += in[ih * s.w + iw];
        y[t] = sum / (float)div;
    }
}

// First output index whose window [o*stride - pad, o*stride - pad + kernel) reaches i, and the last
// whose window starts at or before i (clamped to [0, out)).
__device__ __forceinline__ void covering(int64_t i, int pad, int kernel, int stride, int out, int64_t & lo, int64_t & hi) {
    const int64_t a = i + pad - kernel + 1;
    lo = a <= 0 ? 0 : (a + stride - 1) / stride;
    hi = (i + pad) / stride;
    if (hi > out - 1) hi = out - 1;
}

template <bool Acc> __global__ void avg_pool_backward_kernel(PoolShape s, const float * dy, float * dx, int64_t n) {
    const int64_t OP = (int64_t)s.ho * s.wo, HW = (int64_t)s.h * s.w, total = n * s.c * HW;
    for (int64_t t = global_thread(); t < total; t += grid_threads()) {
        const int64_t p = t / HW, k = t - p * HW;
        const int64_t ih = k / s.w, iw = k - ih * s.w;
        int64_t oh0, oh1, ow0, ow1;
        covering(ih, s.ph, s.kh, s.sh, s.ho, oh0, oh1);
        covering(iw, s.pw, s.kw, s.sw, s.wo, ow0, ow1);
        const float * d = dy + p * OP;
        float g = Acc ? dx[t] : 0.f;
        for (int64_t oh = oh0; oh <= oh1; oh++)
            for (int64_t ow = ow0; ow <= ow1; ow++) {
                int64_t ih0, ih1, iw0, iw1;
                const int64_t div = avg_window(s, oh, ow, ih0, ih1, iw0, iw1);
                if (div == 0 || ih < ih0 || ih >= ih1 || iw < iw0 || iw >= iw1) continue;
                g += d[oh * s.wo + ow] / (float)div;
            }
        dx[t] = g;
    }
}

// ---- adaptive avg ----------------------------------------------------------------------------------

__device__ __forceinline__ int64_t adaptive_start(int64_t i, int64_t out, int64_t in) { return i * in / out; }
__device__ __forceinline__ int64_t adaptive_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

struct AdaptiveShape {
    int64_t c, h, w, ho, wo;
};

__global__ void adaptive_avg_forward_kernel(AdaptiveShape s, const float * x, float * y, int64_t n) {
    const int64_t OP = s.ho * s.wo, HW = s.h * s.w, total = n * s.c * OP;
    for (int64_t t = global_thread(); t < total; t += grid_threads()) {
        const int64_t p = t / OP, o = t - p * OP;
        const int64_t oh = o / s.wo, ow = o - oh * s.wo;
        const int64_t ih0 = adaptive_start(oh, s.ho, s.h), ih1 = adaptive_end(oh, s.ho, s.h);
        const int64_t iw0 = adaptive_start(ow, s.wo, s.w), iw1 = adaptive_end(ow, s.wo, s.w);
        const float * in = x + p * HW;
        float sum = 0.f;
        for (int64_t ih = ih0; ih < ih1; ih++)
            for (int64_t iw = iw0; iw < iw1; iw++) sum += in[ih * s.w + iw];
        y[t] = sum / (float)(ih1 - ih0) / (float)(iw1 - iw0);
    }
}

// The windows covering input i: o from floor(i*out/in) while start(o) <= i, keeping those with end(o) > i.
template <bool Acc> __global__ void adaptive_avg_backward_kernel(AdaptiveShape s, const float * dy, float * dx, int64_t n) {
    const int64_t OP = s.ho * s.wo, HW = s.h * s.w, total = n * s.c * HW;
    for (int64_t t = global_thread(); t < total; t += grid_threads()) {
        const int64_t p = t / HW, k = t - p * HW;
        const int64_t ih = k / s.w, iw = k - ih * s.w;
        const float * d = dy + p * OP;
        float g = Acc ? dx[t] : 0.f;
        for (int64_t oh = ih * s.ho / s.h; oh < s.ho && adaptive_start(oh, s.ho, s.h) <= ih; oh++) {
            const int64_t ih1 = adaptive_end(oh, s.ho, s.h);
            if (ih1 <= ih) continue;
            const float kh = (float)(ih1 - adaptive_start(oh, s.ho, s.h));
            for (int64_t ow = iw * s.wo / s.w; ow < s.wo && adaptive_start(ow, s.wo, s.w) <= iw; ow++) {
                const int64_t iw1 = adaptive_end(ow, s.wo, s.w);
                if (iw1 <= iw) continue;
                const float kw = (float)(iw1 - adaptive_start(ow, s.wo, s.w));
                g += d[oh * s.wo + ow] / kh / kw;
            }
        }
        dx[t] = g;
    }
}

template <class O> AdaptiveShape adaptive_shape(const CudaArgs<O> & a) {
    return AdaptiveShape{a.i(O::c), a.i(O::h), a.i(O::w), a.i(O::ho), a.i(O::wo)};
}

} // namespace

template <> Status cuda_run<op::MAX_POOL2D_FORWARD>(const CudaArgs<op::MAX_POOL2D_FORWARD> & a) {
    using O = op::MAX_POOL2D_FORWARD;
    const PoolShape s = max_pool_shape(a.in.ints);
    const int64_t total = (int64_t)a.n() * s.c * s.ho * s.wo;
    if (total > 0)
        max_pool_forward_kernel<<<elementwise_blocks(total, a.sm_count()), kThreads, 0, a.stream()>>>(s, a.f32(O::x), a.f32(O::y),
                                                                                                       a.i32(O::indices), a.n());
    return cuda_launched("max_pool2d_forward");
}
template <> size_t cuda_workspace<op::MAX_POOL2D_FORWARD>(const OperandsOf<op::MAX_POOL2D_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::MAX_POOL2D_BACKWARD>(const CudaArgs<op::MAX_POOL2D_BACKWARD> & a) {
    using O = op::MAX_POOL2D_BACKWARD;
    const PoolShape s = max_pool_shape(a.in.ints);
    const int64_t total = (int64_t)a.n() * s.c * s.h * s.w;
    const unsigned blocks = elementwise_blocks(total, a.sm_count());
    if (total > 0) {
        if (a.flag(O::accumulate))
            max_pool_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(s, a.f32(O::dy), a.i32(O::indices), a.f32(O::dx), a.n());
        else
            max_pool_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(s, a.f32(O::dy), a.i32(O::indices), a.f32(O::dx), a.n());
    }
    return cuda_launched("max_pool2d_backward");
}
template <> size_t cuda_workspace<op::MAX_POOL2D_BACKWARD>(const OperandsOf<op::MAX_POOL2D_BACKWARD> &, int) { return 0; }

template <> Status cuda_run<op::AVG_POOL2D_FORWARD>(const CudaArgs<op::AVG_POOL2D_FORWARD> & a) {
    using O = op::AVG_POOL2D_FORWARD;
    const PoolShape s = avg_pool_shape(a.in.ints);
    const int64_t total = (int64_t)a.n() * s.c * s.ho * s.wo;
    if (total > 0)
        avg_pool_forward_kernel<<<elementwise_blocks(total, a.sm_count()), kThreads, 0, a.stream()>>>(s, a.f32(O::x), a.f32(O::y), a.n());
    return cuda_launched("avg_pool2d_forward");
}
template <> size_t cuda_workspace<op::AVG_POOL2D_FORWARD>(const OperandsOf<op::AVG_POOL2D_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::AVG_POOL2D_BACKWARD>(const CudaArgs<op::AVG_POOL2D_BACKWARD> & a) {
    using O = op::AVG_POOL2D_BACKWARD;
    const PoolShape s = avg_pool_shape(a.in.ints);
    const int64_t total = (int64_t)a.n() * s.c * s.h * s.w;
    const unsigned blocks = elementwise_blocks(total, a.sm_count());
    if (total > 0) {
        if (a.flag(O::accumulate))
            avg_pool_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(s, a.f32(O::dy), a.f32(O::dx), a.n());
        else
            avg_pool_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(s, a.f32(O::dy), a.f32(O::dx), a.n());
    }
    return cuda_launched("avg_pool2d_backward");
}
template <> size_t cuda_workspace<op::AVG_POOL2D_BACKWARD>(const OperandsOf<op::AVG_POOL2D_BACKWARD> &, int) { return 0; }

template <> Status cuda_run<op::ADAPTIVE_AVG_POOL2D_FORWARD>(const CudaArgs<op::ADAPTIVE_AVG_POOL2D_FORWARD> & a) {
    using O = op::ADAPTIVE_AVG_POOL2D_FORWARD;
    const AdaptiveShape s = adaptive_shape(a);
    const int64_t total = (int64_t)a.n() * s.c * s.ho * s.wo;
    if (total > 0)
        adaptive_avg_forward_kernel<<<elementwise_blocks(total, a.sm_count()), kThreads, 0, a.stream()>>>(s, a.f32(O::x), a.f32(O::y), a.n());
    return cuda_launched("adaptive_avg_pool2d_forward");
}
template <> size_t cuda_workspace<op::ADAPTIVE_AVG_POOL2D_FORWARD>(const OperandsOf<op::ADAPTIVE_AVG_POOL2D_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::ADAPTIVE_AVG_POOL2D_BACKWARD>(const CudaArgs<op::ADAPTIVE_AVG_POOL2D_BACKWARD> & a) {
    using O = op::ADAPTIVE_AVG_POOL2D_BACKWARD;
    const AdaptiveShape s = adaptive_shape(a);
    const int64_t total = (int64_t)a.n() * s.c * s.h * s.w;
    const unsigned blocks = elementwise_blocks(total, a.sm_count());
    if (total > 0) {
        if (a.flag(O::accumulate))
            adaptive_avg_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(s, a.f32(O::dy), a.f32(O::dx), a.n());
        else
            adaptive_avg_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(s, a.f32(O::dy), a.f32(O::dx), a.n());
    }
    return cuda_launched("adaptive_avg_pool2d_backward");
}
template <> size_t cuda_workspace<op::ADAPTIVE_AVG_POOL2D_BACKWARD>(const OperandsOf<op::ADAPTIVE_AVG_POOL2D_BACKWARD> &, int) {
    return 0;
}

} // namespace nl
