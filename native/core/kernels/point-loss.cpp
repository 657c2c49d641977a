// Elementwise losses between pred and target (PyTorch 1.13, no per-element weight, no pos_weight):
//
//   d = pred - target,   N = count,   k = 1/N (mean) | 1 (sum)
//   MSE             l = d^2                                           dpred = 2 d k
//   L1              l = |d|                                           dpred = sign(d) k        (sign(0) = 0)
//   SMOOTH_L1(beta) l = |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta  dpred = clamp(d / beta, -1, 1) k
//                   beta <= 0: exactly L1 (torch routes beta == 0 to l1_loss; negative beta is an error there)
//   BCE_WITH_LOGITS x = pred, t = target
//                   l = max(x, 0) - x t + log1p(exp(-|x|))            dpred = (sigmoid(x) - t) k
//                                                                     dtarget = -x k
//   MSE / L1 / SMOOTH_L1: dtarget = -dpred.
//   forward returns k * sum l (accumulated in double); mean over count == 0 is 0/0 = NaN, as torch.
//   backward writes dpred / dtarget when non-null (overwritten, or added with accumulate).
//
// Values are computed in double and rounded once, so they sit within an ulp of torch's float32 results.
#include "kernels.h"
#include "optim-scalar.h"
#include <cmath>

namespace nl {

using optim_detail::hyper_double;

namespace {

inline double sgn(double d) { return d > 0 ? 1.0 : d < 0 ? -1.0 : d; }   // sign(0) = 0, NaN stays NaN

inline double point_value(PointLoss kind, double x, double t, double beta) {
    const double d = x - t;
    switch (kind) {
    case PointLoss::MSE: return d * d;
    case PointLoss::L1: return std::fabs(d);
    case PointLoss::SMOOTH_L1: {
        const double z = std::fabs(d);
        if (!(beta > 0)) return z;
        return z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
    }
    case PointLoss::BCE_WITH_LOGITS: return std::fmax(x, 0.0) - x * t + std::log1p(std::exp(-std::fabs(x)));
    }
    return NAN;
}

// d loss / d pred for one element (before the reduction scale)
inline double point_grad(PointLoss kind, double x, double t, double beta) {
    const double d = x - t;
    switch (kind) {
    case PointLoss::MSE: return 2.0 * d;
    case PointLoss::L1: return sgn(d);
    case PointLoss::SMOOTH_L1:
        if (!(beta > 0)) return sgn(d);
        return d < -beta ? -1.0 : d > beta ? 1.0 : d / beta;
    case PointLoss::BCE_WITH_LOGITS: return 1.0 / (1.0 + std::exp(-x)) - t;
    }
    return NAN;
}

} // namespace

float point_loss_forward(PointLoss kind, const float * pred, const float * target, size_t count, Reduction r, float beta) {
    const double b = hyper_double(beta);
    double total = 0.0;
    for (size_t i = 0; i < count; i++) total += point_value(kind, pred[i], target[i], b);
    return (float)(r == Reduction::MEAN ? total / (double)count : total);
}

void point_loss_backward(PointLoss kind, const float * pred, const float * target, float * dpred, float * dtarget,
                         size_t count, Reduction r, float beta, bool accumulate) {
    const double b = hyper_double(beta);
    const double k = r == Reduction::MEAN ? 1.0 / (double)count : 1.0;
    for (size_t i = 0; i < count; i++) {
        const double x = pred[i], t = target[i];
        const double gp = point_grad(kind, x, t, b) * k;
        if (dpred) {
            const float v = (float)gp;
            dpred[i] = accumulate ? dpred[i] + v : v;
        }
        if (dtarget) {
            const float v = (float)(kind == PointLoss::BCE_WITH_LOGITS ? -x * k : -gp);
            dtarget[i] = accumulate ? dtarget[i] + v : v;
        }
    }
}

void one_hot(const int32_t * labels, float * y, int64_t n, int64_t c) {
    for (int64_t i = 0; i < n; i++) {
        float * yi = y + (size_t)i * c;
        for (int64_t j = 0; j < c; j++) yi[j] = 0.f;
        const int l = labels[i];
        if (l >= 0 && l < c) yi[l] = 1.f;   // a label outside [0, c) (e.g. an ignore_index) gives a zero row
    }
}

} // namespace nl
