// MaxPool2d and AvgPool2d (nn.MaxPool2d with return_indices, nn.AvgPool2d), NCHW, following
// PyTorch 1.13's CPU kernels (aten/src/ATen/native/cpu/MaxPoolKernel.cpp, AvgPoolKernel.cpp) rule
// for rule. Work is split over the n*c planes.
//
// max_pool2d:  x [n, c, h, w] -> y [n, c, ho, wo], indices int32 [n, c, ho, wo]
//   window of (oh, ow): rows ih0 = oh*sh - ph + ki*dh (ki < kh), clipped to [0, h), same for columns.
//   y = max over the window (implicit -inf padding); a NaN wins (`val > max || isnan(val)`, so the
//   last NaN's index is kept); ties keep the first index; an empty window gives -inf and the index
//   of its first (clipped) position, as torch.
//   backward: dx [n, c, h, w] (+)= scatter-add of dy at indices (indices outside [0, h*w) ignored).
// avg_pool2d:  x [n, c, h, w] -> y [n, c, ho, wo]
//   window rows [oh*sh - ph, min(oh*sh - ph + kh, h + ph)); pool_size = its area BEFORE clipping to
//   [0, h) (so a ceil_mode window that runs past h + ph counts only up to h + ph), then clipped.
//   divisor = divisor_override if set, else pool_size if count_include_pad, else the clipped area.
//   An empty clipped window gives 0. backward: every input in the clipped window gets dy / divisor.
#include "kernels.h"
#include <cmath>
#include <cstring>
#include <limits>

namespace nl {

// Runs fn(plane) for planes [0, planes) over the pool in contiguous ranges.
template <class F> static void nl_pool_planes(ThreadPool * pool, long planes, long work_per_plane, F && fn) {
    int T = pool ? pool->size() : 1;
    if (planes * work_per_plane < 16384) T = 1;
    if (T > planes) T = (int)planes;
    if (T <= 1) {
        for (long p = 0; p < planes; p++) fn(p);
        return;
    }
    pool->run(T, [&](int t) {
        const long p0 = planes * t / T, p1 = planes * (t + 1) / T;
        for (long p = p0; p < p1; p++) fn(p);
    });
}

static bool nl_pool_shape_ok(const PoolShape & s) {
    return s.c >= 0 && s.h >= 0 && s.w >= 0 && s.kh > 0 && s.kw > 0 && s.sh > 0 && s.sw > 0 && s.ph >= 0 &&
           s.pw >= 0 && s.dh > 0 && s.dw > 0 && s.ho >= 0 && s.wo >= 0;
}

// ---- max ---------------------------------------------------------------------------------------------

void max_pool2d_forward(ThreadPool * pool, const PoolShape & s, const float * x, float * y, int32_t * indices, int n) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    // locals: the int32 index stores could otherwise alias the shape's fields and force reloads
    const int H = s.h, W = s.w, HO = s.ho, WO = s.wo, KH = s.kh, KW = s.kw, SH = s.sh, SW = s.sw;
    const int PH = s.ph, PW = s.pw, DH = s.dh, DW = s.dw;
    const long HW = (long)H * W, OP = (long)HO * WO;
    // windows that never leave the image and have no dilation: no clipping, contiguous taps
    const bool plain = PH == 0 && PW == 0 && DH == 1 && DW == 1 && (long)(HO - 1) * SH + KH <= H &&
                       (long)(WO - 1) * SW + KW <= W;
    nl_pool_planes(pool, (long)n * s.c, OP * KH * KW, [&](long p) {
        const float * __restrict in = x + p * HW;
        float * __restrict out = y + p * OP;
        int32_t * __restrict idx = indices ? indices + p * OP : nullptr;
        for (int oh = 0; oh < HO; oh++) {
            int ih0 = oh * SH - PH;
            int ih1 = ih0 + (KH - 1) * DH + 1;
            if (ih1 > H) ih1 = H;
            while (ih0 < 0) ih0 += DH;
            for (int ow = 0; ow < WO; ow++) {
                int iw0 = ow * SW - PW;
                int iw1 = iw0 + (KW - 1) * DW + 1;
                if (iw1 > W) iw1 = W;
                while (iw0 < 0) iw0 += DW;
                int best = ih0 * W + iw0;
                float m = -std::numeric_limits<float>::infinity();
                // branch-free select (random data makes the comparison unpredictable);
                // `v > m || v != v`: a NaN wins and stays (only a later NaN replaces it), as torch
                if (plain) {
                    for (int ki = 0; ki < KH; ki++) {
                        const int row = (ih0 + ki) * W + iw0;
                        for (int kj = 0; kj < KW; kj++) {
                            const float v = in[row + kj];
                            const bool take = (v > m) | (v != v);
                            m = take ? v : m;
                            best = take ? row + kj : best;
                        }
                    }
                } else {
                    for (int ih = ih0; ih < ih1; ih += DH)
                        for (int iw = iw0; iw < iw1; iw += DW) {
                            const int k = ih * W + iw;
                            const float v = in[k];
                            const bool take = (v > m) | (v != v);
                            m = take ? v : m;
                            best = take ? k : best;
                        }
                }
                out[oh * WO + ow] = m;
                if (idx) idx[oh * WO + ow] = best;
            }
        }
    });
}

void max_pool2d_backward(ThreadPool * pool, const PoolShape & s, const float * dy, const int32_t * indices, float * dx,
                         int n, bool accumulate) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const long HW = (long)s.h * s.w, OP = (long)s.ho * s.wo;
    nl_pool_planes(pool, (long)n * s.c, OP + HW, [&](long p) {
        float * g = dx + p * HW;
        const float * d = dy + p * OP;
        const int32_t * idx = indices + p * OP;
        if (!accumulate) std::memset(g, 0, sizeof(float) * HW);
        for (long o = 0; o < OP; o++) {
            const int32_t k = idx[o];
            if (k >= 0 && k < HW) g[k] += d[o];
        }
    });
}

// ---- avg ---------------------------------------------------------------------------------------------

// Clipped window [*ih0, *ih1) x [*iw0, *iw1) of output (oh, ow) and its divisor (0: empty window).
static inline long nl_avg_window(const PoolShape & s, int oh, int ow, int * ih0, int * ih1, int * iw0, int * iw1) {
    long h0 = (long)oh * s.sh - s.ph, w0 = (long)ow * s.sw - s.pw;
    long h1 = h0 + s.kh, w1 = w0 + s.kw;
    if (h1 > s.h + s.ph) h1 = s.h + s.ph;
    if (w1 > s.w + s.pw) w1 = s.w + s.pw;
    const long pool_size = (h1 - h0) * (w1 - w0);
    if (h0 < 0) h0 = 0;
    if (w0 < 0) w0 = 0;
    if (h1 > s.h) h1 = s.h;
    if (w1 > s.w) w1 = s.w;
    *ih0 = (int)h0;
    *ih1 = (int)h1;
    *iw0 = (int)w0;
    *iw1 = (int)w1;
    if (h0 >= h1 || w0 >= w1) return 0;
    if (s.divisor_override) return s.divisor_override;
    return s.count_include_pad ? pool_size : (h1 - h0) * (w1 - w0);
}

void avg_pool2d_forward(ThreadPool * pool, const PoolShape & s, const float * x, float * y, int n) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const long HW = (long)s.h * s.w, OP = (long)s.ho * s.wo;
    nl_pool_planes(pool, (long)n * s.c, OP * s.kh * s.kw, [&](long p) {
        const float * in = x + p * HW;
        float * out = y + p * OP;
        for (int oh = 0; oh < s.ho; oh++)
            for (int ow = 0; ow < s.wo; ow++) {
                int ih0, ih1, iw0, iw1;
                const long div = nl_avg_window(s, oh, ow, &ih0, &ih1, &iw0, &iw1);
                if (div == 0) {
                    out[oh * s.wo + ow] = 0.f;
                    continue;
                }
                float sum = 0.f;
                for (int ih = ih0; ih < ih1; ih++)
                    for (int iw = iw0; iw < iw1; iw++) sum += in[ih * s.w + iw];
                out[oh * s.wo + ow] = sum / (float)div;
            }
    });
}

void avg_pool2d_backward(ThreadPool * pool, const PoolShape & s, const float * dy, float * dx, int n, bool accumulate) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const long HW = (long)s.h * s.w, OP = (long)s.ho * s.wo;
    nl_pool_planes(pool, (long)n * s.c, OP * s.kh * s.kw + HW, [&](long p) {
        float * g = dx + p * HW;
        const float * d = dy + p * OP;
        if (!accumulate) std::memset(g, 0, sizeof(float) * HW);
        for (int oh = 0; oh < s.ho; oh++)
            for (int ow = 0; ow < s.wo; ow++) {
                int ih0, ih1, iw0, iw1;
                const long div = nl_avg_window(s, oh, ow, &ih0, &ih1, &iw0, &iw1);
                if (div == 0) continue;
                const float delta = d[oh * s.wo + ow] / (float)div;
                for (int ih = ih0; ih < ih1; ih++)
                    for (int iw = iw0; iw < iw1; iw++) g[ih * s.w + iw] += delta;
            }
    });
}

} // namespace nl
