// Bias over the last dimension: a row broadcast and its reduction.
//
//   forward:   y [n,c] += b [c]
//   backward:  db [c] = sum over n of dy [n,c]    (overwritten; float accumulation, row by row)
//
// Both loops run row-outer / column-inner over contiguous memory so they vectorize.
#include "kernels.h"

namespace nl {

void bias_forward(float * __restrict y, const float * __restrict b, int n, int c) {
    if (!b) return;
    for (int i = 0; i < n; i++) {
        float * __restrict yi = y + (size_t)i * c;
        for (int j = 0; j < c; j++) yi[j] += b[j];
    }
}

void bias_backward(float * __restrict db, const float * __restrict dy, int n, int c) {
    for (int j = 0; j < c; j++) db[j] = 0.f;
    for (int i = 0; i < n; i++) {
        const float * __restrict dyi = dy + (size_t)i * c;
        for (int j = 0; j < c; j++) db[j] += dyi[j];
    }
}

} // namespace nl
