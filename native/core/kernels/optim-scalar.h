// Shared by sgd.cpp and adam.cpp (internal to the kernels; not part of kernels.h).
//
// Matching torch.optim to the ulp needs two things beyond the formulas:
//
// 1. Hyperparameters as Python doubles. torch keeps lr, betas, eps, ... as Python floats (double)
//    and forms 1 - beta1, lr / bias_correction1, 1 - lr*wd in double before each tensor op
//    rounds them to float32. Our *Params structs hold float32, and beta2 = 0.999f is really
//    0.99900001287..., so 1 - beta2 would be off by 1.3e-5 relative: far beyond an ulp.
//    hyper_double() recovers the double the user meant: the shortest decimal that round-trips
//    to the float ("0.999"), as the nearest double. Any float that came from a decimal with <= 7
//    significant digits (every value typed in the UI) comes back exactly; anything else comes
//    back within half a float ulp, which is all the float could carry anyway.
//
// 2. torch's CPU kernels (AVX2 build): `a.add(b, alpha=s)` is fma(s, b, a) and
//    `v.addcmul_(g, g, value=s)` is fma(s*g, g, v) (measured against torch 1.13). fma_f() gives the
//    fused result without needing FMA hardware or -mfma: the product of two floats is exact in
//    double, so only the final rounding remains (a double rounding differs from a true fma with
//    probability ~2^-29, never seen in the tests). It vectorizes with plain SSE2.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

// Keep the compiler from contracting a*b+c into an fma on FMA-baseline targets (arm64): the
// separate roundings are part of what is being replicated.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// The optimizer loops are pure elementwise float work over every parameter each step; compiled
// for the x86-64 baseline they get 4-wide SSE only. target_clones builds AVX-512 and AVX2 copies
// too and picks one at load time (the arithmetic, and so the rounding, is the same in each).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NL_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NL_VECTOR_CLONES
#endif

namespace nl {
namespace optim_detail {

// Exact powers of ten (every one up to 1e22 is representable in double).
static const double kPow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// The double nearest to the shortest decimal (1 to 9 significant digits) that rounds back to f.
// Done arithmetically, not with strtod (locale-dependent) or from_chars (missing from older
// libc++): M / 10^k with exact 10^k is one correctly rounded division, which is exactly what
// parsing "M e-k" gives.
inline double hyper_double(float f) {
    const double d = f;
    if (!std::isfinite(d) || d == 0.0) return d;
    const int e = (int)std::floor(std::log10(std::fabs(d)));   // decimal exponent of the leading digit
    for (int p = 1; p <= 9; p++) {
        const int k = p - 1 - e;                               // candidate = M * 10^-k, p digits in M
        if (k > 22 || k < -22) break;
        const double cand = k >= 0 ? std::nearbyint(d * kPow10[k]) / kPow10[k]
                                   : std::nearbyint(d / kPow10[-k]) * kPow10[-k];
        if ((float)cand == f) return cand;
    }
    return d;   // |f| < ~1e-14: keep the float's own value
}

// fma(a, b, c) rounded once to float (see 2. above).
static inline float fma_f(float a, float b, float c) {
    return (float)((double)a * (double)b + (double)c);
}

// Each step kernel has one loop body, templated on Store: with Store it writes the new parameter
// and state values; without it, it computes exactly the same values (the same operations in the
// same order) and only notes which would be non-finite, writing nothing (the *_step_check
// functions the runtime runs before it applies a step). A NonFiniteAcc gathers the bits of
// StepNonFinite (kernels.h) branch-free, so the check loop vectorizes like the step's.
struct NonFiniteAcc {
    // On the float's bits, so it vectorizes as plain integer SIMD: a = |x|'s bits; a + 2^23 carries
    // into bit 31 exactly when the exponent is all ones (inf or NaN); 0x7f800000 - a borrows into
    // bit 31 exactly when a > inf's bits (NaN). Bit 31 of each accumulator says whether any did.
    uint32_t weights_bad = 0, weights_nan = 0, state_bad = 0, state_nan = 0;
    static uint32_t abs_bits(float x) {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        return u & 0x7fffffffu;
    }
    void weights(float x) {
        const uint32_t a = abs_bits(x);
        weights_bad |= a + 0x00800000u;
        weights_nan |= 0x7f800000u - a;
    }
    void state(float x) {
        const uint32_t a = abs_bits(x);
        state_bad |= a + 0x00800000u;
        state_nan |= 0x7f800000u - a;
    }
    unsigned bits() const {
        return (weights_bad >> 31 ? 1u : 0u) | (weights_nan >> 31 ? 2u : 0u) | (state_bad >> 31 ? 4u : 0u) | (state_nan >> 31 ? 8u : 0u);
    }
};

// The exact check's side of the bound (StepStats, kernels.h): for each buffer the step writes (slot 0 the
// parameter, 1.. the state in argument order), the max of |x|'s bits (positive floats order as
// their bits, so this is max |x|, and NaN would exceed inf's bits): note(). For a state whose bound
// needs it non-negative, the max of x's raw bits (a negative x has bit 31 set, so it shows as a
// max above every finite non-negative): note_raw(). An integer and+max, or a max, on values already
// in registers: it vectorizes with the loop.
struct StatAcc {
    uint32_t mx[4] = {0, 0, 0, 0};
    template <int K> void note(float x) {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        u &= 0x7fffffffu;
        mx[K] = mx[K] > u ? mx[K] : u;
    }
    template <int K> void note_raw(float x) {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        mx[K] = mx[K] > u ? mx[K] : u;
    }
    void store(StepStats * out, unsigned written, unsigned raw) const {
        if (!out) return;
        out->written = written;
        out->raw = raw;
        for (int k = 0; k < 4; k++) out->max_bits[k] = mx[k];
    }
};

// The bound's arithmetic (the *_step_bounded functions): bounds on |value| are formed in double
// from max-abs inputs and the float32 constants the loop uses, ignoring float rounding; every bound
// must stay <= kBoundLimit = FLT_MAX / 4. Each float operation of a loop rounds its exact result by
// a factor of at most (1 + 2^-24), and a loop does at most ~12 of them in a chain, so a value whose
// exact-arithmetic bound is FLT_MAX / 4 is computed below FLT_MAX / 3.99: finite, with room to spare.
// A NaN bound (inf * 0 from a huge constant and a zero maximum) fails the test, as it should.
constexpr double kBoundLimit = 3.4028234663852886e38 / 4;
inline bool within(double bound) { return bound <= kBoundLimit; }   // false for NaN
// A bound handed on as the next step's input (the *_step_bounded `after`) must cover the rounded
// value the loop stores, not just the exact-arithmetic one: (1 + 2^-24)^12 < 1 + 2^-20. Handed on
// step after step it grows by that factor each time; when it nears the limit the bound fails once,
// the exact check runs and measures the true maxima again.
inline double rounded_up(double bound) { return bound * (1.0 + 0x1p-20); }

#if defined(__GNUC__)
#define NL_OPTIM_INLINE inline __attribute__((always_inline))
#else
#define NL_OPTIM_INLINE inline
#endif

} // namespace optim_detail
} // namespace nl
