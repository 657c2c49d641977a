// The CPU's per-element optimizer arithmetic (native/core/kernels/optim-scalar.h), as
// __host__ __device__ code: the same hyper_double (the double the user typed, recovered from the
// float), the same fma_f (a product exact in double, one rounding to float) and the same
// NonFiniteAcc bit tricks, so a CUDA optimizer step stores what the CPU's stores, bit for bit.
// The step's scalars are formed on the device because lr, momentum and the step counter come
// from DeviceStep (cuda-args.h) and change between replays of a captured graph.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace nl {
namespace cuda_detail {

// 10^k for 0 <= k <= 22, exactly: every partial product is an integer <= 1e22, which double
// represents exactly (the CPU's kPow10 table, without a table in device memory).
__host__ __device__ inline double pow10_exact(int k) {
    double r = 1.0;
    for (int i = 0; i < k; i++) r *= 10.0;
    return r;
}

// See optim-scalar.h: the double nearest to the shortest decimal (1 to 9 digits) that rounds back
// to f. If log10 lands one below an exact power of ten, the first candidate has one digit more
// but the same value, so the result does not depend on the last bit of log10.
__host__ __device__ inline double hyper_double(float f) {
    const double d = f;
    if (!isfinite(d) || d == 0.0) return d;
    const int e = (int)floor(log10(fabs(d)));
    for (int p = 1; p <= 9; p++) {
        const int k = p - 1 - e;
        if (k > 22 || k < -22) break;
        const double cand = k >= 0 ? nearbyint(d * pow10_exact(k)) / pow10_exact(k) : nearbyint(d / pow10_exact(-k)) * pow10_exact(-k);
        if ((float)cand == f) return cand;
    }
    return d;
}

// fma(a, b, c) rounded once to float, as the CPU computes it: the double product is exact, so
// a contracted or separate double a*b + c is the same value.
__host__ __device__ __forceinline__ float fma_f(float a, float b, float c) { return (float)((double)a * (double)b + (double)c); }

// The StepNonFinite bits (kernels.h) of the values a step would write (optim-scalar.h's NonFiniteAcc).
struct NonFiniteAccD {
    uint32_t weights_bad = 0, weights_nan = 0, state_bad = 0, state_nan = 0;
    __device__ __forceinline__ void weights(float x) {
        const uint32_t a = __float_as_uint(x) & 0x7fffffffu;
        weights_bad |= a + 0x00800000u;
        weights_nan |= 0x7f800000u - a;
    }
    __device__ __forceinline__ void state(float x) {
        const uint32_t a = __float_as_uint(x) & 0x7fffffffu;
        state_bad |= a + 0x00800000u;
        state_nan |= 0x7f800000u - a;
    }
    __device__ __forceinline__ unsigned bits() const {
        return (weights_bad >> 31 ? 1u : 0u) | (weights_nan >> 31 ? 2u : 0u) | (state_bad >> 31 ? 4u : 0u) | (state_nan >> 31 ? 8u : 0u);
    }
};

} // namespace cuda_detail
} // namespace nl
