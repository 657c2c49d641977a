// AVX-512 back end of sgemm: 6x64 micro-kernel (24 zmm accumulators, FMA with embedded
// broadcast of A), 16x16 in-register transpose for packing B^T. Compiled for a generic x86-64
// target; only functions marked NL_AVX512 use the instructions, and the driver calls them only
// when CPUID reports avx512f/vl/bw/dq and fma.
#include "gemm-impl.h"

#if defined(__x86_64__)
#include <immintrin.h>

// GCC 12 reports its own _mm512_undefined_ps() inside the shuffle intrinsics as "may be used
// uninitialized" (a known false positive); nothing here reads an undefined value.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nl {

#define NL_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,avx2")))

static const int NL_512_MR = 6;  // micro-tile rows
static const int NL_512_NV = 4;  // micro-tile width in zmm vectors
static const int NL_512_NR = NL_512_NV * 16;

// ----------------------------------------------------------------------------------------------
// micro-kernel: C[MR, NV*16] = alpha * A[MR, kc] * Bp[kc, NV*16] + beta * C
//   AP=true:  A packed [kc][NL_512_MR]    AP=false: A in place, row r at a + r*lda
//   b: packed panel [kc][NV*16], 64-byte aligned.  last: column mask of the last vector.
template <int MR, int NV, bool AP>
NL_AVX512 static void nl_k512(int kc, const float * a, int64_t lda, const float * b, float * c, int64_t ldc,
                              float alpha, float beta, __mmask16 last) {
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();

    const float * ar[MR];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) ar[r] = AP ? a + r : a + r * lda;
    const int64_t astep = AP ? NL_512_MR : 1;

#pragma GCC unroll 2
    for (int k = 0; k < kc; k++) {
        __m512 bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bv[v] = _mm512_load_ps(b + v * 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(ar[r][(int64_t)k * astep]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
        }
        b += NV * 16;
    }

    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.f) {
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            float * cr = c + r * ldc;
#pragma GCC unroll 4
            for (int v = 0; v < NV - 1; v++) _mm512_storeu_ps(cr + v * 16, _mm512_mul_ps(va, acc[r][v]));
            _mm512_mask_storeu_ps(cr + (NV - 1) * 16, last, _mm512_mul_ps(va, acc[r][NV - 1]));
        }
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            float * cr = c + r * ldc;
#pragma GCC unroll 4
            for (int v = 0; v < NV - 1; v++) {
                __m512 x = _mm512_mul_ps(vb, _mm512_loadu_ps(cr + v * 16));
                _mm512_storeu_ps(cr + v * 16, _mm512_fmadd_ps(va, acc[r][v], x));
            }
            __m512 x = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(last, cr + (NV - 1) * 16));
            _mm512_mask_storeu_ps(cr + (NV - 1) * 16, last, _mm512_fmadd_ps(va, acc[r][NV - 1], x));
        }
    }
}

typedef void (*nl_k512_fn)(int, const float *, int64_t, const float *, float *, int64_t, float, float, __mmask16);

template <int MR, bool AP> struct nl_k512_row {
    static constexpr nl_k512_fn fns[NL_512_NV] = {nl_k512<MR, 1, AP>, nl_k512<MR, 2, AP>, nl_k512<MR, 3, AP>,
                                                  nl_k512<MR, 4, AP>};
};
template <int MR, bool AP> constexpr nl_k512_fn nl_k512_row<MR, AP>::fns[NL_512_NV];

// [AP][mr - 1][nv - 1]
static const nl_k512_fn * const nl_k512_table[2][NL_512_MR] = {
    {nl_k512_row<1, false>::fns, nl_k512_row<2, false>::fns, nl_k512_row<3, false>::fns,
     nl_k512_row<4, false>::fns, nl_k512_row<5, false>::fns, nl_k512_row<6, false>::fns},
    {nl_k512_row<1, true>::fns, nl_k512_row<2, true>::fns, nl_k512_row<3, true>::fns,
     nl_k512_row<4, true>::fns, nl_k512_row<5, true>::fns, nl_k512_row<6, true>::fns},
};

// ----------------------------------------------------------------------------------------------
// macro-kernel: all row blocks of the task against all panels of the packed B block.
// Loop order: row block outer (its A panel stays in L1), panels inner (the B block sits in L2).
NL_AVX512 static void nl_macro512(const nl_gemm_macro_args * g) {
    const int kc = g->kc, nc = g->nc;
    const int np = (nc + NL_512_NR - 1) / NL_512_NR;
    for (int64_t i0 = 0; i0 < g->m; i0 += NL_512_MR) {
        const int mr = (int)(g->m - i0 < NL_512_MR ? g->m - i0 : NL_512_MR);
        const float * a;
        int64_t lda = g->lda;
        if (g->trans_a) {
            // A^T block: rows i0..i0+mr of op(A) are mr contiguous floats at each k
            const __mmask16 mm = (__mmask16)((1u << mr) - 1);
            const float * src = g->A + i0;
            float * dst = g->Ap;
            for (int k = 0; k < kc; k++)
                _mm512_mask_storeu_ps(dst + k * NL_512_MR, mm, _mm512_maskz_loadu_ps(mm, src + (int64_t)k * lda));
            a = g->Ap;
        } else {
            a = g->A + (int64_t)i0 * lda;
        }
        const nl_k512_fn * fns = nl_k512_table[g->trans_a ? 1 : 0][mr - 1];
        float * crow = g->C + (int64_t)i0 * g->ldc;
        for (int p = 0; p < np; p++) {
            const int j0 = p * NL_512_NR;
            const int cols = nc - j0 < NL_512_NR ? nc - j0 : NL_512_NR;
            const int nv = (cols + 15) >> 4;
            const int tail = cols & 15;
            const __mmask16 last = tail ? (__mmask16)((1u << tail) - 1) : (__mmask16)0xFFFF;
            fns[nv - 1](kc, a, lda, g->Bp + (int64_t)j0 * kc, crow + j0, g->ldc, g->alpha, g->beta, last);
        }
    }
}

// ----------------------------------------------------------------------------------------------
// packing B

// 16x16 transpose of r[0..15] in place (rows -> columns).
NL_AVX512 static inline void nl_tr16(__m512 r[16]) {
    __m512 t[16];
#pragma GCC unroll 8
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // s[4g+q]: in 128-bit lane L, column 4L+q of rows 4g..4g+3
    __m512 s[16];
#pragma GCC unroll 4
    for (int g = 0; g < 4; g++) {
        s[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        s[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        s[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        s[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int q = 0; q < 4; q++) {
        __m512 u = _mm512_shuffle_f32x4(s[q], s[4 + q], 0x88);
        __m512 v = _mm512_shuffle_f32x4(s[q], s[4 + q], 0xDD);
        __m512 w = _mm512_shuffle_f32x4(s[8 + q], s[12 + q], 0x88);
        __m512 x = _mm512_shuffle_f32x4(s[8 + q], s[12 + q], 0xDD);
        r[q] = _mm512_shuffle_f32x4(u, w, 0x88);      // column q
        r[4 + q] = _mm512_shuffle_f32x4(v, x, 0x88);  // column 4+q
        r[8 + q] = _mm512_shuffle_f32x4(u, w, 0xDD);  // column 8+q
        r[12 + q] = _mm512_shuffle_f32x4(v, x, 0xDD); // column 12+q
    }
}

NL_AVX512 static void nl_pack_b512(bool trans_b, const float * B, int64_t ldb, int64_t k0, int kc, int64_t n0, int nc,
                                   float * Bp) {
    for (int j0 = 0; j0 < nc; j0 += NL_512_NR) {
        const int cols = nc - j0 < NL_512_NR ? nc - j0 : NL_512_NR;
        const int w = (cols + 15) & ~15; // panel width
        float * dst = Bp + (int64_t)j0 * kc;
        if (!trans_b) {
            // op(B)[k, j] = B[k*ldb + j]: row copies
            const float * src = B + (int64_t)k0 * ldb + n0 + j0;
            const int nfull = cols >> 4, tail = cols & 15;
            const __mmask16 mt = (__mmask16)((1u << tail) - 1);
            for (int k = 0; k < kc; k++) {
                const float * s = src + (int64_t)k * ldb;
                float * d = dst + (int64_t)k * w;
                int v = 0;
                for (; v < nfull; v++) _mm512_store_ps(d + v * 16, _mm512_loadu_ps(s + v * 16));
                if (tail) _mm512_store_ps(d + v * 16, _mm512_maskz_loadu_ps(mt, s + v * 16));
            }
        } else {
            // op(B)[k, j] = B[j*ldb + k]: 16x16 blocks transposed in registers
            for (int jb = 0; jb < w; jb += 16) {
                const int jn = cols - jb < 16 ? cols - jb : 16;
                const float * src = B + (int64_t)(n0 + j0 + jb) * ldb + k0;
                for (int kb = 0; kb < kc; kb += 16) {
                    const int kn = kc - kb < 16 ? kc - kb : 16;
                    const __mmask16 mk = (__mmask16)((1u << kn) - 1);
                    __m512 r[16];
                    if (kn == 16) {
#pragma GCC unroll 16
                        for (int i = 0; i < 16; i++)
                            r[i] = i < jn ? _mm512_loadu_ps(src + (int64_t)i * ldb + kb) : _mm512_setzero_ps();
                    } else {
#pragma GCC unroll 16
                        for (int i = 0; i < 16; i++)
                            r[i] = i < jn ? _mm512_maskz_loadu_ps(mk, src + (int64_t)i * ldb + kb) : _mm512_setzero_ps();
                    }
                    nl_tr16(r);
                    float * d = dst + (int64_t)kb * w + jb;
                    if (kn == 16) {
#pragma GCC unroll 16
                        for (int i = 0; i < 16; i++) _mm512_store_ps(d + (int64_t)i * w, r[i]);
                    } else {
                        for (int i = 0; i < kn; i++) _mm512_store_ps(d + (int64_t)i * w, r[i]);
                    }
                }
            }
        }
    }
}

const nl_gemm_backend nl_gemm_backend_avx512 = {NL_512_MR, NL_512_NR, 16, nl_pack_b512, nl_macro512};

} // namespace nl

#endif // __x86_64__
