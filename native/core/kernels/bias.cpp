// Bias over the last dimension: a row broadcast and its reduction.
//
//   forward:   y [n,c] += b [c]
//   backward:  db [c] = sum over n of dy [n,c]    (overwritten; float accumulation, row by row)
//
// Both loops run row-outer / column-inner over contiguous memory so they vectorize.
#include "kernels.h"

namespace nl {

void bias_forward(float * __restrict y, const float * __restrict b, int64_t n, int64_t c) {
    if (!b) return;
    for (int64_t i = 0; i < n; i++) {
        float * __restrict yi = y + (size_t)i * c;
        for (int64_t j = 0; j < c; j++) yi[j] += b[j];
    }
}

void bias_backward(float * __restrict db, const float * __restrict dy, int64_t n, int64_t c) {
    for (int64_t j = 0; j < c; j++) db[j] = 0.f;
    for (int64_t i = 0; i < n; i++) {
        const float * __restrict dyi = dy + (size_t)i * c;
        for (int64_t j = 0; j < c; j++) db[j] += dyi[j];
    }
}

} // namespace nl
