// Portable back end of sgemm: plain C++ 4x16 micro-kernel (the compiler vectorizes it for the
// baseline ISA, e.g. SSE2 on x86-64, NEON on arm64). Same packing layout as the SIMD back ends.
#include "gemm-impl.h"

namespace nl {

static const int NL_P_MR = 4;
static const int NL_P_NR = 16;

// C[mr, cols] = alpha * A[mr, kc] * Bp[kc, 16] + beta * C   (mr <= 4, cols <= 16)
template <bool AP>
static void nl_kportable(int mr, int cols, int kc, const float * a, int64_t lda, const float * b, float * c, int64_t ldc,
                         float alpha, float beta) {
    float acc[NL_P_MR][NL_P_NR] = {};
    const float * ar[NL_P_MR];
    for (int r = 0; r < NL_P_MR; r++) ar[r] = AP ? a + r : a + (r < mr ? r : 0) * lda; // rows >= mr: ignored
    for (int k = 0; k < kc; k++) {
        const float * bk = b + (int64_t)k * NL_P_NR;
        for (int r = 0; r < NL_P_MR; r++) {
            const float av = AP ? ar[r][(int64_t)k * NL_P_MR] : ar[r][k];
            for (int j = 0; j < NL_P_NR; j++) acc[r][j] += av * bk[j];
        }
    }
    for (int r = 0; r < mr; r++) {
        float * cr = c + r * ldc;
        if (beta == 0.f)
            for (int j = 0; j < cols; j++) cr[j] = alpha * acc[r][j];
        else
            for (int j = 0; j < cols; j++) cr[j] = alpha * acc[r][j] + beta * cr[j];
    }
}

static void nl_macro_portable(const nl_gemm_macro_args * g) {
    const int kc = g->kc, nc = g->nc;
    for (int64_t i0 = 0; i0 < g->m; i0 += NL_P_MR) {
        const int mr = (int)(g->m - i0 < NL_P_MR ? g->m - i0 : NL_P_MR);
        float * crow = g->C + (int64_t)i0 * g->ldc;
        if (g->trans_a) {
            const float * src = g->A + i0;
            for (int k = 0; k < kc; k++)
                for (int r = 0; r < NL_P_MR; r++) g->Ap[k * NL_P_MR + r] = r < mr ? src[(int64_t)k * g->lda + r] : 0.f;
            for (int j0 = 0; j0 < nc; j0 += NL_P_NR)
                nl_kportable<true>(mr, nc - j0 < NL_P_NR ? nc - j0 : NL_P_NR, kc, g->Ap, 0, g->Bp + (int64_t)j0 * kc,
                                   crow + j0, g->ldc, g->alpha, g->beta);
        } else {
            const float * a = g->A + (int64_t)i0 * g->lda;
            for (int j0 = 0; j0 < nc; j0 += NL_P_NR)
                nl_kportable<false>(mr, nc - j0 < NL_P_NR ? nc - j0 : NL_P_NR, kc, a, g->lda, g->Bp + (int64_t)j0 * kc,
                                    crow + j0, g->ldc, g->alpha, g->beta);
        }
    }
}

static void nl_pack_b_portable(bool trans_b, const float * B, int64_t ldb, int64_t k0, int kc, int64_t n0, int nc, float * Bp) {
    for (int j0 = 0; j0 < nc; j0 += NL_P_NR) {
        const int cols = nc - j0 < NL_P_NR ? nc - j0 : NL_P_NR;
        float * dst = Bp + (int64_t)j0 * kc;
        for (int k = 0; k < kc; k++)
            for (int j = 0; j < NL_P_NR; j++) {
                float v = 0.f;
                if (j < cols) v = trans_b ? B[(int64_t)(n0 + j0 + j) * ldb + k0 + k] : B[(int64_t)(k0 + k) * ldb + n0 + j0 + j];
                dst[(int64_t)k * NL_P_NR + j] = v;
            }
    }
}

const nl_gemm_backend nl_gemm_backend_portable = {NL_P_MR, NL_P_NR, NL_P_NR, nl_pack_b_portable, nl_macro_portable};

} // namespace nl
