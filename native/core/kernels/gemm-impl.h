// Internal interface between the sgemm driver (gemm.cpp) and its per-ISA back ends
// (gemm-avx512.cpp, gemm-avx2.cpp, gemm-portable.cpp). Not part of the core's API.
//
// Data layout shared by all back ends:
//   packed B block  Bp: the op(B)[k0:k0+kc, n0:n0+nc] block cut into panels of `nr` columns.
//                   Panel p (columns p*nr ..) starts at Bp + p*nr*kc and is stored [kc][w_p] with
//                   w_p = nr for full panels and the column count rounded up to `vl` for the last
//                   one; padding columns are zero. Bp is 64-byte aligned.
//   packed A panel  Ap: only for trans_a (op(A) rows are columns of A, so a row block is strided);
//                   a row block of mr rows is stored [kc][mr] (mr = the back end's MR).
//   without trans_a the micro-kernel reads A in place: element (r, k) at A[r*lda + k].
#pragma once
#include <cstddef>
#include <cstdint>

namespace nl {

struct nl_gemm_macro_args {
    int64_t m;             // rows of this task
    int nc, kc;            // columns and depth of this block (bounded by the block sizes, so int)
    const float * A;       // op(A)[row0, k0] in place (trans_a: A + k0*lda + row0; else A + row0*lda + k0)
    int64_t lda;
    bool trans_a;
    float * Ap;            // trans_a scratch: kc * mr floats, 64-byte aligned
    const float * Bp;      // packed B block (layout above)
    float * C;             // C[row0, n0]
    int64_t ldc;
    float alpha, beta;     // beta == 0: C is not read
};

struct nl_gemm_backend {
    int mr;  // micro-tile rows
    int nr;  // panel width (floats)
    int vl;  // vector length (floats): last-panel width granularity
    // Packs op(B)[k0:k0+kc, n0:n0+nc] into Bp. B points at the matrix origin.
    void (*pack_b)(bool trans_b, const float * B, int64_t ldb, int64_t k0, int kc, int64_t n0, int nc, float * Bp);
    // C[0:m, 0:nc] = alpha * op(A)[0:m, 0:kc] * Bp + beta * C
    void (*macro)(const nl_gemm_macro_args * a);
};

extern const nl_gemm_backend nl_gemm_backend_portable;
#if defined(__x86_64__)
extern const nl_gemm_backend nl_gemm_backend_avx2;
extern const nl_gemm_backend nl_gemm_backend_avx512;
#endif

} // namespace nl
