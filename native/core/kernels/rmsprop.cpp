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
using optim_detail::StatAcc;
using optim_detail::within;
using optim_detail::rounded_up;

namespace {
// The float32 scalars, exactly as each tensor op receives them (shared by the loop and the bound).
struct RmspropConsts {
    float alpha_f, one_minus_alpha, eps_f, wd_f, mom_f, neg_lr, sign;
    bool use_wd, use_momentum, centered;
};
RmspropConsts rmsprop_consts(const RmspropParams & hp, bool has_momentum_buffer, bool has_grad_avg) {
    const double lr = hyper_double(hp.lr);
    const double alpha = hyper_double(hp.alpha);
    const double eps = hyper_double(hp.eps);
    const double wd = hyper_double(hp.weight_decay);
    const double momentum = hyper_double(hp.momentum);
    RmspropConsts c;
    c.alpha_f = (float)alpha;
    c.one_minus_alpha = (float)(1.0 - alpha);
    c.eps_f = (float)eps;
    c.wd_f = (float)wd;
    c.mom_f = (float)momentum;
    c.neg_lr = (float)(-lr);
    c.sign = hp.maximize ? -1.f : 1.f;
    c.use_wd = wd != 0.0;
    c.use_momentum = momentum > 0.0 && has_momentum_buffer;
    c.centered = hp.centered && has_grad_avg;
    return c;
}

// The one loop body of rmsprop_step (Store: writes) and rmsprop_step_check (!Store: computes,
// writes nothing, and notes max |p|, |state| and whether a square average is negative in `stats`).
template <bool Store>
NL_OPTIM_INLINE unsigned rmsprop_loop(float * __restrict p, const float * __restrict g, float * __restrict square_avg,
                                      float * __restrict momentum_buffer, float * __restrict grad_avg, size_t count,
                                      const RmspropParams & hp, int64_t, StepStats * stats) {
    const RmspropConsts c = rmsprop_consts(hp, momentum_buffer != nullptr, grad_avg != nullptr);
    const float alpha_f = c.alpha_f, one_minus_alpha = c.one_minus_alpha, eps_f = c.eps_f, wd_f = c.wd_f, mom_f = c.mom_f;
    const float neg_lr = c.neg_lr, sign = c.sign;
    const bool use_wd = c.use_wd, use_momentum = c.use_momentum, centered = c.centered;

    NonFiniteAcc acc;
    StatAcc st;
    for (size_t i = 0; i < count; i++) {
        float gi = sign * g[i];
        if (use_wd) gi = fma_f(wd_f, p[i], gi);
        const float sa = fma_f(one_minus_alpha * gi, gi, square_avg[i] * alpha_f);
        if (Store) {
            square_avg[i] = sa;
        } else {
            acc.state(sa);
            st.note_raw<1>(sa);
        }
        float avg;
        if (centered) {
            const float ga = fma_f(one_minus_alpha, gi, grad_avg[i] * alpha_f);
            if (Store) {
                grad_avg[i] = ga;
            } else {
                acc.state(ga);
                st.note<3>(ga);
            }
            avg = std::sqrt(fma_f(-ga, ga, sa));
        } else {
            avg = std::sqrt(sa);
        }
        avg = avg + eps_f;
        float pn;
        if (use_momentum) {
            const float b = momentum_buffer[i] * mom_f + gi / avg;
            if (Store) {
                momentum_buffer[i] = b;
            } else {
                acc.state(b);
                st.note<2>(b);
            }
            pn = fma_f(neg_lr, b, p[i]);
        } else {
            pn = p[i] + (neg_lr * gi) / avg;
        }
        if (Store) {
            p[i] = pn;
        } else {
            acc.weights(pn);
            st.note<0>(pn);
        }
    }
    if (!Store) st.store(stats, 1u | 2u | (use_momentum ? 4u : 0u) | (centered ? 8u : 0u), 2u);
    return acc.bits();
}
} // namespace

NL_VECTOR_CLONES
void rmsprop_step(float * __restrict p, const float * __restrict g, float * __restrict square_avg,
                  float * __restrict momentum_buffer, float * __restrict grad_avg, size_t count,
                  const RmspropParams & hp, int64_t step) {
    rmsprop_loop<true>(p, g, square_avg, momentum_buffer, grad_avg, count, hp, step, nullptr);
}

NL_VECTOR_CLONES
unsigned rmsprop_step_check(const float * p, const float * g, const float * square_avg, const float * momentum_buffer,
                            const float * grad_avg, size_t count, const RmspropParams & hp, int64_t step, StepStats * stats) {
    return rmsprop_loop<false>(const_cast<float *>(p), g, const_cast<float *>(square_avg), const_cast<float *>(momentum_buffer),
                               const_cast<float *>(grad_avg), count, hp, step, stats);
}

unsigned rmsprop_step_check(const float * p, const float * g, const float * square_avg, const float * momentum_buffer,
                            const float * grad_avg, size_t count, const RmspropParams & hp, int64_t step) {
    return rmsprop_step_check(p, g, square_avg, momentum_buffer, grad_avg, count, hp, step, nullptr);
}

// The bound, following the loop with G = max|g|, P = max|p|, S = max|square_avg|, B = max|buf|:
//   g'  = sign*g + wd*p                      |g'|  <= Gd = G + |wd| P
//   sa  = ((1-alpha)*g')*g' + alpha*sa       |sa'| <= Sn = |1-alpha| Gd^2 + |alpha| S
//   avg = sqrt(sa') + eps                     avg  >= eps
//   buf = mom*buf + g'/avg (momentum)        |buf'| <= Bn = |mom| B + Gd / eps
//   p'  = p - lr*buf'                        |p'|  <= P + |lr| Bn
//   p'  = p + (-lr*g')/avg (no momentum)     |p'|  <= P + |lr| Gd / eps
// avg >= eps > 0 needs sa' >= 0: square_avg known non-negative, alpha and 1-alpha >= 0 (as for
// Adam's v), and eps > 0. Centered RMSprop has no bound: sqrt(sa' - ga'^2) is NaN whenever rounding
// leaves sa' a hair below ga'^2 (a steady gradient), whatever the magnitudes, so it always takes
// the exact check.
bool rmsprop_step_bounded(const RmspropParams & hp, bool has_momentum_buffer, bool has_grad_avg, int64_t, const StepBounds & b,
                          StepBounds * after) {
    const RmspropConsts c = rmsprop_consts(hp, has_momentum_buffer, has_grad_avg);
    if (c.centered) return false;
    const double G = b.grad, P = b.param, S = b.state[0];
    if (!(G >= 0) || !(P >= 0) || !(S >= 0) || !b.state_nonneg[0]) return false;
    if (!(c.alpha_f >= 0.f) || !(c.one_minus_alpha >= 0.f) || !(c.eps_f > 0.f)) return false;
    const double Gd = G + (c.use_wd ? std::fabs((double)c.wd_f) * P : 0.0);
    const double Sn = (double)c.one_minus_alpha * Gd * Gd + (double)c.alpha_f * S;
    const double lr = std::fabs((double)c.neg_lr);
    const double q = Gd / (double)c.eps_f;   // |g'/avg|
    bool ok = within(Gd) && within(Sn) && within(q);
    double Bn = -1, Pn;
    if (c.use_momentum) {
        const double B = b.state[1];
        if (!(B >= 0)) return false;
        Bn = std::fabs((double)c.mom_f) * B + q;
        Pn = P + lr * Bn;
        ok = ok && within(Bn);
    } else {
        Pn = P + lr * q;
        ok = ok && within(lr * Gd);
    }
    if (!ok || !within(Pn)) return false;
    if (after) {   // sa' >= 0 (above); the momentum buffer of either sign
        *after = b;
        after->param = rounded_up(Pn);
        after->state[0] = rounded_up(Sn), after->state_nonneg[0] = true;
        if (c.use_momentum) after->state[1] = rounded_up(Bn), after->state_nonneg[1] = false;
    }
    return true;
}

} // namespace nl
