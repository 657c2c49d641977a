// Placeholder reference GEMM (correct, slow). The packed SIMD version replaces it.
#include "gemm.h"

namespace nl {

SimdLevel simd_detect() { return SimdLevel::Portable; }
const char * simd_name(SimdLevel l) {
    return l == SimdLevel::AVX512 ? "avx512" : l == SimdLevel::AVX2 ? "avx2" : "portable";
}
bool simd_force(SimdLevel l) { return l == SimdLevel::Portable; }
SimdLevel simd_active() { return SimdLevel::Portable; }

void sgemm(ThreadPool * pool, bool ta, bool tb, int M, int N, int K, float alpha, const float * A, int lda,
           const float * B, int ldb, float beta, float * C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0.f;
            for (int k = 0; k < K; k++) {
                float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float & c = C[(size_t)i * ldc + j];
            c = beta == 0.f ? alpha * acc : alpha * acc + beta * c;
        }
}

} // namespace nl
