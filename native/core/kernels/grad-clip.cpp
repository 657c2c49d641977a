// Helpers for torch.nn.utils.clip_grad_norm_ (norm_type 2), which the engine composes as
//   total = sqrt(sum over parameters of sum_squares(grad)),  coef = max_norm / (total + 1e-6),
//   if coef < 1: scale_inplace(grad, coef) for every parameter.
// torch forms the norm in float32 (norm of per-tensor norms); the sum here is in double, so `total`
// can differ from torch's in the last float bits.
#include "kernels.h"
#include <cstdint>
#include <cstring>
#include "gemm.h"
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace nl {

// sum of g[i]^2 over count values, in double
double sum_squares(const float * g, size_t count) {
    // Four partial sums: independent dependency chains (vectorizable) and no loss of accuracy in double.
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
        const double a = g[i], b = g[i + 1], c = g[i + 2], d = g[i + 3];
        s0 += a * a;
        s1 += b * b;
        s2 += c * c;
        s3 += d * d;
    }
    for (; i < count; i++) s0 += (double)g[i] * g[i];
    return (s0 + s1) + (s2 + s3);
}

// true when every x[i] is finite. x - x is +0 for a finite x and NaN for inf or NaN, so OR-ing the
// bits of x - x over the array is zero exactly when all values are finite: two vector operations
// per load and no early exit (one streaming read of the gradients, which the runtime makes before
// every optimizer step). AVX2 where the CPU has it (simd_detect), else what the compiler makes of
// the portable loop.
#if defined(__x86_64__) || defined(_M_X64)
__attribute__((target("avx2"))) static bool all_finite_avx2(const float * x, size_t count) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8), v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        a0 = _mm256_or_ps(a0, _mm256_sub_ps(v0, v0));
        a1 = _mm256_or_ps(a1, _mm256_sub_ps(v1, v1));
        a2 = _mm256_or_ps(a2, _mm256_sub_ps(v2, v2));
        a3 = _mm256_or_ps(a3, _mm256_sub_ps(v3, v3));
    }
    __m256i acc = _mm256_castps_si256(_mm256_or_ps(_mm256_or_ps(a0, a1), _mm256_or_ps(a2, a3)));
    uint32_t tail = 0;
    for (; i < count; i++) {
        float d = x[i] - x[i];
        uint32_t u;
        std::memcpy(&u, &d, 4);
        tail |= u;
    }
    return _mm256_testz_si256(acc, acc) && tail == 0;
}
#endif

bool all_finite(const float * x, size_t count) {
#if defined(__x86_64__) || defined(_M_X64)
    static const bool avx2 = simd_detect() != SimdLevel::Portable;
    if (avx2) return all_finite_avx2(x, count);
#endif
    const uint32_t * u = reinterpret_cast<const uint32_t *>(x);
    uint32_t bad = 0;
    for (size_t i = 0; i < count; i++) bad |= (uint32_t)((u[i] & 0x7f800000u) == 0x7f800000u);
    return bad == 0;
}

// max |x[i]| as bits: the sign bit masked off, then an unsigned max (AVX2: vpand + vpmaxud per 8
// values, the same two operations per load as all_finite's).
#if defined(__x86_64__) || defined(_M_X64)
__attribute__((target("avx2"))) static uint32_t max_abs_bits_avx2(const float * x, size_t count) {
    const __m256i mask = _mm256_set1_epi32(0x7fffffff);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        a0 = _mm256_max_epu32(a0, _mm256_and_si256(mask, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + i))));
        a1 = _mm256_max_epu32(a1, _mm256_and_si256(mask, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + i + 8))));
        a2 = _mm256_max_epu32(a2, _mm256_and_si256(mask, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + i + 16))));
        a3 = _mm256_max_epu32(a3, _mm256_and_si256(mask, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(x + i + 24))));
    }
    const __m256i a = _mm256_max_epu32(_mm256_max_epu32(a0, a1), _mm256_max_epu32(a2, a3));
    alignas(32) uint32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), a);
    uint32_t m = 0;
    for (uint32_t l : lanes) m = m > l ? m : l;
    for (; i < count; i++) {
        uint32_t u;
        std::memcpy(&u, x + i, 4);
        u &= 0x7fffffffu;
        m = m > u ? m : u;
    }
    return m;
}
#endif

uint32_t max_abs_bits(const float * x, size_t count) {
#if defined(__x86_64__) || defined(_M_X64)
    static const bool avx2 = simd_detect() != SimdLevel::Portable;
    if (avx2) return max_abs_bits_avx2(x, count);
#endif
    uint32_t m = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        std::memcpy(&u, x + i, 4);
        u &= 0x7fffffffu;
        m = m > u ? m : u;
    }
    return m;
}

// g[i] *= s   (torch: g.mul_(clip_coef_clamped), a float32 multiply)
void scale_inplace(float * g, size_t count, float s) {
    for (size_t i = 0; i < count; i++) g[i] *= s;
}

} // namespace nl
