// Softmax / LogSoftmax along one dimension of x viewed as [outer, dim, inner], as torch 1.13 CPU
// (aten/src/ATen/native/cpu/SoftMaxKernel.cpp).
//
//   forward:   m = max_d x[o,d,i]     (NaN propagates: a row holding NaN gives NaN, as torch)
//              s = sum_d exp(x - m)   (double accumulation; torch uses float lanes, agreement ~1e-7)
//              softmax:     y = exp(x - m) * (1/s)
//              log_softmax: y = (x - m) - log(s)
//   backward:  needs y only.
//              softmax:     dx = y * (dy - sum_d dy*y)
//              log_softmax: dx = dy - exp(y) * sum_d dy
//              accumulate: dx += ... instead of dx = ...
//
// inner == 1 (the usual last-dimension case) runs over contiguous rows; inner > 1 walks each
// (o, i) column with stride `inner`. Large logits (1e4) are safe because of the max shift.
#include "kernels.h"
#include <cmath>

namespace nl {

namespace {

// One softmax column: `dim` values `stride` apart. Unit is true when st == 1 (the last-dimension
// case): a compile-time stride lets the elementwise loops vectorize.
template <bool Unit>
inline void softmax_column(const float * x, float * y, int64_t dim, size_t stride, bool log) {
    const size_t st = Unit ? 1 : stride;
    float m = x[0];
    for (int64_t d = 1; d < dim; d++) {
        const float v = x[d * st];
        m = (v > m || v != v) ? v : m;
    }
    double s = 0.0;
    if (log) {
        for (int64_t d = 0; d < dim; d++) s += std::exp(x[d * st] - m);
        const float ls = (float)std::log(s);
        for (int64_t d = 0; d < dim; d++) y[d * st] = (x[d * st] - m) - ls;
    } else {
        for (int64_t d = 0; d < dim; d++) {
            const float e = std::exp(x[d * st] - m);
            y[d * st] = e;
            s += e;
        }
        const float inv = (float)(1.0 / s);
        for (int64_t d = 0; d < dim; d++) y[d * st] *= inv;
    }
}

template <bool Unit>
inline void softmax_backward_column(const float * dy, const float * y, float * dx, int64_t dim, size_t stride, bool log,
                                    bool accumulate) {
    const size_t st = Unit ? 1 : stride;
    double s = 0.0;
    if (log) {
        for (int64_t d = 0; d < dim; d++) s += dy[d * st];
        const float sf = (float)s;
        if (accumulate)
            for (int64_t d = 0; d < dim; d++) dx[d * st] += dy[d * st] - std::exp(y[d * st]) * sf;
        else
            for (int64_t d = 0; d < dim; d++) dx[d * st] = dy[d * st] - std::exp(y[d * st]) * sf;
    } else {
        for (int64_t d = 0; d < dim; d++) s += (double)dy[d * st] * y[d * st];
        const float sf = (float)s;
        if (accumulate)
            for (int64_t d = 0; d < dim; d++) dx[d * st] += y[d * st] * (dy[d * st] - sf);
        else
            for (int64_t d = 0; d < dim; d++) dx[d * st] = y[d * st] * (dy[d * st] - sf);
    }
}

} // namespace

void softmax_forward(const float * x, float * y, int64_t outer, int64_t dim, int64_t inner, bool log) {
    if (outer <= 0 || dim <= 0 || inner <= 0) return;
    const size_t block = (size_t)dim * inner;
    if (inner == 1) {
        for (int64_t o = 0; o < outer; o++) softmax_column<true>(x + o * block, y + o * block, dim, 1, log);
        return;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            softmax_column<false>(x + o * block + i, y + o * block + i, dim, (size_t)inner, log);
}

void softmax_backward(const float * dy, const float * y, float * dx, int64_t outer, int64_t dim, int64_t inner, bool log,
                      bool accumulate) {
    if (outer <= 0 || dim <= 0 || inner <= 0) return;
    const size_t block = (size_t)dim * inner;
    if (inner == 1) {
        for (int64_t o = 0; o < outer; o++)
            softmax_backward_column<true>(dy + o * block, y + o * block, dx + o * block, dim, 1, log, accumulate);
        return;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++)
            softmax_backward_column<false>(dy + o * block + i, y + o * block + i, dx + o * block + i, dim, (size_t)inner, log,
                                    accumulate);
}

} // namespace nl
