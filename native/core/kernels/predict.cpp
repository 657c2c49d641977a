// Class predictions from logits, for evaluation (confusion matrices, per-sample results).
//   argmax_rows: out[r] = argmax_c x[r, c]  (x is [n, c], row-major; first maximum on ties)
// Probabilities reuse softmax_forward (softmax.cpp) on the same rows.
#include "kernels.h"

namespace nl {

void argmax_rows(const float * x, int32_t * out, int64_t n, int64_t c) {
    for (int64_t r = 0; r < n; r++) {
        const float * row = x + (size_t)r * c;
        int64_t best = 0;
        float m = row[0];
        for (int64_t k = 1; k < c && m == m; k++) {   // stops at a NaN: it is the maximum
            if (row[k] > m || row[k] != row[k]) {
                m = row[k];
                best = k;
            }
        }
        out[r] = (int32_t)best;
    }
}

} // namespace nl
