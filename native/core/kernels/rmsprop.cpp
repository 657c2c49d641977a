// RMSprop step, one fused pass per parameter: torch.optim.RMSprop (PyTorch 1.13, _single_tensor_rmsprop,
// foreach=False).
//
//   p, g, square_avg, momentum_buffer, grad_avg: [count]     (state starts at zeros; `step` is unused by torch)
//
//   g   = maximize ? -g : g
//   g   = g + wd * p                                   (if weight_decay != 0)
//   sa  = alpha * sa + (1 - alpha) * g * g
//   if centered:  ga = alpha * ga + (1 - alpha) * g;   avg = sqrt(sa - ga * ga) + eps
//   else:         avg = sqrt(sa) + eps
//   if momentum > 0:  buf = momentum * buf + g / avg;  p = p - lr * buf
//   else:             p = p - lr * g / avg
//
// float32 operation order is torch's: square_avg.mul_(alpha).addcmul_(g, g, value=1-alpha) (fused
// multiply-add with (1-alpha)*g rounded first), grad_avg.mul_(alpha).add_(g, alpha=1-alpha) (fused),
// square_avg.addcmul(ga, ga, value=-1) (fused), .sqrt().add_(eps), buf.mul_(momentum).addcdiv_(g, avg)
// = buf*m + g/avg, param.add_(buf, alpha=-lr) (fused), param.addcdiv_(g, avg, value=-lr) = p + (-lr*g)/avg.
// Scalars are formed in double as Python does (see optim-scalar.h). rmsprop_step_check runs the
// same loop without storing (NonFiniteAcc there).
#include "kernels.h"
#include "optim-scalar.h"
#include <cmath>

namespace nl {

using optim_detail::fma_f;
using optim_detail::hyper_double;
using optim_detail::NonFiniteAcc;

namespace {
// The one loop body of rmsprop_step (Store) and rmsprop_step_check (!Store: computes, writes nothing).
template <bool Store>
NL_OPTIM_INLINE unsigned rmsprop_loop(float * __restrict p, const float * __restrict g, float * __restrict square_avg,
                                      float * __restrict momentum_buffer, float * __restrict grad_avg, size_t count,
                                      const RmspropParams & hp, int64_t step) {
    const double lr = hyper_double(hp.lr);
    const double alpha = hyper_double(hp.alpha);
    const double eps = hyper_double(hp.eps);
    const double wd = hyper_double(hp.weight_decay);
    const double momentum = hyper_double(hp.momentum);

    const float alpha_f = (float)alpha;
    const float one_minus_alpha = (float)(1.0 - alpha);
    const float eps_f = (float)eps;
    const float wd_f = (float)wd;
    const float mom_f = (float)momentum;
    const float neg_lr = (float)(-lr);
    const float sign = hp.maximize ? -1.f : 1.f;
    const bool use_wd = wd != 0.0;
    const bool use_momentum = momentum > 0.0 && momentum_buffer != nullptr;
    const bool centered = hp.centered && grad_avg != nullptr;

    NonFiniteAcc acc;
    for (size_t i = 0; i < count; i++) {
        float gi = sign * g[i];
        if (use_wd) gi = fma_f(wd_f, p[i], gi);
        const float sa = fma_f(one_minus_alpha * gi, gi, square_avg[i] * alpha_f);
        if (Store) square_avg[i] = sa;
        else acc.state(sa);
        float avg;
        if (centered) {
            const float ga = fma_f(one_minus_alpha, gi, grad_avg[i] * alpha_f);
            if (Store) grad_avg[i] = ga;
            else acc.state(ga);
            avg = std::sqrt(fma_f(-ga, ga, sa));
        } else {
            avg = std::sqrt(sa);
        }
        avg = avg + eps_f;
        float pn;
        if (use_momentum) {
            const float b = momentum_buffer[i] * mom_f + gi / avg;
            if (Store) momentum_buffer[i] = b;
            else acc.state(b);
            pn = fma_f(neg_lr, b, p[i]);
        } else {
            pn = p[i] + (neg_lr * gi) / avg;
        }
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    return acc.bits();
}
} // namespace

NL_VECTOR_CLONES
void rmsprop_step(float * __restrict p, const float * __restrict g, float * __restrict square_avg,
                  float * __restrict momentum_buffer, float * __restrict grad_avg, size_t count,
                  const RmspropParams & hp, int64_t step) {
    rmsprop_loop<true>(p, g, square_avg, momentum_buffer, grad_avg, count, hp, step);
}

NL_VECTOR_CLONES
unsigned rmsprop_step_check(const float * p, const float * g, const float * square_avg, const float * momentum_buffer,
                            const float * grad_avg, size_t count, const RmspropParams & hp, int64_t step) {
    return rmsprop_loop<false>(const_cast<float *>(p), g, const_cast<float *>(square_avg), const_cast<float *>(momentum_buffer),
                               const_cast<float *>(grad_avg), count, hp, step);
}

} // namespace nl
