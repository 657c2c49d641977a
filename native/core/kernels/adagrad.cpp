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
using optim_detail::StatAcc;
using optim_detail::within;
using optim_detail::rounded_up;

namespace {
// The float32 scalars, exactly as each tensor op receives them (shared by the loop and the bound).
struct AdagradConsts {
    float neg_clr, eps_f, wd_f, sign;
    bool use_wd;
};
AdagradConsts adagrad_consts(const AdagradParams & hp, int64_t step) {
    const double lr = hyper_double(hp.lr);
    const double lr_decay = hyper_double(hp.lr_decay);
    const double eps = hyper_double(hp.eps);
    const double wd = hyper_double(hp.weight_decay);
    const double t = (double)(step < 1 ? 1 : step);    // torch: step_t.item(), a float
    const double clr = lr / (1.0 + (t - 1.0) * lr_decay);
    AdagradConsts c;
    c.neg_clr = (float)(-clr);
    c.eps_f = (float)eps;
    c.wd_f = (float)wd;
    c.sign = hp.maximize ? -1.f : 1.f;
    c.use_wd = wd != 0.0;
    return c;
}

// The one loop body of adagrad_step (Store: writes) and adagrad_step_check (!Store: computes,
// writes nothing, and notes max |p|, |sum| and whether a sum is negative in `stats`).
template <bool Store>
NL_OPTIM_INLINE unsigned adagrad_loop(float * __restrict p, const float * __restrict g, float * __restrict state_sum, size_t count,
                                      const AdagradParams & hp, int64_t step, StepStats * stats) {
    const AdagradConsts c = adagrad_consts(hp, step);
    const float neg_clr = c.neg_clr, eps_f = c.eps_f, wd_f = c.wd_f, sign = c.sign;
    const bool use_wd = c.use_wd;

    NonFiniteAcc acc;
    StatAcc st;
    for (size_t i = 0; i < count; i++) {
        float gi = sign * g[i];
        if (use_wd) gi = fma_f(wd_f, p[i], gi);
        const float s = fma_f(gi, gi, state_sum[i]);
        if (Store) {
            state_sum[i] = s;
        } else {
            acc.state(s);
            st.note_raw<1>(s);
        }
        const float sd = std::sqrt(s) + eps_f;
        const float pn = p[i] + (neg_clr * gi) / sd;
        if (Store) {
            p[i] = pn;
        } else {
            acc.weights(pn);
            st.note<0>(pn);
        }
    }
    if (!Store) st.store(stats, 3u, 2u);
    return acc.bits();
}
} // namespace

NL_VECTOR_CLONES
void adagrad_step(float * __restrict p, const float * __restrict g, float * __restrict state_sum, size_t count,
                  const AdagradParams & hp, int64_t step) {
    adagrad_loop<true>(p, g, state_sum, count, hp, step, nullptr);
}

NL_VECTOR_CLONES
unsigned adagrad_step_check(const float * p, const float * g, const float * state_sum, size_t count, const AdagradParams & hp,
                            int64_t step, StepStats * stats) {
    return adagrad_loop<false>(const_cast<float *>(p), g, const_cast<float *>(state_sum), count, hp, step, stats);
}

unsigned adagrad_step_check(const float * p, const float * g, const float * state_sum, size_t count, const AdagradParams & hp,
                            int64_t step) {
    return adagrad_step_check(p, g, state_sum, count, hp, step, nullptr);
}

// The bound, following the loop with G = max|g|, P = max|p|, S = max|sum|:
//   g'  = sign*g + wd*p                      |g'|  <= Gd = G + |wd| P
//   s'  = g'*g' + s                          |s'|  <= Sn = Gd^2 + S
//   sd  = sqrt(s') + eps                      sd   >= eps
//   p'  = p + (-clr*g')/sd                   |p'|  <= P + |clr| Gd / eps
// sd >= eps > 0 needs s' >= 0: the sum known non-negative (g'*g' >= 0, and rounding keeps the
// sign), and eps > 0. clr = lr / (1 + (step-1)*lr_decay) may be huge or negative: only |clr| counts.
bool adagrad_step_bounded(const AdagradParams & hp, int64_t step, const StepBounds & b, StepBounds * after) {
    const AdagradConsts c = adagrad_consts(hp, step);
    const double G = b.grad, P = b.param, S = b.state[0];
    if (!(G >= 0) || !(P >= 0) || !(S >= 0) || !b.state_nonneg[0] || !(c.eps_f > 0.f)) return false;
    const double Gd = G + (c.use_wd ? std::fabs((double)c.wd_f) * P : 0.0);
    const double upd = std::fabs((double)c.neg_clr) * Gd;
    const double Sn = Gd * Gd + S, Pn = P + upd / (double)c.eps_f;
    if (!(within(Gd) && within(Sn) && within(upd) && within(Pn))) return false;
    if (after) {   // s' >= 0 (above)
        *after = b;
        after->param = rounded_up(Pn);
        after->state[0] = rounded_up(Sn), after->state_nonneg[0] = true;
    }
    return true;
}

} // namespace nl
