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
using optim_detail::StatAcc;
using optim_detail::within;
using optim_detail::rounded_up;

namespace {
// The float32 scalars, exactly as each tensor op receives them (shared by the loop and the bound).
struct AdamConsts {
    float b1_f, one_minus_b1, b2_f, one_minus_b2, bc2s_f, eps_f, neg_step, wd_f, decay_f, sign;
    bool l2, decoupled, amsgrad;
};
AdamConsts adam_consts(const AdamParams & hp, bool has_vmax, int64_t step) {
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

    AdamConsts c;
    c.b1_f = (float)beta1;
    c.one_minus_b1 = (float)(1.0 - beta1);
    c.b2_f = (float)beta2;
    c.one_minus_b2 = (float)(1.0 - beta2);
    c.bc2s_f = (float)bias_correction2_sqrt;
    c.eps_f = (float)eps;
    c.neg_step = (float)(-step_size);
    c.wd_f = (float)wd;
    c.decay_f = (float)(1.0 - lr * wd);      // AdamW: param.mul_(1 - lr * weight_decay)
    c.sign = hp.maximize ? -1.f : 1.f;
    c.l2 = !hp.decoupled_weight_decay && wd != 0.0;
    c.decoupled = hp.decoupled_weight_decay;   // torch multiplies even when wd == 0 (by 1: exact)
    c.amsgrad = hp.amsgrad && has_vmax;
    return c;
}

// The one loop body of adam_step (Store: writes) and adam_step_check (!Store: computes, writes
// nothing, and notes max |p|, |m|, |v|, |vmax| and whether a v is negative in `stats`).
template <bool Store>
NL_OPTIM_INLINE unsigned adam_loop(float * __restrict p, const float * __restrict g, float * __restrict m, float * __restrict v,
                                   float * __restrict vmax, size_t count, const AdamParams & hp, int64_t step, StepStats * stats) {
    const AdamConsts c = adam_consts(hp, vmax != nullptr, step);
    const float b1_f = c.b1_f, one_minus_b1 = c.one_minus_b1, b2_f = c.b2_f, one_minus_b2 = c.one_minus_b2, bc2s_f = c.bc2s_f;
    const float eps_f = c.eps_f, neg_step = c.neg_step, wd_f = c.wd_f, decay_f = c.decay_f, sign = c.sign;
    const bool l2 = c.l2, decoupled = c.decoupled;

    // The loop, unswitched on amsgrad (a conditional load of vmax inside would keep it scalar).
    auto run = [&](auto ams) {
        constexpr bool Ams = decltype(ams)::value;
        NonFiniteAcc acc;
        StatAcc st;
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
                st.note<1>(mi);
                st.note_raw<2>(vi);
            }
            float vu = vi;
            if (Ams) {
                const float vm = vmax[i];
                vu = (vm > vi || vm != vm) ? vm : vi;      // torch.maximum: NaN propagates
                if (Store) {
                    vmax[i] = vu;
                } else {
                    acc.state(vu);
                    st.note<3>(vu);
                }
            }
            const float den = std::sqrt(vu) / bc2s_f + eps_f;
            const float pn = pi + (neg_step * mi) / den;
            if (Store) {
                p[i] = pn;
            } else {
                acc.weights(pn);
                st.note<0>(pn);
            }
        }
        if (!Store) st.store(stats, Ams ? 15u : 7u, 4u);
        return acc.bits();
    };
    return c.amsgrad ? run(std::true_type{}) : run(std::false_type{});
}
} // namespace

NL_VECTOR_CLONES
void adam_step(float * __restrict p, const float * __restrict g, float * __restrict m, float * __restrict v,
               float * __restrict vmax, size_t count, const AdamParams & hp, int64_t step) {
    adam_loop<true>(p, g, m, v, vmax, count, hp, step, nullptr);
}

NL_VECTOR_CLONES
unsigned adam_step_check(const float * p, const float * g, const float * m, const float * v, const float * vmax, size_t count,
                         const AdamParams & hp, int64_t step, StepStats * stats) {
    return adam_loop<false>(const_cast<float *>(p), g, const_cast<float *>(m), const_cast<float *>(v), const_cast<float *>(vmax),
                            count, hp, step, stats);
}

unsigned adam_step_check(const float * p, const float * g, const float * m, const float * v, const float * vmax, size_t count,
                         const AdamParams & hp, int64_t step) {
    return adam_step_check(p, g, m, v, vmax, count, hp, step, nullptr);
}

// The bound, following the loop with G = max|g|, P = max|p|, M = max|m|, V = max|v|, W = max|vmax|:
//   g'  = sign*g + wd*p  (Adam, L2)             |g'|  <= Gd = G + |wd| P               (else Gd = G)
//   p'  = p * (1 - lr*wd)  (AdamW)              |p'|  <= P' = |decay| P                (else P' = P)
//   m'  = (1-b1)*g' + b1*m                      |m'|  <= Mn = |1-b1| Gd + |b1| M
//   v'  = ((1-b2)*g')*g' + b2*v                 |v'|  <= Vn = |1-b2| Gd^2 + |b2| V
//   vu  = amsgrad ? max(vmax, v') : v'          |vu|  <= max(W, Vn)
//   den = sqrt(vu)/bc2s + eps
//   p'' = p' + (-step_size*m')/den              |p''| <= P' + |step_size| Mn / eps
// The last line needs den >= eps > 0, which holds when vu >= 0 (then sqrt(vu)/bc2s >= 0 for
// bc2s > 0, possibly +inf, and a float sum of non-negative terms is >= each of them): v' >= 0
// when v is known non-negative and b2, 1-b2 >= 0 (each term is then >= 0, and rounding keeps
// the sign); vu = max(vmax, v') >= v' whatever vmax holds. So: v known non-negative, b2 and 1-b2
// non-negative, bc2s > 0 and eps > 0, else no bound. A den of +inf only makes the update 0.
bool adam_step_bounded(const AdamParams & hp, bool has_vmax, int64_t step, const StepBounds & b, StepBounds * after) {
    const AdamConsts c = adam_consts(hp, has_vmax, step);
    const double G = b.grad, P = b.param, M = b.state[0], V = b.state[1];
    if (!(G >= 0) || !(P >= 0) || !(M >= 0) || !(V >= 0) || !b.state_nonneg[1]) return false;
    if (!(c.b2_f >= 0.f) || !(c.one_minus_b2 >= 0.f) || !(c.bc2s_f > 0.f) || !(c.eps_f > 0.f)) return false;
    const double Gd = G + (c.l2 ? std::fabs((double)c.wd_f) * P : 0.0);
    const double P1 = c.decoupled ? std::fabs((double)c.decay_f) * P : P;
    const double Mn = std::fabs((double)c.one_minus_b1) * Gd + std::fabs((double)c.b1_f) * M;
    const double Vn = (double)c.one_minus_b2 * Gd * Gd + (double)c.b2_f * V;
    double Vu = Vn;
    if (c.amsgrad) {
        const double W = b.state[2];
        if (!(W >= 0)) return false;
        Vu = W > Vn ? W : Vn;
    }
    const double upd = std::fabs((double)c.neg_step) * Mn;
    const double Pn = P1 + upd / (double)c.eps_f;
    if (!(within(Gd) && within(P1) && within(Mn) && within(Vn) && within(Vu) && within(upd) && within(Pn))) return false;
    if (after) {   // v' >= 0 and vu >= v' (above): both known non-negative; m' of either sign
        *after = b;
        after->param = rounded_up(Pn);
        after->state[0] = rounded_up(Mn), after->state_nonneg[0] = false;
        after->state[1] = rounded_up(Vn), after->state_nonneg[1] = true;
        if (c.amsgrad) after->state[2] = rounded_up(Vu), after->state_nonneg[2] = true;
    }
    return true;
}

} // namespace nl
