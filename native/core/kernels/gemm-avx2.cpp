// AVX2+FMA back end of sgemm: 6x16 micro-kernel (12 ymm accumulators), 8x8 in-register
// transpose for packing B^T. Only functions marked NL_AVX2 use the instructions; the driver calls
// them only when CPUID reports avx2 and fma.
#include "gemm-impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace nl {

#define NL_AVX2 __attribute__((target("avx2,fma")))

static const int NL_256_MR = 6;
static const int NL_256_NV = 2;
static const int NL_256_NR = NL_256_NV * 8;

// lane mask for the first n (0..8) floats: load 8 ints from nl_mask8 + 8 - n
alignas(64) static const int nl_mask8[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// micro-kernel: C[MR, NV*8] = alpha * A[MR, kc] * Bp[kc, NV*8] + beta * C   (see gemm-avx512.cpp)
template <int MR, int NV, bool AP>
NL_AVX2 static void nl_k256(int kc, const float * a, int64_t lda, const float * b, float * c, int64_t ldc, float alpha,
                            float beta, int tail) {
    __m256 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[r][v] = _mm256_setzero_ps();
    const float * ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) ar[r] = AP ? a + r : a + r * lda;
    const int64_t astep = AP ? NL_256_MR : 1;

#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        __m256 bv[NV];
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) bv[v] = _mm256_load_ps(b + v * 8);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m256 av = _mm256_broadcast_ss(ar[r] + (int64_t)k * astep);
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
        }
        b += NV * 8;
    }

    const __m256 va = _mm256_set1_ps(alpha);
    const __m256i ml = _mm256_loadu_si256((const __m256i *)(nl_mask8 + 8 - tail));
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        float * cr = c + r * ldc;
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            __m256 x = _mm256_mul_ps(va, acc[r][v]);
            if (v < NV - 1 || tail == 8) {
                if (beta != 0.f) x = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(cr + v * 8), x);
                _mm256_storeu_ps(cr + v * 8, x);
            } else {
                if (beta != 0.f) x = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_maskload_ps(cr + v * 8, ml), x);
                _mm256_maskstore_ps(cr + v * 8, ml, x);
            }
        }
    }
}

typedef void (*nl_k256_fn)(int, const float *, int64_t, const float *, float *, int64_t, float, float, int);

template <int MR, bool AP> struct nl_k256_row {
    static constexpr nl_k256_fn fns[NL_256_NV] = {nl_k256<MR, 1, AP>, nl_k256<MR, 2, AP>};
};
template <int MR, bool AP> constexpr nl_k256_fn nl_k256_row<MR, AP>::fns[NL_256_NV];

static const nl_k256_fn * const nl_k256_table[2][NL_256_MR] = {
    {nl_k256_row<1, false>::fns, nl_k256_row<2, false>::fns, nl_k256_row<3, false>::fns,
     nl_k256_row<4, false>::fns, nl_k256_row<5, false>::fns, nl_k256_row<6, false>::fns},
    {nl_k256_row<1, true>::fns, nl_k256_row<2, true>::fns, nl_k256_row<3, true>::fns,
     nl_k256_row<4, true>::fns, nl_k256_row<5, true>::fns, nl_k256_row<6, true>::fns},
};

NL_AVX2 static void nl_macro256(const nl_gemm_macro_args * g) {
    const int kc = g->kc, nc = g->nc;
    const int np = (nc + NL_256_NR - 1) / NL_256_NR;
    for (int64_t i0 = 0; i0 < g->m; i0 += NL_256_MR) {
        const int mr = (int)(g->m - i0 < NL_256_MR ? g->m - i0 : NL_256_MR);
        const float * a;
        int64_t lda = g->lda;
        if (g->trans_a) {
            const float * src = g->A + i0;
            float * dst = g->Ap;
            for (int k = 0; k < kc; k++)
                for (int r = 0; r < mr; r++) dst[k * NL_256_MR + r] = src[(int64_t)k * lda + r];
            a = g->Ap;
        } else {
            a = g->A + (int64_t)i0 * lda;
        }
        const nl_k256_fn * fns = nl_k256_table[g->trans_a ? 1 : 0][mr - 1];
        float * crow = g->C + (int64_t)i0 * g->ldc;
        for (int p = 0; p < np; p++) {
            const int j0 = p * NL_256_NR;
            const int cols = nc - j0 < NL_256_NR ? nc - j0 : NL_256_NR;
            const int nv = (cols + 7) >> 3;
            const int tail = cols - (nv - 1) * 8; // 1..8 columns in the last vector
            fns[nv - 1](kc, a, lda, g->Bp + (int64_t)j0 * kc, crow + j0, g->ldc, g->alpha, g->beta, tail);
        }
    }
}

// 8x8 transpose of r[0..7] in place.
NL_AVX2 static inline void nl_tr8(__m256 r[8]) {
    __m256 t[8], s[8];
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
#pragma GCC unroll 2
    for (int g = 0; g < 2; g++) {
        s[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        s[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        s[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        s[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        r[q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x20);
        r[4 + q] = _mm256_permute2f128_ps(s[q], s[4 + q], 0x31);
    }
}

NL_AVX2 static void nl_pack_b256(bool trans_b, const float * B, int64_t ldb, int64_t k0, int kc, int64_t n0, int nc,
                                 float * Bp) {
    for (int j0 = 0; j0 < nc; j0 += NL_256_NR) {
        const int cols = nc - j0 < NL_256_NR ? nc - j0 : NL_256_NR;
        const int w = (cols + 7) & ~7;
        float * dst = Bp + (int64_t)j0 * kc;
        if (!trans_b) {
            const float * src = B + (int64_t)k0 * ldb + n0 + j0;
            const int nfull = cols >> 3, tail = cols & 7;
            const __m256i ml = _mm256_loadu_si256((const __m256i *)(nl_mask8 + 8 - tail));
            for (int k = 0; k < kc; k++) {
                const float * s = src + (int64_t)k * ldb;
                float * d = dst + (int64_t)k * w;
                int v = 0;
                for (; v < nfull; v++) _mm256_store_ps(d + v * 8, _mm256_loadu_ps(s + v * 8));
                if (tail) _mm256_store_ps(d + v * 8, _mm256_maskload_ps(s + v * 8, ml));
            }
        } else {
            for (int jb = 0; jb < w; jb += 8) {
                const int jn = cols - jb < 8 ? cols - jb : 8;
                const float * src = B + (int64_t)(n0 + j0 + jb) * ldb + k0;
                for (int kb = 0; kb < kc; kb += 8) {
                    const int kn = kc - kb < 8 ? kc - kb : 8;
                    const __m256i mk = _mm256_loadu_si256((const __m256i *)(nl_mask8 + 8 - kn));
                    __m256 r[8];
#pragma GCC unroll 8
                    for (int i = 0; i < 8; i++)
                        r[i] = i < jn ? _mm256_maskload_ps(src + (int64_t)i * ldb + kb, mk) : _mm256_setzero_ps();
                    nl_tr8(r);
                    float * d = dst + (int64_t)kb * w + jb;
                    for (int i = 0; i < kn; i++) _mm256_store_ps(d + (int64_t)i * w, r[i]);
                }
            }
        }
    }
}

const nl_gemm_backend nl_gemm_backend_avx2 = {NL_256_MR, NL_256_NR, 8, nl_pack_b256, nl_macro256};

} // namespace nl

#endif // __x86_64__
