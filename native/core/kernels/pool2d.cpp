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
template <class F> static void nl_pool_planes(ThreadPool * pool, int64_t planes, int64_t work_per_plane, F && fn) {
    int T = pool ? pool->size() : 1;
    if (planes * work_per_plane < 16384) T = 1;
    if (T > planes) T = (int)planes;
    if (T <= 1) {
        for (int64_t p = 0; p < planes; p++) fn(p);
        return;
    }
    pool->run(T, [&](int t) {
        const int64_t p0 = planes * t / T, p1 = planes * (t + 1) / T;
        for (int64_t p = p0; p < p1; p++) fn(p);
    });
}

static bool nl_pool_shape_ok(const PoolShape & s) {
    return s.c >= 0 && s.h >= 0 && s.w >= 0 && s.kh > 0 && s.kw > 0 && s.sh > 0 && s.sw > 0 && s.ph >= 0 &&
           s.pw >= 0 && s.dh > 0 && s.dw > 0 && s.ho >= 0 && s.wo >= 0;
}

// ---- max ---------------------------------------------------------------------------------------------

// The exact window loop: `v > m || v != v`, so a NaN wins and stays (only a later NaN replaces it),
// ties keep the first index, as torch. Returns the max and writes its flat index to *best.
static inline float nl_max_window(const float * in, int64_t W, int64_t ih0, int64_t ih1, int64_t iw0, int64_t iw1, int64_t DH, int64_t DW, int64_t * best) {
    float m = -std::numeric_limits<float>::infinity();
    int64_t b = ih0 * W + iw0;
    for (int64_t ih = ih0; ih < ih1; ih += DH)
        for (int64_t iw = iw0; iw < iw1; iw += DW) {
            const int64_t k = ih * W + iw;
            const float v = in[k];
            if (v > m || v != v) {
                m = v;
                b = k;
            }
        }
    *best = b;
    return m;
}

// Max pooling of one plane whose windows all lie inside the image, without dilation (KH, KW known
// at compile time when > 0, so the taps unroll). Pass 1 takes the max (maxss, no branches); pass 2
// finds the FIRST tap equal to it branch-free, scanning backwards with an integer select on the bit
// patterns (a float == compiles to parity branches, and an early-exit search mispredicts on random
// data). m is a copy of the first tap that reached the maximum and every earlier tap is strictly
// smaller, so the first bit-equal tap is torch's index (-0/+0 included). Windows holding a NaN take
// the exact loop.
template <int KH_, int KW_>
// (int indices: everything here is inside one plane, whose h*w values fit the int32 indices.)
static void nl_max_plane_plain(const float * __restrict in, float * __restrict out, int32_t * __restrict idx, int W,
                               int HO, int WO, int kh, int kw, int SH, int SW) {
    const int KH = KH_ > 0 ? KH_ : kh, KW = KW_ > 0 ? KW_ : kw;
    for (int oh = 0; oh < HO; oh++) {
        float * __restrict o = out + (int64_t)oh * WO;
        int32_t * __restrict oi = idx + (int64_t)oh * WO;
        const float * __restrict row = in + (int64_t)oh * SH * W;
        int anynan = 0;
        // straight-line body over ow (no early exits): vectorizes
        for (int ow = 0; ow < WO; ow++) {
            const float * __restrict r = row + ow * SW;
            float m = -std::numeric_limits<float>::infinity();
            int nan = 0;
            for (int ki = 0; ki < KH; ki++)
                for (int kj = 0; kj < KW; kj++) {
                    const float v = r[ki * W + kj];
                    m = v > m ? v : m;
                    nan |= v != v;
                }
            uint32_t mb;
            std::memcpy(&mb, &m, sizeof mb);
            int off = 0;
            for (int ki = KH - 1; ki >= 0; ki--)
                for (int kj = KW - 1; kj >= 0; kj--) {
                    uint32_t vb;
                    std::memcpy(&vb, r + ki * W + kj, sizeof vb);
                    off = vb == mb ? ki * W + kj : off;
                }
            o[ow] = m;
            oi[ow] = oh * SH * W + ow * SW + off;
            anynan |= nan;
        }
        if (anynan)
            for (int ow = 0; ow < WO; ow++) {
                int64_t best;
                o[ow] = nl_max_window(in, W, oh * SH, oh * SH + KH, ow * SW, ow * SW + KW, 1, 1, &best);
                oi[ow] = (int32_t)best;
            }
    }
}

// One plane of max pooling. Shape values are by-value parameters so the stores to out/idx cannot
// alias them (that would force reloads).
static void nl_max_plane(const float * __restrict in, float * __restrict out, int32_t * __restrict idx, int64_t H, int64_t W,
                         int64_t HO, int64_t WO, int64_t KH, int64_t KW, int64_t SH, int64_t SW, int64_t PH, int64_t PW, int64_t DH, int64_t DW, bool plain) {
    if (plain && idx) {
        if (KH == 2 && KW == 2)
            nl_max_plane_plain<2, 2>(in, out, idx, (int)W, (int)HO, (int)WO, (int)KH, (int)KW, (int)SH, (int)SW);
        else if (KH == 3 && KW == 3)
            nl_max_plane_plain<3, 3>(in, out, idx, (int)W, (int)HO, (int)WO, (int)KH, (int)KW, (int)SH, (int)SW);
        else
            nl_max_plane_plain<0, 0>(in, out, idx, (int)W, (int)HO, (int)WO, (int)KH, (int)KW, (int)SH, (int)SW);
        return;
    }
    for (int64_t oh = 0; oh < HO; oh++) {
        int64_t ih0 = oh * SH - PH;
        int64_t ih1 = ih0 + (KH - 1) * DH + 1;
        if (ih1 > H) ih1 = H;
        while (ih0 < 0) ih0 += DH;
        for (int64_t ow = 0; ow < WO; ow++) {
            int64_t iw0 = ow * SW - PW;
            int64_t iw1 = iw0 + (KW - 1) * DW + 1;
            if (iw1 > W) iw1 = W;
            while (iw0 < 0) iw0 += DW;
            int64_t best;
            const float m = nl_max_window(in, W, ih0, ih1, iw0, iw1, DH, DW, &best);
            out[oh * WO + ow] = m;
            if (idx) idx[oh * WO + ow] = (int32_t)best;   // < h*w: fits (see kernels.h)
        }
    }
}

void max_pool2d_forward(ThreadPool * pool, const PoolShape & s, const float * x, float * y, int32_t * indices, int64_t n) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const int64_t HW = (int64_t)s.h * s.w, OP = (int64_t)s.ho * s.wo;
    // windows that never leave the image and have no dilation: no clipping, contiguous taps
    const bool plain = s.ph == 0 && s.pw == 0 && s.dh == 1 && s.dw == 1 && (int64_t)(s.ho - 1) * s.sh + s.kh <= s.h &&
                       (int64_t)(s.wo - 1) * s.sw + s.kw <= s.w;
    const PoolShape sh = s;
    nl_pool_planes(pool, (int64_t)n * s.c, OP * s.kh * s.kw, [&](int64_t p) {
        nl_max_plane(x + p * HW, y + p * OP, indices ? indices + p * OP : nullptr, sh.h, sh.w, sh.ho, sh.wo, sh.kh, sh.kw,
                     sh.sh, sh.sw, sh.ph, sh.pw, sh.dh, sh.dw, plain);
    });
}

void max_pool2d_backward(ThreadPool * pool, const PoolShape & s, const float * dy, const int32_t * indices, float * dx,
                         int64_t n, bool accumulate) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const int64_t HW = (int64_t)s.h * s.w, OP = (int64_t)s.ho * s.wo;
    nl_pool_planes(pool, (int64_t)n * s.c, OP + HW, [&](int64_t p) {
        float * g = dx + p * HW;
        const float * d = dy + p * OP;
        const int32_t * idx = indices + p * OP;
        if (!accumulate) std::memset(g, 0, sizeof(float) * HW);
        for (int64_t o = 0; o < OP; o++) {
            const int32_t k = idx[o];
            if (k >= 0 && k < HW) g[k] += d[o];
        }
    });
}

// ---- avg ---------------------------------------------------------------------------------------------

// Clipped window [*ih0, *ih1) x [*iw0, *iw1) of output (oh, ow) and its divisor (0: empty window).
static inline int64_t nl_avg_window(const PoolShape & s, int64_t oh, int64_t ow, int64_t * ih0, int64_t * ih1, int64_t * iw0, int64_t * iw1) {
    int64_t h0 = (int64_t)oh * s.sh - s.ph, w0 = (int64_t)ow * s.sw - s.pw;
    int64_t h1 = h0 + s.kh, w1 = w0 + s.kw;
    if (h1 > s.h + s.ph) h1 = s.h + s.ph;
    if (w1 > s.w + s.pw) w1 = s.w + s.pw;
    const int64_t pool_size = (h1 - h0) * (w1 - w0);
    if (h0 < 0) h0 = 0;
    if (w0 < 0) w0 = 0;
    if (h1 > s.h) h1 = s.h;
    if (w1 > s.w) w1 = s.w;
    *ih0 = h0;
    *ih1 = h1;
    *iw0 = w0;
    *iw1 = w1;
    if (h0 >= h1 || w0 >= w1) return 0;
    if (s.divisor_override) return s.divisor_override;
    return s.count_include_pad ? pool_size : (h1 - h0) * (w1 - w0);
}

void avg_pool2d_forward(ThreadPool * pool, const PoolShape & s, const float * x, float * y, int64_t n) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const int64_t HW = (int64_t)s.h * s.w, OP = (int64_t)s.ho * s.wo;
    nl_pool_planes(pool, (int64_t)n * s.c, OP * s.kh * s.kw, [&](int64_t p) {
        const float * in = x + p * HW;
        float * out = y + p * OP;
        for (int64_t oh = 0; oh < s.ho; oh++)
            for (int64_t ow = 0; ow < s.wo; ow++) {
                int64_t ih0, ih1, iw0, iw1;
                const int64_t div = nl_avg_window(s, oh, ow, &ih0, &ih1, &iw0, &iw1);
                if (div == 0) {
                    out[oh * s.wo + ow] = 0.f;
                    continue;
                }
                float sum = 0.f;
                for (int64_t ih = ih0; ih < ih1; ih++)
                    for (int64_t iw = iw0; iw < iw1; iw++) sum += in[ih * s.w + iw];
                out[oh * s.wo + ow] = sum / (float)div;
            }
    });
}

void avg_pool2d_backward(ThreadPool * pool, const PoolShape & s, const float * dy, float * dx, int64_t n, bool accumulate) {
    if (n <= 0 || !nl_pool_shape_ok(s)) return;
    const int64_t HW = (int64_t)s.h * s.w, OP = (int64_t)s.ho * s.wo;
    nl_pool_planes(pool, (int64_t)n * s.c, OP * s.kh * s.kw + HW, [&](int64_t p) {
        float * g = dx + p * HW;
        const float * d = dy + p * OP;
        if (!accumulate) std::memset(g, 0, sizeof(float) * HW);
        for (int64_t oh = 0; oh < s.ho; oh++)
            for (int64_t ow = 0; ow < s.wo; ow++) {
                int64_t ih0, ih1, iw0, iw1;
                const int64_t div = nl_avg_window(s, oh, ow, &ih0, &ih1, &iw0, &iw1);
                if (div == 0) continue;
                const float delta = d[oh * s.wo + ow] / (float)div;
                for (int64_t ih = ih0; ih < ih1; ih++)
                    for (int64_t iw = iw0; iw < iw1; iw++) g[ih * s.w + iw] += delta;
            }
    });
}

} // namespace nl
