// Single-precision GEMM: the hot path of every Linear (and, later, im2col convolution) layer.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C[M,N]      all matrices row-major
//   op(A) = trans_a ? A^T : A   (A is stored [K,M] with lda >= M when transposed, else [M,K] with lda >= K)
//   op(B) = trans_b ? B^T : B   (B is stored [N,K] with ldb >= K when transposed, else [K,N] with ldb >= N)
//   beta == 0 means C is written without being read (it may hold NaN garbage).
//
// Implementation: panels of A and B are packed into cache-sized blocks and multiplied by a
// register-blocked micro-kernel; the variant (AVX-512, AVX2+FMA, portable) is chosen once at run
// time from CPUID, so one binary runs everywhere. Work is split over the pool's threads.
#pragma once
#include <cstdint>
#include "threadpool.h"

namespace nl {

enum class SimdLevel { Portable = 0, AVX2 = 1, AVX512 = 2 };

SimdLevel simd_detect();                 // what this CPU supports (cached after the first call)
const char * simd_name(SimdLevel level); // "avx512", "avx2", "portable"
// Forces a level (tests use this to check every variant against the reference). Returns false,
// changing nothing, if the CPU lacks the level.
bool simd_force(SimdLevel level);
SimdLevel simd_active();

// Sizes and leading dimensions are 64-bit: a matrix may hold more than 2^31 values (a batch of
// large activations), and every offset inside is computed in 64 bits.
void sgemm(ThreadPool * pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
           float alpha, const float * A, int64_t lda, const float * B, int64_t ldb,
           float beta, float * C, int64_t ldc);

} // namespace nl
