// Conv2d (nn.Conv2d, and nn.Conv1d as h = kh = 1) by im2col + sgemm, plus the shared engine that
// conv-transpose2d.cpp drives with the roles of its two sides swapped.
//
// Per sample i and group g (Cg = cin/groups, Mg = cout/groups, Kc = Cg*kh*kw, P = ho*wo):
//   col   [Kc, P]   = im2col(x_i,g [Cg, h, w])        (1x1 / stride 1 / no padding: col IS x_i,g)
//   forward:   y_i,g [Mg, P]  = W_g [Mg, Kc] . col    + b [cout]
//   backward:  dW_g [Mg, Kc] += dy_i,g [Mg, P] . col^T          (summed over the batch)
//              dcol [Kc, P]   = W_g^T . dy_i,g  ->  dx_i,g (+)= col2im(dcol)
//              db [cout]      = sum over n and P of dy
//
// The engine (nl::conv_detail) sees a convolution as an "image side" [C, H, W] that im2col reads and
// col2im writes, and a "column side" [M, Ho*Wo]; the weight is [groups, M, C*kh*kw]. Conv2d puts x on
// the image side; ConvTranspose2d puts y (forward) / dy (backward) there.
//
// Threading: with n >= pool threads the batch is split into one contiguous range per thread and each
// task calls sgemm with pool = nullptr (the pool is not re-entrant); weight/bias gradients go to
// per-task partial buffers that are summed at the end in task order (deterministic for a given pool
// size). With fewer samples than threads the samples run one after another and sgemm uses the pool.
// im2col scratch is a thread_local vector reused across calls; the output rows of a sample are cut
// into chunks so that the column buffer stays within NL_CONV_COL_BUDGET floats. If scratch cannot be
// allocated, a direct-loop fallback computes the same result without extra memory (never aborts).
#include "kernels.h"
#include "conv-impl.h"
#include "gemm.h"
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

namespace nl {

using namespace conv_detail;

static const size_t NL_CONV_COL_BUDGET = (size_t)1 << 19; // floats of im2col scratch per chunk (2 MiB)

// ---- scratch ---------------------------------------------------------------------------------------

// Grows v to at least `count` floats; null if memory is exhausted (v unchanged).
// Building with -DNL_CONV_SIMULATE_OOM makes every request fail, to test the fallbacks.
static float * nl_conv_grow(std::vector<float> & v, size_t count) {
#ifdef NL_CONV_SIMULATE_OOM
    (void)v;
    (void)count;
    return nullptr;
#endif
    if (v.size() < count) {
        try {
            v.resize(count);
        } catch (...) {
            return nullptr;
        }
    }
    return v.data();
}

static thread_local std::vector<float> nl_conv_col;      // im2col / dcol scratch of this thread
static thread_local std::vector<float> nl_conv_partials; // per-task gradient partials (calling thread)

// ---- im2col / col2im over output rows [oh0, oh1) -----------------------------------------------------

// The copies are short rows (24 floats for the benchmark CNN): wider vectors cut the loop count, so
// these two are compiled per ISA and picked at load time (GCC/Clang function multiversioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__APPLE__)
#define NL_CONV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NL_CONV_CLONES
#endif

// Valid output columns for kernel column kj: 0 <= ow*sw + off < W  with off = kj*dw - pw.
static inline void nl_conv_ow_range(const Geom & g, int64_t kj, int64_t * lo, int64_t * hi) {
    const int64_t off = kj * g.dw - g.pw;
    int64_t a = off >= 0 ? 0 : (-off + g.sw - 1) / g.sw;
    int64_t b = g.W - off <= 0 ? 0 : (g.W - off + g.sw - 1) / g.sw;
    if (b > g.Wo) b = g.Wo;
    if (a > b) a = b;
    *lo = a;
    *hi = b;
}

// Output rows [*a, *b) within [oh0, oh1) whose input row oh*sh - ph + ki*dh lies in [0, H).
// Both ends are clamped into the chunk: a chunk wholly below the image (bottom padding) must give
// an empty range at oh1, not [hi, hi) with hi < oh0 (im2col would zero the rows [hi, oh1), i.e.
// memory before its buffer).
void conv_detail::out_rows_in_image(const Geom & g, int64_t ki, int64_t oh0, int64_t oh1, int64_t * a, int64_t * b) {
    const int64_t off = ki * g.dh - g.ph;
    int64_t lo = off >= 0 ? 0 : (-off + g.sh - 1) / g.sh;
    int64_t hi = g.H - off <= 0 ? 0 : (g.H - off + g.sh - 1) / g.sh;
    lo = std::min(std::max(lo, oh0), oh1);
    hi = std::min(std::max(hi, oh0), oh1);
    if (lo > hi) lo = hi;
    *a = lo;
    *b = hi;
}

static inline void nl_zero_row(float * d, int64_t n) {
    for (int64_t i = 0; i < n; i++) d[i] = 0.f;
}

// d[0:n] = s[0:n] (no overlap): fixed 8-float blocks, the last one overlapping the one before
static inline void nl_copy_row(float * __restrict d, const float * __restrict s, int64_t n) {
    if (n >= 8) {
        int64_t i = 0;
        for (; i + 8 <= n; i += 8) __builtin_memcpy(d + i, s + i, 8 * sizeof(float));
        if (i < n) __builtin_memcpy(d + n - 8, s + n - 8, 8 * sizeof(float));
    } else {
        for (int64_t i = 0; i < n; i++) d[i] = s[i];
    }
}

// d[0:n] += s[0:n] (no overlap)
static inline void nl_add_row(float * __restrict d, const float * __restrict s, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int64_t k = 0; k < 8; k++) d[i + k] += s[i + k];
    for (; i < n; i++) d[i] += s[i];
}

// img [C, H, W] -> col [C*kh*kw, (oh1-oh0)*Wo]
// (rows are short, e.g. 24 floats: plain loops, not memcpy/memset calls, keep this near write speed)
NL_CONV_CLONES static void nl_im2col(const Geom & g, const float * img, int64_t oh0, int64_t oh1, float * col) {
    const int64_t np = (int64_t)(oh1 - oh0) * g.Wo;
    const int64_t Wo = g.Wo;
    for (int64_t c = 0; c < g.C; c++) {
        const float * src = img + (int64_t)c * g.H * g.W;
        for (int64_t ki = 0; ki < g.kh; ki++)
            for (int64_t kj = 0; kj < g.kw; kj++) {
                float * dst = col + ((int64_t)(c * g.kh + ki) * g.kw + kj) * np;
                const int64_t off = kj * g.dw - g.pw;
                int64_t lo, hi;
                nl_conv_ow_range(g, kj, &lo, &hi);
                // output rows whose input row ih = oh*sh - ph + ki*dh lies inside [0, H)
                int64_t ya, yb;
                out_rows_in_image(g, ki, oh0, oh1, &ya, &yb);
                for (int64_t oh = oh0; oh < ya; oh++) nl_zero_row(dst + (int64_t)(oh - oh0) * Wo, Wo);
                for (int64_t oh = yb; oh < oh1; oh++) nl_zero_row(dst + (int64_t)(oh - oh0) * Wo, Wo);
                if (ya >= yb) continue;
                const float * s = src + (int64_t)(ya * g.sh - g.ph + ki * g.dh) * g.W;
                float * d = dst + (int64_t)(ya - oh0) * Wo;
                const int64_t sstep = (int64_t)g.sh * g.W;
                if (g.sw == 1 && lo == 0 && hi == Wo) {
                    // the common case: whole rows, contiguous
                    for (int64_t oh = ya; oh < yb; oh++, s += sstep, d += Wo) nl_copy_row(d, s + off, Wo);
                    continue;
                }
                for (int64_t oh = ya; oh < yb; oh++, s += sstep, d += Wo) {
                    for (int64_t ow = 0; ow < lo; ow++) d[ow] = 0.f;
                    if (g.sw == 1)
                        nl_copy_row(d + lo, s + lo + off, hi - lo);
                    else
                        for (int64_t ow = lo; ow < hi; ow++) d[ow] = s[ow * g.sw + off];
                    for (int64_t ow = hi; ow < Wo; ow++) d[ow] = 0.f;
                }
            }
    }
}

// img [C, H, W] += col2im(col [C*kh*kw, (oh1-oh0)*Wo])
NL_CONV_CLONES static void nl_col2im(const Geom & g, const float * col, int64_t oh0, int64_t oh1, float * img) {
    const int64_t np = (int64_t)(oh1 - oh0) * g.Wo;
    for (int64_t c = 0; c < g.C; c++) {
        float * dst = img + (int64_t)c * g.H * g.W;
        for (int64_t ki = 0; ki < g.kh; ki++)
            for (int64_t kj = 0; kj < g.kw; kj++) {
                const float * src = col + ((int64_t)(c * g.kh + ki) * g.kw + kj) * np;
                const int64_t off = kj * g.dw - g.pw;
                int64_t lo, hi;
                nl_conv_ow_range(g, kj, &lo, &hi);
                int64_t ya, yb;
                out_rows_in_image(g, ki, oh0, oh1, &ya, &yb);
                if (ya >= yb) continue;
                const float * s = src + (int64_t)(ya - oh0) * g.Wo;
                float * d = dst + (int64_t)(ya * g.sh - g.ph + ki * g.dh) * g.W;
                const int64_t dstep = (int64_t)g.sh * g.W;
                for (int64_t oh = ya; oh < yb; oh++, s += g.Wo, d += dstep) {
                    if (g.sw == 1)
                        nl_add_row(d + lo + off, s + lo, hi - lo);
                    else
                        for (int64_t ow = lo; ow < hi; ow++) d[ow * g.sw + off] += s[ow];
                }
            }
    }
}

// sum of count floats, 16 independent lanes (vectorizes without reassociation flags)
static float nl_conv_sum(const float * x, int64_t count) {
    float acc[16] = {0.f};
    int64_t i = 0;
    for (; i + 16 <= count; i += 16)
        for (int64_t j = 0; j < 16; j++) acc[j] += x[i + j];
    float s = 0.f;
    for (int64_t j = 0; j < 16; j++) s += acc[j];
    for (; i < count; i++) s += x[i];
    return s;
}

// ---- direct loops: the no-scratch fallback for one sample -------------------------------------------

static void nl_conv_direct(const Job & j, const float * img, const float * d, float * dout, float * dimg, float * dW) {
    const Geom & g = j.g;
    const int64_t Kc = g.C * g.kh * g.kw;
    const int64_t P = (int64_t)g.Ho * g.Wo, HW = (int64_t)g.H * g.W;
    for (int64_t gr = 0; gr < j.groups; gr++)
        for (int64_t m = 0; m < j.M; m++) {
            const float * wrow = j.Wm + ((int64_t)gr * j.M + m) * Kc;
            float * dwrow = dW ? dW + ((int64_t)gr * j.M + m) * Kc : nullptr;
            float * orow = dout ? dout + ((int64_t)gr * j.M + m) * P : nullptr;
            const float * drow = d ? d + ((int64_t)gr * j.M + m) * P : nullptr;
            for (int64_t c = 0; c < g.C; c++)
                for (int64_t ki = 0; ki < g.kh; ki++)
                    for (int64_t kj = 0; kj < g.kw; kj++) {
                        const int64_t k = (c * g.kh + ki) * g.kw + kj;
                        const int64_t ioff = ((int64_t)gr * g.C + c) * HW;
                        for (int64_t oh = 0; oh < g.Ho; oh++) {
                            const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
                            if (ih < 0 || ih >= g.H) continue;
                            for (int64_t ow = 0; ow < g.Wo; ow++) {
                                const int64_t iw = ow * g.sw - g.pw + kj * g.dw;
                                if (iw < 0 || iw >= g.W) continue;
                                const int64_t pi = ioff + (int64_t)ih * g.W + iw, po = (int64_t)oh * g.Wo + ow;
                                if (orow) orow[po] += wrow[k] * img[pi];
                                if (dwrow) dwrow[k] += drow[po] * img[pi];
                                if (dimg) dimg[pi] += wrow[k] * drow[po];
                            }
                        }
                    }
        }
}

// ---- one sample ------------------------------------------------------------------------------------

// Runs sample i of the job. dW / db_d / db_img here are this task's accumulators (already zeroed).
// `ip` is the pool sgemm may use (null inside a pool task).
static void nl_conv_sample(ThreadPool * ip, const Job & j, int64_t i, float * dW, float * db_d, float * db_img) {
    const Geom & g = j.g;
    const int64_t G = j.groups, M = j.M;
    const int64_t Kc = (int64_t)g.C * g.kh * g.kw;
    const int64_t P = (int64_t)g.Ho * g.Wo, HW = (int64_t)g.H * g.W;
    const int64_t img_stride = (int64_t)G * g.C * HW, d_stride = (int64_t)G * M * P;
    const float * img = j.img ? j.img + i * img_stride : nullptr;
    const float * d = j.d ? j.d + i * d_stride : nullptr;
    float * dout = j.dout ? j.dout + i * d_stride : nullptr;
    float * dimg = j.dimg ? j.dimg + i * img_stride : nullptr;
    const bool need_col = dout || dW;
    const bool direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 &&
                        g.Ho == g.H && g.Wo == g.W;

    // chunk of output rows so that the column buffer stays within budget
    int64_t rows = g.Ho;
    float * col = nullptr;
    if (!direct && (need_col || dimg) && P > 0 && Kc > 0) {
        const int64_t per_row = Kc * g.Wo;
        int64_t r = (int64_t)(NL_CONV_COL_BUDGET / (size_t)per_row);
        rows = r < 1 ? 1 : r > g.Ho ? g.Ho : r;
        col = nl_conv_grow(nl_conv_col, (size_t)rows * per_row);
        if (!col) {
            rows = 1;
            col = nl_conv_grow(nl_conv_col, (size_t)per_row);
        }
        if (!col) {
            // no memory for columns: direct loops (outputs that they accumulate into are cleared first)
            if (dout && !j.dout_acc) std::memset(dout, 0, sizeof(float) * d_stride);
            if (dimg && !j.dimg_acc) std::memset(dimg, 0, sizeof(float) * img_stride);
            nl_conv_direct(j, img, d, dout, dimg, dW);
            goto biases;
        }
    }

    if (dimg && !j.dimg_acc && !direct) std::memset(dimg, 0, sizeof(float) * img_stride);
    if (Kc == 0 || P == 0) {
        // empty reduction or no pixels: dout = 0 (+ bias), dimg untouched beyond the clear above
        if (dout && !j.dout_acc) std::memset(dout, 0, sizeof(float) * d_stride);
        if (dimg && !j.dimg_acc && direct) std::memset(dimg, 0, sizeof(float) * img_stride);
        goto biases;
    }

    for (int64_t gr = 0; gr < G; gr++) {
        const float * img_g = img ? img + (int64_t)gr * g.C * HW : nullptr;
        const float * d_g = d ? d + (int64_t)gr * M * P : nullptr;
        const float * W_g = j.Wm + (int64_t)gr * M * Kc;
        float * dW_g = dW ? dW + (int64_t)gr * M * Kc : nullptr;
        float * dout_g = dout ? dout + (int64_t)gr * M * P : nullptr;
        float * dimg_g = dimg ? dimg + (int64_t)gr * g.C * HW : nullptr;
        if (direct) {
            // col == img_g [Kc = C, P]
            if (dout_g) sgemm(ip, false, false, M, P, Kc, 1.f, W_g, Kc, img_g, P, j.dout_acc ? 1.f : 0.f, dout_g, P);
            if (dW_g) sgemm(ip, false, true, M, Kc, P, 1.f, d_g, P, img_g, P, 1.f, dW_g, Kc);
            if (dimg_g) sgemm(ip, true, false, Kc, P, M, 1.f, W_g, Kc, d_g, P, j.dimg_acc ? 1.f : 0.f, dimg_g, P);
            continue;
        }
        for (int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
            const int64_t oh1 = oh0 + rows < g.Ho ? oh0 + rows : g.Ho;
            const int64_t np = (int64_t)(oh1 - oh0) * g.Wo;
            const int64_t pc = (int64_t)oh0 * g.Wo;
            if (need_col) {
                nl_im2col(g, img_g, oh0, oh1, col);
                // dout[M, np] (+)= W_g[M, Kc] . col[Kc, np]
                if (dout_g) sgemm(ip, false, false, M, np, Kc, 1.f, W_g, Kc, col, np, j.dout_acc ? 1.f : 0.f, dout_g + pc, P);
                // dW_g[M, Kc] += d[M, np] . col[Kc, np]^T
                if (dW_g) sgemm(ip, false, true, M, Kc, np, 1.f, d_g + pc, P, col, np, 1.f, dW_g, Kc);
            }
            if (dimg_g) {
                // dcol[Kc, np] = W_g[M, Kc]^T . d[M, np]  ->  dimg += col2im(dcol)
                sgemm(ip, true, false, Kc, np, M, 1.f, W_g, Kc, d_g + pc, P, 0.f, col, np);
                nl_col2im(g, col, oh0, oh1, dimg_g);
            }
        }
    }

biases:
    if (dout && j.bias_out)
        for (int64_t c = 0; c < G * M; c++) {
            float * o = dout + (int64_t)c * P;
            const float b = j.bias_out[c];
            for (int64_t p = 0; p < P; p++) o[p] += b;
        }
    if (dimg && j.bias_img)
        for (int64_t c = 0; c < G * g.C; c++) {
            float * o = dimg + (int64_t)c * HW;
            const float b = j.bias_img[c];
            for (int64_t p = 0; p < HW; p++) o[p] += b;
        }
    if (db_d)
        for (int64_t c = 0; c < G * M; c++) db_d[c] += nl_conv_sum(d + (int64_t)c * P, P);
    if (db_img)
        for (int64_t c = 0; c < G * g.C; c++) db_img[c] += nl_conv_sum(img + (int64_t)c * HW, HW);
}

// ---- the batch -------------------------------------------------------------------------------------

void conv_detail::run(ThreadPool * pool, const Job & j, int64_t n) {
    const int64_t wsize = j.dW ? (int64_t)j.groups * j.M * j.g.C * j.g.kh * j.g.kw : 0;
    const int64_t bd = j.db_d ? (int64_t)j.groups * j.M : 0;
    const int64_t bi = j.db_img ? (int64_t)j.groups * j.g.C : 0;
    const int64_t psize = wsize + bd + bi;
    if (j.dW) std::memset(j.dW, 0, sizeof(float) * wsize);
    if (j.db_d) std::memset(j.db_d, 0, sizeof(float) * bd);
    if (j.db_img) std::memset(j.db_img, 0, sizeof(float) * bi);
    if (n <= 0) return;

    int T = pool ? pool->size() : 1;   // tasks, one per pool thread
    if (n < T) T = 1;
    float * partials = nullptr;
    if (T > 1 && psize > 0) {
        partials = nl_conv_grow(nl_conv_partials, (size_t)T * psize);
        if (!partials) T = 1; // no room for partials: one task accumulating in place
    }
    if (T == 1) {
        for (int64_t i = 0; i < n; i++) nl_conv_sample(pool, j, i, j.dW, j.db_d, j.db_img);
        return;
    }

    pool->run(T, [&](int t) {
        float * p = partials ? partials + t * psize : nullptr;
        if (p) std::memset(p, 0, sizeof(float) * psize);
        float * dW = j.dW ? p : nullptr;
        float * db_d = j.db_d ? p + wsize : nullptr;
        float * db_img = j.db_img ? p + wsize + bd : nullptr;
        const int64_t s0 = n * t / T, s1 = n * (t + 1) / T;
        for (int64_t i = s0; i < s1; i++) nl_conv_sample(nullptr, j, i, dW, db_d, db_img);
    });

    if (partials) {
        // sum the partials in task order; split over the pool by element ranges
        const int R = psize >= 65536 ? T : 1;
        auto reduce = [&](int r) {
            const int64_t e0 = psize * r / R, e1 = psize * (r + 1) / R;
            for (int64_t e = e0; e < e1; e++) {
                float s = 0.f;
                for (int t = 0; t < T; t++) s += partials[t * psize + e];
                float * dst = e < wsize ? j.dW + e : e < wsize + bd ? j.db_d + (e - wsize) : j.db_img + (e - wsize - bd);
                *dst = s;
            }
        };
        if (R > 1)
            pool->run(R, [&](int r) { reduce(r); });
        else
            reduce(0);
    }
}

// ---- Conv2d ----------------------------------------------------------------------------------------

static Job nl_conv2d_job(const ConvShape & s) {
    Job j;
    j.g.C = s.cin / s.groups;
    j.g.H = s.h;
    j.g.W = s.w;
    j.g.kh = s.kh;
    j.g.kw = s.kw;
    j.g.sh = s.sh;
    j.g.sw = s.sw;
    j.g.ph = s.ph0;
    j.g.pw = s.pw0;
    j.g.dh = s.dh;
    j.g.dw = s.dw;
    j.g.Ho = s.ho;
    j.g.Wo = s.wo;
    j.groups = s.groups;
    j.M = s.cout / s.groups;
    return j;
}

static bool nl_conv_shape_ok(const ConvShape & s) {
    return s.groups > 0 && s.cin >= 0 && s.cout >= 0 && s.cin % s.groups == 0 && s.cout % s.groups == 0 &&
           s.h >= 0 && s.w >= 0 && s.ho >= 0 && s.wo >= 0 && s.kh > 0 && s.kw > 0 && s.sh > 0 && s.sw > 0 &&
           s.dh > 0 && s.dw > 0;
}

// x [n, cin, h, w], w [cout, cin/groups, kh, kw], b [cout] or null -> y [n, cout, ho, wo]
void conv2d_forward(ThreadPool * pool, const ConvShape & s, const float * x, const float * w, const float * b,
                    float * y, int64_t n) {
    if (!nl_conv_shape_ok(s)) return;
    Job j = nl_conv2d_job(s);
    j.img = x;
    j.Wm = w;
    j.dout = y;
    j.bias_out = b;
    run(pool, j, n);
}

// dy [n, cout, ho, wo] -> dx [n, cin, h, w] (+)=, dw [cout, cin/groups, kh, kw], db [cout]
void conv2d_backward(ThreadPool * pool, const ConvShape & s, const float * dy, const float * x, const float * w,
                     float * dx, float * dw, float * db, int64_t n, bool accumulate_dx) {
    if (!nl_conv_shape_ok(s)) return;
    Job j = nl_conv2d_job(s);
    j.img = dw ? x : nullptr;
    j.d = dy;
    j.Wm = w;
    j.dW = dw;
    j.db_d = db;
    j.dimg = dx;
    j.dimg_acc = accumulate_dx;
    run(pool, j, n);
}

} // namespace nl
