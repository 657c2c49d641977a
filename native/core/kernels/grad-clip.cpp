// Helpers for torch.nn.utils.clip_grad_norm_ (norm_type 2), which the engine composes as
//   total = sqrt(sum over parameters of sum_squares(grad)),  coef = max_norm / (total + 1e-6),
//   if coef < 1: scale_inplace(grad, coef) for every parameter.
// torch forms the norm in float32 (norm of per-tensor norms); the sum here is in double, so `total`
// can differ from torch's in the last float bits.
#include "kernels.h"

namespace nl {

// sum of g[i]^2 over count values, in double
double sum_squares(const float * g, size_t count) {
    // Four partial sums: independent dependency chains (vectorizable) and no loss of accuracy in double.
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const double a = g[i], b = g[i + 1], c = g[i + 2], d = g[i + 3];
        s0 += a * a;
        s1 += b * b;
        s2 += c * c;
        s3 += d * d;
    }
    for (; i < count; i++) s0 += (double)g[i] * g[i];
    return (s0 + s1) + (s2 + s3);
}

// g[i] *= s   (torch: g.mul_(clip_coef_clamped), a float32 multiply)
void scale_inplace(float * g, size_t count, float s) {
    for (size_t i = 0; i < count; i++) g[i] *= s;
}

} // namespace nl
