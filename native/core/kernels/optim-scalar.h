// Shared by sgd.cpp and adam.cpp (internal to the kernels; not part of kernels.h).
//
// Matching torch.optim to the ulp needs two things beyond the formulas:
//
// 1. Hyperparameters as Python doubles. torch keeps lr, betas, eps, ... as Python floats (double)
//    and forms 1 - beta1, lr / bias_correction1, 1 - lr*wd in double before each tensor op
//    rounds them to float32. Our *Params structs hold float32, and beta2 = 0.999f is really
//    0.99900001287..., so 1 - beta2 would be off by 1.3e-5 relative: far beyond an ulp.
//    hyper_double() recovers the double the user meant: the shortest decimal that round-trips
//    to the float ("0.999"), parsed as a double. Any float that came from a decimal with <= 7
//    significant digits (every value typed in the UI) comes back exactly; anything else comes
//    back within half a float ulp, which is all the float could carry anyway.
//
// 2. torch's CPU kernels (AVX2 build): `a.add(b, alpha=s)` is fma(s, b, a) and
//    `v.addcmul_(g, g, value=s)` is fma(s*g, g, v) (measured against torch 1.13). fma_f() gives the
//    fused result without needing FMA hardware or -mfma: the product of two floats is exact in
//    double, so only the final rounding remains (a double rounding differs from a true fma with
//    probability ~2^-29, never seen in the tests). It vectorizes with plain SSE2.
#pragma once
#include <charconv>
#include <cmath>
#include <cstdint>

// Keep the compiler from contracting a*b+c into an fma on FMA-baseline targets (arm64): the
// separate roundings are part of what is being replicated.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace nl {
namespace optim_detail {

inline double hyper_double(float f) {
    if (!std::isfinite(f) || f == 0.f) return (double)f;
    char buf[32];
    std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, f);   // shortest round-trip form
    if (r.ec != std::errc()) return (double)f;
    double d = 0.0;
    std::from_chars_result p = std::from_chars(buf, r.ptr, d);
    if (p.ec != std::errc() || (float)d != f) return (double)f;
    return d;
}

// fma(a, b, c) rounded once to float (see 2. above).
static inline float fma_f(float a, float b, float c) {
    return (float)((double)a * (double)b + (double)c);
}

} // namespace optim_detail
} // namespace nl
