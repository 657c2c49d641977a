// LayerNorm over the last `cols` values of each row, as torch 1.13 CPU (layer_norm_kernel.cpp).
//
//   forward:   x [rows, cols], gamma/beta [cols] or null (elementwise_affine=False)
//              mean [rows], rstd [rows] = 1 / sqrt(var_biased + eps)      (saved for backward)
//              y = (x * rstd - mean * rstd) * gamma + beta                 (torch's evaluation order)
//   backward:  needs x, gamma, mean, rstd.  With xhat = (x - mean) * rstd and g = dy * gamma:
//              dx = rstd * (g - mean_j(g) - xhat * mean_j(g * xhat))      (accumulate_dx: dx += ...)
//              dgamma [cols] = sum over rows of dy * xhat                  (overwritten; null to skip)
//              dbeta  [cols] = sum over rows of dy                         (overwritten; null to skip)
//
// Row statistics use a two-pass double sum (torch uses a float Welford cascade; the results agree
// to float rounding). The row reductions of the backward are in double and use the centred form,
// which avoids torch's sum(dy*gamma*x) cancellation for rows with a large mean. dgamma/dbeta are
// accumulated row by row in float, as torch does, so those loops vectorize.
#include "kernels.h"
#include <cmath>

namespace nl {

void layer_norm_forward(const float * x, const float * gamma, const float * beta, float * y, float * mean, float * rstd,
                        int64_t rows, int64_t cols, float eps) {
    if (rows <= 0 || cols <= 0) return;
    for (int64_t r = 0; r < rows; r++) {
        const float * __restrict xr = x + (size_t)r * cols;
        float * __restrict yr = y + (size_t)r * cols;
        double sum = 0.0;
        for (int64_t j = 0; j < cols; j++) sum += xr[j];
        const double mu = sum / cols;
        double sq = 0.0;
        for (int64_t j = 0; j < cols; j++) {
            double d = xr[j] - mu;
            sq += d * d;
        }
        const float m = (float)mu;
        const float var = (float)(sq / cols);
        const float rs = 1.f / std::sqrt(var + eps);
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = rs;
        const float shift = -rs * m;
        if (gamma && beta) {
            for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] * rs + shift) * gamma[j] + beta[j];
        } else if (gamma) {
            for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] * rs + shift) * gamma[j];
        } else if (beta) {
            for (int64_t j = 0; j < cols; j++) yr[j] = (xr[j] * rs + shift) + beta[j];
        } else {
            for (int64_t j = 0; j < cols; j++) yr[j] = xr[j] * rs + shift;
        }
    }
}

void layer_norm_backward(const float * dy, const float * x, const float * gamma, const float * mean, const float * rstd,
                         float * dx, float * dgamma, float * dbeta, int64_t rows, int64_t cols, bool accumulate_dx) {
    if (rows <= 0 || cols <= 0) return;
    if (dgamma)
        for (int64_t j = 0; j < cols; j++) dgamma[j] = 0.f;
    if (dbeta)
        for (int64_t j = 0; j < cols; j++) dbeta[j] = 0.f;
    for (int64_t r = 0; r < rows; r++) {
        const float * __restrict xr = x + (size_t)r * cols;
        const float * __restrict dyr = dy + (size_t)r * cols;
        const float m = mean[r], rs = rstd[r];
        if (dgamma)
            for (int64_t j = 0; j < cols; j++) dgamma[j] += dyr[j] * ((xr[j] - m) * rs);
        if (dbeta)
            for (int64_t j = 0; j < cols; j++) dbeta[j] += dyr[j];
        if (!dx) continue;
        // mean_j(g) and mean_j(g * xhat), g = dy * gamma
        double sg = 0.0, sgx = 0.0;
        for (int64_t j = 0; j < cols; j++) {
            const double g = gamma ? (double)dyr[j] * gamma[j] : (double)dyr[j];
            sg += g;
            sgx += g * ((double)xr[j] - m) * rs;
        }
        const float a = (float)(sg / cols);
        const float b = (float)(sgx / cols);
        float * __restrict dxr = dx + (size_t)r * cols;
        if (gamma) {
            if (accumulate_dx)
                for (int64_t j = 0; j < cols; j++) dxr[j] += rs * (dyr[j] * gamma[j] - a - (xr[j] - m) * rs * b);
            else
                for (int64_t j = 0; j < cols; j++) dxr[j] = rs * (dyr[j] * gamma[j] - a - (xr[j] - m) * rs * b);
        } else {
            if (accumulate_dx)
                for (int64_t j = 0; j < cols; j++) dxr[j] += rs * (dyr[j] - a - (xr[j] - m) * rs * b);
            else
                for (int64_t j = 0; j < cols; j++) dxr[j] = rs * (dyr[j] - a - (xr[j] - m) * rs * b);
        }
    }
}

} // namespace nl
