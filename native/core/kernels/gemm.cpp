// sgemm driver: SIMD level selection, work split over the pool, cache blocking, workspaces.
//
//   C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C      (contract in gemm.h)
//
// Each task owns a rectangle of C: rows [m0,m1) (multiples of the back end's MR) x columns
// [n0,n1) (multiples of 16). For every column chunk of at most `nc` and depth block of at most
// `kc` it packs op(B)[k-block, chunk] into its own thread's workspace (so the thread that uses a
// B panel is the one that packed it, and it is hot in that core's L2), then runs the back end's
// macro-kernel over its rows. A is read in place (rows of op(A) are contiguous unless trans_a,
// in which case each MR-row block is packed to [kc][MR], a few KB).
//
// Blocking: kc <= NL_GEMM_KC (balanced: K=784 -> 2 x 392); nc such that the packed B block
// kc x nc is at most NL_GEMM_L2_BYTES. Workspaces are per thread (thread_local), 64-byte aligned,
// grown on demand and reused, so steady-state calls do not allocate.
#include "gemm.h"
#include "gemm-impl.h"
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace nl {

static const int NL_GEMM_KC = 512;               // max depth of a packed block
static const int64_t NL_GEMM_L2_BYTES = 448 * 1024;  // packed B block budget (per thread, of a 1-2 MB L2)
static const double NL_GEMM_MIN_PARALLEL = 1.5e5; // M*N*K below which one thread does it all

// ---- SIMD level --------------------------------------------------------------------------------

static SimdLevel nl_simd_probe() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma"))
        return SimdLevel::AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::AVX2;
#endif
    return SimdLevel::Portable;
}

static std::atomic<int> nl_simd_active{-1};

SimdLevel simd_detect() {
    static const SimdLevel level = nl_simd_probe();
    return level;
}

const char * simd_name(SimdLevel l) {
    return l == SimdLevel::AVX512 ? "avx512" : l == SimdLevel::AVX2 ? "avx2" : "portable";
}

bool simd_force(SimdLevel l) {
    if ((int)l < 0 || (int)l > (int)simd_detect()) return false;
    nl_simd_active.store((int)l, std::memory_order_relaxed);
    return true;
}

SimdLevel simd_active() {
    int l = nl_simd_active.load(std::memory_order_relaxed);
    return l < 0 ? simd_detect() : (SimdLevel)l;
}

static const nl_gemm_backend & nl_backend(SimdLevel l) {
#if defined(__x86_64__)
    if (l == SimdLevel::AVX512) return nl_gemm_backend_avx512;
    if (l == SimdLevel::AVX2) return nl_gemm_backend_avx2;
#endif
    (void)l;
    return nl_gemm_backend_portable;
}

// ---- per-thread workspace ----------------------------------------------------------------------

struct nl_gemm_workspace {
    float * buf = nullptr;
    size_t cap = 0; // floats
    ~nl_gemm_workspace() { std::free(buf); }
    // Returns a 64-byte aligned buffer of at least n floats, or null if memory is exhausted.
    float * get(size_t n) {
        if (n > cap) {
            size_t want = n + n / 4;
            want = (want + 15) & ~(size_t)15;
            float * p = (float *)std::aligned_alloc(64, want * sizeof(float));
            if (!p) return nullptr;
            std::free(buf);
            buf = p;
            cap = want;
        }
        return buf;
    }
};
static thread_local nl_gemm_workspace nl_gemm_ws;

// ---- reference path (workspace allocation failed: still correct, never aborts) ----------------

static void nl_sgemm_naive(bool ta, bool tb, int64_t m, int64_t n, int64_t K, float alpha, const float * A, int64_t lda,
                           const float * B, int64_t ldb, float beta, float * C, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            float acc = 0.f;
            for (int64_t k = 0; k < K; k++)
                acc += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            float & c = C[i * ldc + j];
            c = beta == 0.f ? alpha * acc : alpha * acc + beta * c;
        }
}

// ---- one task ----------------------------------------------------------------------------------

struct nl_gemm_job {
    const nl_gemm_backend * be;
    bool ta, tb;
    int64_t M, N, K;
    float alpha, beta;
    const float * A;
    int64_t lda;
    const float * B;
    int64_t ldb;
    float * C;
    int64_t ldc;
    int tm, tn;     // task grid: tm row slices x tn column slices (at most the pool's size)
    int64_t kb;     // depth block count
    int nb;         // column chunk (floats, multiple of be->nr; bounded by the L2 budget)
};

// [0, total) split into `parts` slices on multiples of `gran`; slice `i` is [*lo, *hi)
static void nl_split(int64_t total, int64_t gran, int64_t parts, int64_t i, int64_t * lo, int64_t * hi) {
    const int64_t units = (total + gran - 1) / gran;
    const int64_t u0 = units * i / parts, u1 = units * (i + 1) / parts;
    *lo = u0 * gran < total ? u0 * gran : total;
    *hi = u1 * gran < total ? u1 * gran : total;
}

static void nl_gemm_task(void * ctx, int task) {
    const nl_gemm_job & j = *(const nl_gemm_job *)ctx;
    const nl_gemm_backend & be = *j.be;
    int64_t m0, m1, n0, n1;
    nl_split(j.M, be.mr, j.tm, task / j.tn, &m0, &m1);
    nl_split(j.N, 16, j.tn, task % j.tn, &n0, &n1);
    if (m0 >= m1 || n0 >= n1) return;

    const int kc_max = (int)((j.K + j.kb - 1) / j.kb);   // <= NL_GEMM_KC
    const int nb_round = (j.nb + be.nr - 1) / be.nr * be.nr;
    const size_t bp_floats = (size_t)kc_max * nb_round;
    const size_t ap_floats = ((size_t)kc_max * be.mr + 15) & ~(size_t)15;
    float * ws = nl_gemm_ws.get(bp_floats + ap_floats);
    if (!ws) {
        nl_sgemm_naive(j.ta, j.tb, m1 - m0, n1 - n0, j.K, j.alpha, j.ta ? j.A + m0 : j.A + m0 * j.lda, j.lda,
                       j.tb ? j.B + n0 * j.ldb : j.B + n0, j.ldb, j.beta, j.C + m0 * j.ldc + n0, j.ldc);
        return;
    }
    float * Bp = ws;
    float * Ap = ws + bp_floats;

    for (int64_t nc0 = n0; nc0 < n1; nc0 += j.nb) {
        const int nc = (int)(n1 - nc0 < j.nb ? n1 - nc0 : j.nb);
        for (int64_t b = 0; b < j.kb; b++) {
            int64_t k0, k1;
            nl_split(j.K, 1, j.kb, b, &k0, &k1);
            be.pack_b(j.tb, j.B, j.ldb, k0, (int)(k1 - k0), nc0, nc, Bp);
            nl_gemm_macro_args g;
            g.m = m1 - m0;
            g.nc = nc;
            g.kc = (int)(k1 - k0);
            g.A = j.ta ? j.A + k0 * j.lda + m0 : j.A + m0 * j.lda + k0;
            g.lda = j.lda;
            g.trans_a = j.ta;
            g.Ap = Ap;
            g.Bp = Bp;
            g.C = j.C + m0 * j.ldc + nc0;
            g.ldc = j.ldc;
            g.alpha = j.alpha;
            g.beta = b == 0 ? j.beta : 1.f; // later depth blocks accumulate
            be.macro(&g);
        }
    }
}

// ---- entry point -------------------------------------------------------------------------------

void sgemm(ThreadPool * pool, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float * A,
           int64_t lda, const float * B, int64_t ldb, float beta, float * C, int64_t ldc) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.f) {
        // C = beta * C (BLAS convention: A and B are not read)
        for (int64_t i = 0; i < M; i++) {
            float * c = C + i * ldc;
            if (beta == 0.f)
                std::memset(c, 0, sizeof(float) * (size_t)N);
            else if (beta != 1.f)
                for (int64_t jj = 0; jj < N; jj++) c[jj] *= beta;
        }
        return;
    }

    nl_gemm_job j;
    j.be = &nl_backend(simd_active());
    j.ta = trans_a;
    j.tb = trans_b;
    j.M = M;
    j.N = N;
    j.K = K;
    j.alpha = alpha;
    j.beta = beta;
    j.A = A;
    j.lda = lda;
    j.B = B;
    j.ldb = ldb;
    j.C = C;
    j.ldc = ldc;

    // depth blocks, balanced
    j.kb = (K + NL_GEMM_KC - 1) / NL_GEMM_KC;
    const int64_t kc = (K + j.kb - 1) / j.kb;
    // column chunk: packed kc x nb block within the L2 budget, a multiple of the panel width
    const int64_t nr = j.be->nr;
    int64_t nb = NL_GEMM_L2_BYTES / (kc * (int64_t)sizeof(float));
    nb = nb / nr * nr;
    if (nb < nr) nb = nr;
    if (nb > N) nb = (N + nr - 1) / nr * nr;
    j.nb = (int)nb;

    // task grid. Cost model per task (in multiply-adds): cols * K * (rows + 8), the 8 standing
    // for packing B (every task packs the B columns it uses).
    int T = pool ? pool->size() : 1;
    if ((double)M * N * K < NL_GEMM_MIN_PARALLEL) T = 1;
    const int64_t mblocks = (M + j.be->mr - 1) / j.be->mr;
    const int64_t ngroups = (N + 15) / 16;
    int best_tm = 1, best_tn = 1;
    double best = 1e300;
    for (int tn = 1; tn <= T && tn <= ngroups; tn++) {
        int tm = T / tn;
        if (tm > mblocks) tm = (int)mblocks;
        if (tm < 1) tm = 1;
        const double rows = (double)((mblocks + tm - 1) / tm) * j.be->mr;
        const double cols = (double)((ngroups + tn - 1) / tn) * 16;
        const double cost = cols * (rows + 8);
        if (cost < best * 0.999) {
            best = cost;
            best_tm = tm;
            best_tn = tn;
        }
    }
    j.tm = best_tm;
    j.tn = best_tn;
    const int ntasks = j.tm * j.tn;
    if (ntasks == 1 || !pool)
        for (int t = 0; t < ntasks; t++) nl_gemm_task(&j, t);
    else
        pool->parallel_for(ntasks, nl_gemm_task, &j);
}

} // namespace nl
