// Adagrad step, one fused pass per parameter: torch.optim.Adagrad (PyTorch 1.13, _single_tensor_adagrad,
// dense gradients, foreach=False).
//
//   p, g, state_sum: [count]     step counts from 1 (torch's state['step'] after += 1)
//
//   g   = maximize ? -g : g
//   g   = g + wd * p                                   (if weight_decay != 0)
//   clr = lr / (1 + (step - 1) * lr_decay)             (double, as Python computes it)
//   s   = s + g * g                                    (state_sum.addcmul_(g, g, value=1): fused)
//   p   = p - clr * g / (sqrt(s) + eps)                (param.addcdiv_(g, std, value=-clr) = p + (-clr*g)/std)
//
// state_sum starts at initial_accumulator_value (the engine fills it when it creates the state).
// adagrad_step_check runs the same loop without storing (NonFiniteAcc in optim-scalar.h).
#include "kernels.h"
#include "optim-scalar.h"
#include <cmath>

namespace nl {

using optim_detail::fma_f;
using optim_detail::hyper_double;
using optim_detail::NonFiniteAcc;

namespace {
// The one loop body of adagrad_step (Store) and adagrad_step_check (!Store: computes, writes nothing).
template <bool Store>
NL_OPTIM_INLINE unsigned adagrad_loop(float * __restrict p, const float * __restrict g, float * __restrict state_sum, size_t count,
                                      const AdagradParams & hp, int64_t step) {
    const double lr = hyper_double(hp.lr);
    const double lr_decay = hyper_double(hp.lr_decay);
    const double eps = hyper_double(hp.eps);
    const double wd = hyper_double(hp.weight_decay);
    const double t = (double)(step < 1 ? 1 : step);    // torch: step_t.item(), a float
    const double clr = lr / (1.0 + (t - 1.0) * lr_decay);

    const float neg_clr = (float)(-clr);
    const float eps_f = (float)eps;
    const float wd_f = (float)wd;
    const float sign = hp.maximize ? -1.f : 1.f;
    const bool use_wd = wd != 0.0;

    NonFiniteAcc acc;
    for (size_t i = 0; i < count; i++) {
        float gi = sign * g[i];
        if (use_wd) gi = fma_f(wd_f, p[i], gi);
        const float s = fma_f(gi, gi, state_sum[i]);
        if (Store) state_sum[i] = s;
        else acc.state(s);
        const float sd = std::sqrt(s) + eps_f;
        const float pn = p[i] + (neg_clr * gi) / sd;
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    return acc.bits();
}
} // namespace

NL_VECTOR_CLONES
void adagrad_step(float * __restrict p, const float * __restrict g, float * __restrict state_sum, size_t count,
                  const AdagradParams & hp, int64_t step) {
    adagrad_loop<true>(p, g, state_sum, count, hp, step);
}

NL_VECTOR_CLONES
unsigned adagrad_step_check(const float * p, const float * g, const float * state_sum, size_t count, const AdagradParams & hp,
                            int64_t step) {
    return adagrad_loop<false>(const_cast<float *>(p), g, const_cast<float *>(state_sum), count, hp, step);
}

} // namespace nl
