// SGD step, one fused pass per parameter: torch.optim.SGD (PyTorch 1.13, _single_tensor_sgd).
//
//   p, g, buf: [count]       step counts from 1
//
//   g   = maximize ? -g : g
//   g   = g + wd * p                                  (if weight_decay != 0)
//   if momentum != 0:
//       buf = step == 1 ? g                           (torch: buf is None -> clone(g), no dampening)
//                       : momentum * buf + (1 - dampening) * g
//       g   = nesterov ? g + momentum * buf : buf
//   p   = p - lr * g
//
// Each line is evaluated in float32 in the same order and with the same fusing as torch's CPU
// kernels; the scalars are formed in double first, as in Python (see optim-scalar.h).
// sgd_step_check runs the same loop without storing (see NonFiniteAcc in optim-scalar.h).
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
struct SgdConsts {
    float neg_lr, wd_f, mom_f, damp_f, sign;
    bool use_wd, use_momentum, first, nesterov;
};
SgdConsts sgd_consts(const SgdParams & hp, bool has_buf, int64_t step) {
    const double lr = hyper_double(hp.lr);
    const double momentum = hyper_double(hp.momentum);
    const double dampening = hyper_double(hp.dampening);
    const double wd = hyper_double(hp.weight_decay);
    SgdConsts c;
    c.neg_lr = (float)(-lr);                  // param.add_(d_p, alpha=-lr)
    c.wd_f = (float)wd;                       // d_p.add(param, alpha=weight_decay)
    c.mom_f = (float)momentum;                // buf.mul_(momentum), d_p.add(buf, alpha=momentum)
    c.damp_f = (float)(1.0 - dampening);      // .add_(d_p, alpha=1 - dampening)
    c.sign = hp.maximize ? -1.f : 1.f;
    c.use_wd = wd != 0.0;
    c.use_momentum = momentum != 0.0 && has_buf;
    c.first = step <= 1;
    c.nesterov = hp.nesterov;
    return c;
}

// The one loop body of sgd_step (Store: writes) and sgd_step_check (!Store: computes, writes
// nothing, and notes max |p|, |buf| in `stats`).
template <bool Store>
NL_OPTIM_INLINE unsigned sgd_loop(float * __restrict p, const float * __restrict g, float * __restrict buf, size_t count,
                                  const SgdParams & hp, int64_t step, StepStats * stats) {
    const SgdConsts c = sgd_consts(hp, buf != nullptr, step);
    const float neg_lr = c.neg_lr, wd_f = c.wd_f, mom_f = c.mom_f, damp_f = c.damp_f, sign = c.sign;
    const bool use_wd = c.use_wd, use_momentum = c.use_momentum, first = c.first, nesterov = c.nesterov;

    NonFiniteAcc acc;
    StatAcc st;
    for (size_t i = 0; i < count; i++) {
        float d = sign * g[i];
        if (use_wd) d = fma_f(wd_f, p[i], d);
        if (use_momentum) {
            float b = first ? d : fma_f(damp_f, d, buf[i] * mom_f);
            if (Store) {
                buf[i] = b;
            } else {
                acc.state(b);
                st.note<1>(b);
            }
            d = nesterov ? fma_f(mom_f, b, d) : b;
        }
        const float pn = fma_f(neg_lr, d, p[i]);
        if (Store) {
            p[i] = pn;
        } else {
            acc.weights(pn);
            st.note<0>(pn);
        }
    }
    if (!Store) st.store(stats, 1u | (use_momentum ? 2u : 0u), 0u);
    return acc.bits();
}
} // namespace

NL_VECTOR_CLONES
void sgd_step(float * __restrict p, const float * __restrict g, float * __restrict buf, size_t count,
              const SgdParams & hp, int64_t step) {
    sgd_loop<true>(p, g, buf, count, hp, step, nullptr);
}

NL_VECTOR_CLONES
unsigned sgd_step_check(const float * p, const float * g, const float * buf, size_t count, const SgdParams & hp, int64_t step,
                        StepStats * stats) {
    return sgd_loop<false>(const_cast<float *>(p), g, const_cast<float *>(buf), count, hp, step, stats);
}

unsigned sgd_step_check(const float * p, const float * g, const float * buf, size_t count, const SgdParams & hp, int64_t step) {
    return sgd_step_check(p, g, buf, count, hp, step, nullptr);
}

// The bound, following the loop with G = max|g|, P = max|p|, B = max|buf| (B only when the loop
// reads buf: momentum after step 1):
//   d   = sign*g + wd*p                         |d|   <= D  = G + |wd| P
//   b   = first ? d : (1-damp)*d + mom*buf      |b|   <= Bn = first ? D : |1-damp| D + |mom| B
//   d'  = nesterov ? d + mom*b : b (momentum)   |d'|  <= D2 = nesterov ? D + |mom| Bn : Bn   (else D2 = D)
//   p'  = p - lr*d'                             |p'|  <= P + |lr| D2
// Every intermediate (the products too) is bounded by one of these sums, so all of them within
// kBoundLimit means nothing the loop computes, and nothing it stores, overflows.
bool sgd_step_bounded(const SgdParams & hp, bool has_buf, int64_t step, const StepBounds & b, StepBounds * after) {
    const SgdConsts c = sgd_consts(hp, has_buf, step);
    const double G = b.grad, P = b.param;
    if (!(G >= 0) || !(P >= 0)) return false;
    const double D = G + (c.use_wd ? std::fabs((double)c.wd_f) * P : 0.0);
    double D2 = D, Bn = -1;
    bool ok = within(D);
    if (c.use_momentum) {
        Bn = D;
        if (!c.first) {
            const double B = b.state[0];
            if (!(B >= 0)) return false;
            const double mb = std::fabs((double)c.mom_f) * B;
            Bn = std::fabs((double)c.damp_f) * D + mb;
            ok = ok && within(mb);
        }
        D2 = c.nesterov ? D + std::fabs((double)c.mom_f) * Bn : Bn;
        ok = ok && within(Bn) && within(D2);
    }
    const double Pn = P + std::fabs((double)c.neg_lr) * D2;
    if (!ok || !within(Pn)) return false;
    if (after) {
        *after = b;
        after->param = rounded_up(Pn);
        if (c.use_momentum) after->state[0] = rounded_up(Bn), after->state_nonneg[0] = false;
    }
    return true;
}

} // namespace nl
