// Adam / AdamW step, one fused pass per parameter: torch.optim.Adam and torch.optim.AdamW
// (PyTorch 1.13, _single_tensor_adam / _single_tensor_adamw, foreach=False, capturable=False).
//
//   p, g, m, v, vmax: [count]     step counts from 1 (the value of state['step'] after += 1)
//
//   g    = maximize ? -g : g
//   Adam:   g = g + wd * p                            (L2, if weight_decay != 0)
//   AdamW:  p = p * (1 - lr * wd)                     (decoupled)
//   m    = beta1 * m + (1 - beta1) * g
//   v    = beta2 * v + (1 - beta2) * g * g
//   bc1  = 1 - beta1^step,  bc2 = 1 - beta2^step      (double, as Python computes them)
//   vmax = max(vmax, v)                               (amsgrad only; then used instead of v)
//   den  = sqrt(v) / sqrt(bc2) + eps
//   p    = p + (-lr / bc1) * m / den
//
// The float32 operation order is torch's: m.mul_(b1).add_(g, alpha=1-b1) (fused add),
// v.mul_(b2).addcmul_(g, g, value=1-b2) (fused), (v.sqrt() / bc2_sqrt).add_(eps) with a true
// division, p.addcdiv_(m, den, value=-step_size) = p + (s*m)/den. See optim-scalar.h for the
// double-valued scalars and the fma. adam_step_check runs the same loop without storing
// (NonFiniteAcc there).
#include "kernels.h"
#include "optim-scalar.h"
#include <cmath>
#include <type_traits>

namespace nl {

using optim_detail::fma_f;
using optim_detail::hyper_double;
using optim_detail::NonFiniteAcc;

namespace {
// The one loop body of adam_step (Store) and adam_step_check (!Store: computes, writes nothing).
template <bool Store>
NL_OPTIM_INLINE unsigned adam_loop(float * __restrict p, const float * __restrict g, float * __restrict m, float * __restrict v,
                                   float * __restrict vmax, size_t count, const AdamParams & hp, int64_t step) {
    const double lr = hyper_double(hp.lr);
    const double beta1 = hyper_double(hp.beta1);
    const double beta2 = hyper_double(hp.beta2);
    const double eps = hyper_double(hp.eps);
    const double wd = hyper_double(hp.weight_decay);
    const double t = (double)(step < 1 ? 1 : step);    // torch: step_t.item(), a float

    const double bias_correction1 = 1.0 - std::pow(beta1, t);
    const double bias_correction2 = 1.0 - std::pow(beta2, t);
    const double step_size = lr / bias_correction1;
    const double bias_correction2_sqrt = std::sqrt(bias_correction2);

    // float32 scalars, exactly as each tensor op receives them
    const float b1_f = (float)beta1;
    const float one_minus_b1 = (float)(1.0 - beta1);
    const float b2_f = (float)beta2;
    const float one_minus_b2 = (float)(1.0 - beta2);
    const float bc2s_f = (float)bias_correction2_sqrt;
    const float eps_f = (float)eps;
    const float neg_step = (float)(-step_size);
    const float wd_f = (float)wd;
    const float decay_f = (float)(1.0 - lr * wd);      // AdamW: param.mul_(1 - lr * weight_decay)
    const float sign = hp.maximize ? -1.f : 1.f;
    const bool l2 = !hp.decoupled_weight_decay && wd != 0.0;
    const bool decoupled = hp.decoupled_weight_decay;   // torch multiplies even when wd == 0 (by 1: exact)
    const bool amsgrad = hp.amsgrad && vmax != nullptr;

    // The loop, unswitched on amsgrad (a conditional load of vmax inside would keep it scalar).
    auto run = [&](auto ams) {
        constexpr bool Ams = decltype(ams)::value;
        NonFiniteAcc acc;
        for (size_t i = 0; i < count; i++) {
            float pi = p[i];
            float gi = sign * g[i];
            if (l2) gi = fma_f(wd_f, pi, gi);
            if (decoupled) pi = pi * decay_f;
            const float mi = fma_f(one_minus_b1, gi, m[i] * b1_f);
            const float vi = fma_f(one_minus_b2 * gi, gi, v[i] * b2_f);
            if (Store) {
                m[i] = mi;
                v[i] = vi;
            } else {
                acc.state(mi);
                acc.state(vi);
            }
            float vu = vi;
            if (Ams) {
                const float vm = vmax[i];
                vu = (vm > vi || vm != vm) ? vm : vi;      // torch.maximum: NaN propagates
                if (Store) vmax[i] = vu;
                else acc.state(vu);
            }
            const float den = std::sqrt(vu) / bc2s_f + eps_f;
            const float pn = pi + (neg_step * mi) / den;
            if (Store) p[i] = pn;
            else acc.weights(pn);
        }
        return acc.bits();
    };
    return amsgrad ? run(std::true_type{}) : run(std::false_type{});
}
} // namespace

NL_VECTOR_CLONES
void adam_step(float * __restrict p, const float * __restrict g, float * __restrict m, float * __restrict v,
               float * __restrict vmax, size_t count, const AdamParams & hp, int64_t step) {
    adam_loop<true>(p, g, m, v, vmax, count, hp, step);
}

NL_VECTOR_CLONES
unsigned adam_step_check(const float * p, const float * g, const float * m, const float * v, const float * vmax, size_t count,
                         const AdamParams & hp, int64_t step) {
    return adam_loop<false>(const_cast<float *>(p), g, const_cast<float *>(m), const_cast<float *>(v), const_cast<float *>(vmax),
                            count, hp, step);
}

} // namespace nl
