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

namespace nl {

using optim_detail::fma_f;
using optim_detail::hyper_double;
using optim_detail::NonFiniteAcc;

namespace {
// The one loop body of sgd_step (Store) and sgd_step_check (!Store: computes, writes nothing).
template <bool Store>
NL_OPTIM_INLINE unsigned sgd_loop(float * __restrict p, const float * __restrict g, float * __restrict buf, size_t count,
                                  const SgdParams & hp, int64_t step) {
    const double lr = hyper_double(hp.lr);
    const double momentum = hyper_double(hp.momentum);
    const double dampening = hyper_double(hp.dampening);
    const double wd = hyper_double(hp.weight_decay);

    // float32 scalars, exactly as each tensor op receives them
    const float neg_lr = (float)(-lr);                 // param.add_(d_p, alpha=-lr)
    const float wd_f = (float)wd;                      // d_p.add(param, alpha=weight_decay)
    const float mom_f = (float)momentum;               // buf.mul_(momentum), d_p.add(buf, alpha=momentum)
    const float damp_f = (float)(1.0 - dampening);     // .add_(d_p, alpha=1 - dampening)
    const float sign = hp.maximize ? -1.f : 1.f;
    const bool use_wd = wd != 0.0;
    const bool use_momentum = momentum != 0.0 && buf != nullptr;
    const bool first = step <= 1;
    const bool nesterov = hp.nesterov;

    NonFiniteAcc acc;
    for (size_t i = 0; i < count; i++) {
        float d = sign * g[i];
        if (use_wd) d = fma_f(wd_f, p[i], d);
        if (use_momentum) {
            float b = first ? d : fma_f(damp_f, d, buf[i] * mom_f);
            if (Store) buf[i] = b;
            else acc.state(b);
            d = nesterov ? fma_f(mom_f, b, d) : b;
        }
        const float pn = fma_f(neg_lr, d, p[i]);
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    return acc.bits();
}
} // namespace

NL_VECTOR_CLONES
void sgd_step(float * __restrict p, const float * __restrict g, float * __restrict buf, size_t count,
              const SgdParams & hp, int64_t step) {
    sgd_loop<true>(p, g, buf, count, hp, step);
}

NL_VECTOR_CLONES
unsigned sgd_step_check(const float * p, const float * g, const float * buf, size_t count, const SgdParams & hp, int64_t step) {
    return sgd_loop<false>(const_cast<float *>(p), g, const_cast<float *>(buf), count, hp, step);
}

} // namespace nl
