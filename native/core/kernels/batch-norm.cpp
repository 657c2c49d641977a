// BatchNorm1d / BatchNorm2d, as torch 1.13 CPU (aten/src/ATen/native/cpu/batch_norm_kernel.cpp).
// Every input is viewed as [n, c, inner]: inner = 1 for [N,C], L for [N,C,L], H*W for [N,C,H,W].
// N below is the per-channel count n*inner.
//
//   forward_train:  x [n,c,inner], gamma/beta [c] or null (affine=False) -> y [n,c,inner]
//                   save_mean [c]   = mean over (n, inner)                       (batch statistics)
//                   save_invstd [c] = 1 / sqrt(var_biased + eps)
//                   y = x * alpha + shift,  alpha = invstd * gamma,  shift = beta - mean * alpha
//                   running_mean/var [c] (null: track_running_stats=False) updated with
//                     running = m * stat + (1 - m) * running,  stat = mean / UNBIASED var (sum / (N-1))
//                     m = momentum, or 1/num_batches_tracked (incremented first) when momentum < 0.
//   forward_eval:   y = x * alpha + shift with the running statistics (invstd = 1/sqrt(running_var + eps)).
//   backward:       (of the training forward; needs x, gamma, save_mean, save_invstd)
//                   dbeta [c]  = sum dy                        (overwritten; null = not affine)
//                   dgamma [c] = sum dy * (x - mean) * invstd  (overwritten; null = not affine)
//                   dx = (dy - sum(dy)/N - (x - mean) * dotp * invstd^2 / N) * invstd * gamma
//                        where dotp = sum dy * (x - mean)      (accumulate_dx: dx += ...)
//
// Precision follows torch: sums are accumulated in double, the mean and the variance sum are
// rounded to float before use, the normalisation itself runs in float. When N == 1 torch raises
// ("Expected more than 1 value per channel"); here the unbiased variance falls back to the biased
// one (0) so the running statistics stay finite. Reject that shape before it reaches the kernel.
#include "kernels.h"
#include <cmath>

namespace nl {

// y[:, ch, :] = x[:, ch, :] * alpha + shift, one channel of [n, c, inner]
static void bn_affine_channel(const float * x, float * y, int64_t n, int64_t c, int64_t inner, int ch, float alpha, float shift) {
    const size_t stride = (size_t)c * inner;
    for (int64_t i = 0; i < n; i++) {
        const float * __restrict xi = x + i * stride + (size_t)ch * inner;
        float * __restrict yi = y + i * stride + (size_t)ch * inner;
        for (int64_t k = 0; k < inner; k++) yi[k] = xi[k] * alpha + shift;
    }
}

void batch_norm_forward_train(const float * x, const float * gamma, const float * beta, float * y,
                              float * save_mean, float * save_invstd, float * running_mean, float * running_var,
                              int32_t * num_batches_tracked, int64_t n, int64_t c, int64_t inner, float eps, float momentum) {
    if (n <= 0 || c <= 0 || inner <= 0) return;
    // momentum: torch's Python module computes 1/num_batches_tracked for momentum=None.
    float m = momentum;
    if (num_batches_tracked) {
        *num_batches_tracked += 1;
        if (momentum < 0.f) m = (float)(1.0 / (double)*num_batches_tracked);
    } else if (momentum < 0.f) {
        m = 0.f; // cumulative average without a counter: nothing to average against, leave running stats
    }
    const size_t stride = (size_t)c * inner;
    const int64_t count = (int64_t)n * inner;
    for (int64_t ch = 0; ch < c; ch++) {
        // pass 1: mean (double sum, rounded to float as torch)
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float * xi = x + i * stride + (size_t)ch * inner;
            for (int64_t k = 0; k < inner; k++) sum += xi[k];
        }
        const float mean = (float)(sum / (double)count);
        // pass 2: sum of squared deviations (float products, double sum, as torch)
        double var_sum_d = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float * xi = x + i * stride + (size_t)ch * inner;
            for (int64_t k = 0; k < inner; k++) {
                float d = xi[k] - mean;
                var_sum_d += d * d;
            }
        }
        const float var_sum = (float)var_sum_d;
        const float var_biased = var_sum / (float)count;
        const float invstd = (float)(1.0 / std::sqrt((double)var_biased + (double)eps));
        if (save_mean) save_mean[ch] = mean;
        if (save_invstd) save_invstd[ch] = invstd;
        if (running_mean) running_mean[ch] = m * mean + (1.f - m) * running_mean[ch];
        if (running_var) {
            const double unbiased = count > 1 ? (double)(var_sum / (float)(count - 1)) : (double)var_biased;
            running_var[ch] = (float)((double)m * unbiased + (double)((1.f - m) * running_var[ch]));
        }
        const float alpha = invstd * (gamma ? gamma[ch] : 1.f);
        const float shift = (beta ? beta[ch] : 0.f) - mean * alpha;
        bn_affine_channel(x, y, n, c, inner, ch, alpha, shift);
    }
}

void batch_norm_forward_eval(const float * x, const float * gamma, const float * beta, const float * running_mean,
                             const float * running_var, float * y, int64_t n, int64_t c, int64_t inner, float eps) {
    if (n <= 0 || c <= 0 || inner <= 0) return;
    for (int64_t ch = 0; ch < c; ch++) {
        const float mean = running_mean ? running_mean[ch] : 0.f;
        const float var = running_var ? running_var[ch] : 1.f;
        const float invstd = 1.f / std::sqrt(var + eps);
        const float alpha = invstd * (gamma ? gamma[ch] : 1.f);
        const float shift = (beta ? beta[ch] : 0.f) - mean * alpha;
        bn_affine_channel(x, y, n, c, inner, ch, alpha, shift);
    }
}

void batch_norm_backward(const float * dy, const float * x, const float * gamma, const float * save_mean,
                         const float * save_invstd, float * dx, float * dgamma, float * dbeta, int64_t n, int64_t c, int64_t inner,
                         bool accumulate_dx) {
    if (n <= 0 || c <= 0 || inner <= 0) return;
    const size_t stride = (size_t)c * inner;
    const double count = (double)n * inner;
    for (int64_t ch = 0; ch < c; ch++) {
        const float mean = save_mean[ch];
        const float invstd = save_invstd[ch];
        // sum(dy) and dotp = sum(dy * (x - mean)), in double
        double sum = 0.0, dotp = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float * xi = x + i * stride + (size_t)ch * inner;
            const float * dyi = dy + i * stride + (size_t)ch * inner;
            for (int64_t k = 0; k < inner; k++) {
                sum += dyi[k];
                dotp += (double)(xi[k] - mean) * dyi[k];
            }
        }
        if (dgamma) dgamma[ch] = (float)(dotp * invstd);
        if (dbeta) dbeta[ch] = (float)sum;
        if (!dx) continue;
        const float w = gamma ? gamma[ch] : 1.f;
        const float k_proj = (float)(dotp * invstd * invstd / count);
        const float grad_mean = (float)(sum / count);
        for (int64_t i = 0; i < n; i++) {
            const float * __restrict xi = x + i * stride + (size_t)ch * inner;
            const float * __restrict dyi = dy + i * stride + (size_t)ch * inner;
            float * __restrict dxi = dx + i * stride + (size_t)ch * inner;
            if (accumulate_dx) {
                for (int64_t k = 0; k < inner; k++) dxi[k] += (dyi[k] - grad_mean - (xi[k] - mean) * k_proj) * invstd * w;
            } else {
                for (int64_t k = 0; k < inner; k++) dxi[k] = (dyi[k] - grad_mean - (xi[k] - mean) * k_proj) * invstd * w;
            }
        }
    }
}

} // namespace nl
