// Our own tiled GEMM for the GEMM-shaped ops (native/cuda/ops/linear.cu, conv.cu): no cuBLAS.
//
//   C [M, N] = alpha * op(A) [M, K] . op(B) [K, N]  +  beta * C  +  bias
//   op(A) = A stored [M, K] (lda >= K), or with ta: A stored [K, M] (lda >= M)  (the CPU sgemm's trans_a)
//   op(B) = B stored [K, N] (ldb >= N), or with tb: B stored [N, K] (ldb >= K)  (the CPU sgemm's trans_b)
//   bias: none, Row (bias[m], a conv's per-channel bias) or Col (bias[n], nn.Linear's bias)
//   beta == 0: C is not read (it may hold anything, NaN included), as the CPU sgemm.
//
// Batched and strided, for convolutions: one launch computes every item z = (b, g, s) of
// nb x ng x ns, each with its own offsets (b: sample, g: group, s: slice of a split reduction):
//   A_z = A + b*a_b + g*a_g,  B_z = B + b*b_b + g*b_g,  C_z = C + b*c_b + g*c_g + s*c_s
// and a "reduce" dimension r in [0, R): item z sums op(A_z + r*a_r) . op(B_z + r*b_r) over r. A conv's
// weight gradient is this with r = sample: the sum over the batch stays in registers (deterministic,
// no atomics). With ns > 1 slices, the R x ceil(K/16) K-tiles of the sum are split evenly between
// the slices (split-K, for GEMMs with too few output tiles to fill the GPU); each slice writes its
// partial C and gemm_reduce_slices() sums them in slice order (deterministic too).
//
// Two kernels on one 64x64x16 tile scheme (128 threads, register prefetch of the next tile while
// the current one is multiplied from shared memory):
//   - TF32 tensor cores (mma.sync m16n8k8 .tf32, sm_80+) when the caller asks for TF32 (PyTorch's
//     allow_tf32); operands rounded to TF32 (cvt.rna) on their way into shared memory, fp32 accumulate;
//   - exact fp32 (register-blocked SIMT, 8x4 outputs per thread) otherwise, and on sm_75.
// Any M, N, K: every load and store is masked. Global loads are scalar and coalesced along the
// operand's contiguous dimension, so no pointer or leading dimension needs any alignment.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace nl {
namespace gemm_cuda {

enum class Bias : int { None = 0, Row = 1, Col = 2 };

struct GemmDesc {
    int64_t M = 0, N = 0, K = 0;
    bool ta = false, tb = false;
    const float * A = nullptr;
    int64_t lda = 0, a_b = 0, a_g = 0, a_r = 0;
    const float * B = nullptr;
    int64_t ldb = 0, b_b = 0, b_g = 0, b_r = 0;
    float * C = nullptr;
    int64_t ldc = 0, c_b = 0, c_g = 0, c_s = 0;
    float alpha = 1.f, beta = 0.f;
    const float * bias = nullptr;   // bias_g: its offset per group (a grouped conv's channels)
    Bias bias_mode = Bias::None;
    int64_t bias_g = 0;
    int64_t nb = 1, ng = 1, ns = 1; // batch items, groups, slices of the reduction
    int64_t R = 1;                  // reduce items summed into every output
};

constexpr int kBM = 64, kBN = 64, kBK = 16, kThreads = 128;
constexpr int kPad = 8;                 // row pitch 72 floats: the TF32 fragment reads hit 32 distinct banks
constexpr int kLoads = kBM * kBK / kThreads; // floats of A (and of B) each thread loads per tile: 8

struct Tiles {
    float a[kBK][kBM + kPad];   // a[k][m] = op(A)[m0 + m, k0 + k]
    float b[kBK][kBN + kPad];   // b[k][n] = op(B)[k0 + k, n0 + n]
};

// Which (row, k) of the tile this thread's j-th load covers: along the operand's contiguous dim.
// `kmajor`: the operand is stored with k contiguous (A untransposed, B transposed).
__device__ __forceinline__ void tile_pos(bool kmajor, int j, int wide, int * row, int * k) {
    const int e = threadIdx.x + j * kThreads;
    if (kmajor) {
        *k = e % kBK;
        *row = e / kBK;
    } else {
        *row = e % wide;
        *k = e / wide;
    }
}

// Tile t of the item's R x nk tiles: r = the reduce item, k0 = the K offset. Loads into registers (masked).
__device__ __forceinline__ void load_tile(const GemmDesc & d, const float * A, const float * B, int64_t t, int64_t nk,
                                          int64_t m0, int64_t n0, float * ra, float * rb) {
    const int64_t r = t / nk, k0 = (t % nk) * kBK;
    const float * Ar = A + r * d.a_r;
    const float * Br = B + r * d.b_r;
#pragma unroll
    for (int j = 0; j < kLoads; j++) {
        int m, k;
        tile_pos(!d.ta, j, kBM, &m, &k);
        const int64_t gm = m0 + m, gk = k0 + k;
        ra[j] = gm < d.M && gk < d.K ? (d.ta ? Ar[gk * d.lda + gm] : Ar[gm * d.lda + gk]) : 0.f;
        int n;
        tile_pos(d.tb, j, kBN, &n, &k);
        const int64_t gn = n0 + n, gk2 = k0 + k;
        rb[j] = gn < d.N && gk2 < d.K ? (d.tb ? Br[gn * d.ldb + gk2] : Br[gk2 * d.ldb + gn]) : 0.f;
    }
}

template <bool TF32> __device__ __forceinline__ float to_smem(float v) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    if (TF32) {
        uint32_t u;
        asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(u) : "f"(v));
        return __uint_as_float(u);
    }
#endif
    return v;
}

template <bool TF32> __device__ __forceinline__ void store_tile(const GemmDesc & d, Tiles & s, const float * ra, const float * rb) {
#pragma unroll
    for (int j = 0; j < kLoads; j++) {
        int m, n, k;
        tile_pos(!d.ta, j, kBM, &m, &k);
        s.a[k][m] = to_smem<TF32>(ra[j]);
        tile_pos(d.tb, j, kBN, &n, &k);
        s.b[k][n] = to_smem<TF32>(rb[j]);
    }
}

// C_z[m, n] = alpha * v + beta * C_z[m, n] + bias (masked)
__device__ __forceinline__ void store_out(const GemmDesc & d, float * C, int64_t g, int64_t m, int64_t n, float v) {
    if (m >= d.M || n >= d.N) return;
    float * p = C + m * d.ldc + n;
    float o = d.alpha * v;
    if (d.beta != 0.f) o += d.beta * *p;
    if (d.bias_mode == Bias::Row) o += d.bias[g * d.bias_g + m];
    else if (d.bias_mode == Bias::Col) o += d.bias[g * d.bias_g + n];
    *p = o;
}

// ---- the multiply of one tile ----------------------------------------------------------------------

// Exact fp32: thread (tx, ty) of 16 x 8 owns rows ty*4 + {0..3} and 32 + ty*4 + {0..3}, columns tx*4 + {0..3}.
__device__ __forceinline__ void mma_simt(const Tiles & s, float (&acc)[8][4]) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
    for (int k = 0; k < kBK; k++) {
        const float4 a0 = *reinterpret_cast<const float4 *>(&s.a[k][ty * 4]);
        const float4 a1 = *reinterpret_cast<const float4 *>(&s.a[k][32 + ty * 4]);
        const float4 b = *reinterpret_cast<const float4 *>(&s.b[k][tx * 4]);
        const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
        const float bv[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
}

// TF32: warp w of 4 owns the 32x32 sub-tile (w/2, w%2): 2 x 4 mma tiles of 16x8. Fragment layouts of
// mma.m16n8k8 .tf32 (PTX ISA): gid = lane/4, tig = lane%4;
//   a0 (gid, tig) a1 (gid+8, tig) a2 (gid, tig+4) a3 (gid+8, tig+4);  b0 (k=tig, n=gid) b1 (k=tig+4, n=gid);
//   c0 (gid, 2*tig) c1 (gid, 2*tig+1) c2 (gid+8, 2*tig) c3 (gid+8, 2*tig+1).
__device__ __forceinline__ void mma_tf32(const Tiles & s, float (&acc)[2][4][4]) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int gid = lane / 4, tig = lane % 4, wm = (w / 2) * 32, wn = (w % 2) * 32;
#pragma unroll
    for (int ks = 0; ks < kBK; ks += 8) {
#pragma unroll
        for (int mi = 0; mi < 2; mi++) {
            const int r = wm + mi * 16 + gid;
            const float a[4] = {s.a[ks + tig][r], s.a[ks + tig][r + 8], s.a[ks + tig + 4][r], s.a[ks + tig + 4][r + 8]};
#pragma unroll
            for (int ni = 0; ni < 4; ni++) {
                const int c = wn + ni * 8 + gid;
                const float b[2] = {s.b[ks + tig][c], s.b[ks + tig + 4][c]};
                float * o = acc[mi][ni];
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
                asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                             : "+f"(o[0]), "+f"(o[1]), "+f"(o[2]), "+f"(o[3])
                             : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])),
                               "r"(__float_as_uint(a[3])), "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
#else
                // Before sm_80 there is no TF32 mma (the host never picks this kernel there): the same
                // fragment positions in exact fp32, so the code is still correct if it ever ran.
                const int cr = wm + mi * 16 + gid, cc = wn + ni * 8 + tig * 2;
                for (int k = 0; k < 8; k++) {
                    const float * ak = s.a[ks + k];
                    const float * bk = s.b[ks + k];
                    o[0] = fmaf(ak[cr], bk[cc], o[0]);
                    o[1] = fmaf(ak[cr], bk[cc + 1], o[1]);
                    o[2] = fmaf(ak[cr + 8], bk[cc], o[2]);
                    o[3] = fmaf(ak[cr + 8], bk[cc + 1], o[3]);
                }
                (void)a;
                (void)b;
#endif
            }
        }
    }
}

// ---- the kernel ------------------------------------------------------------------------------------

template <bool TF32> struct Acc;
template <> struct Acc<false> { float v[8][4]; };
template <> struct Acc<true> { float v[2][4][4]; };

template <bool TF32> __device__ __forceinline__ void write_acc(const GemmDesc & d, float * C, int64_t g, int64_t m0, int64_t n0, const Acc<TF32> & acc);

template <> __device__ __forceinline__ void write_acc<false>(const GemmDesc & d, float * C, int64_t g, int64_t m0, int64_t n0, const Acc<false> & acc) {
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) store_out(d, C, g, m0 + (i < 4 ? ty * 4 + i : 32 + ty * 4 + i - 4), n0 + tx * 4 + j, acc.v[i][j]);
}

template <> __device__ __forceinline__ void write_acc<true>(const GemmDesc & d, float * C, int64_t g, int64_t m0, int64_t n0, const Acc<true> & acc) {
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    const int gid = lane / 4, tig = lane % 4, wm = (w / 2) * 32, wn = (w % 2) * 32;
#pragma unroll
    for (int mi = 0; mi < 2; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
#pragma unroll
            for (int q = 0; q < 4; q++)
                store_out(d, C, g, m0 + wm + mi * 16 + gid + (q >= 2 ? 8 : 0), n0 + wn + ni * 8 + tig * 2 + (q & 1), acc.v[mi][ni][q]);
}

// grid: x = tiles of C (M tiles x N tiles, N fastest), z = items (looped when more than gridDim.z)
template <bool TF32> __global__ void __launch_bounds__(kThreads) gemm_kernel(const GemmDesc d) {
    __shared__ __align__(16) Tiles s;
    const int64_t tiles_n = (d.N + kBN - 1) / kBN;
    const int64_t m0 = (int64_t)(blockIdx.x / tiles_n) * kBM, n0 = (int64_t)(blockIdx.x % tiles_n) * kBN;
    const int64_t nk = (d.K + kBK - 1) / kBK, items = d.nb * d.ng * d.ns;
    for (int64_t z = blockIdx.z; z < items; z += gridDim.z) {
        const int64_t sl = z % d.ns, g = (z / d.ns) % d.ng, b = z / (d.ns * d.ng);
        const int64_t t0 = d.R * nk * sl / d.ns, t1 = d.R * nk * (sl + 1) / d.ns;   // this slice's tiles
        const float * A = d.A + b * d.a_b + g * d.a_g;
        const float * B = d.B + b * d.b_b + g * d.b_g;
        float * C = d.C + b * d.c_b + g * d.c_g + sl * d.c_s;
        Acc<TF32> acc = {};
        float ra[kLoads], rb[kLoads];
        if (t0 < t1) load_tile(d, A, B, t0, nk, m0, n0, ra, rb);
        for (int64_t t = t0; t < t1; t++) {
            store_tile<TF32>(d, s, ra, rb);
            __syncthreads();
            if (t + 1 < t1) load_tile(d, A, B, t + 1, nk, m0, n0, ra, rb); // in flight during the multiply
            if constexpr (TF32) mma_tf32(s, acc.v);
            else mma_simt(s, acc.v);
            __syncthreads();
        }
        write_acc<TF32>(d, C, g, m0, n0, acc);
    }
}

// dst[e] = alpha * sum over s of part[s*count + e] (s in order) + beta * dst[e] + bias[e % cols]
// (beta == 0: dst not read; bias may be null). A template, as every kernel in this header: one
// definition however many .cu files include it.
template <int Threads>
__global__ void __launch_bounds__(Threads) gemm_reduce_slices_kernel(const float * part, int64_t count, int64_t ns, float alpha, float beta,
                                                                     const float * bias, int64_t cols, float * dst) {
    for (int64_t e = (int64_t)blockIdx.x * Threads + threadIdx.x; e < count; e += (int64_t)gridDim.x * Threads) {
        float sum = 0.f;
        for (int64_t s = 0; s < ns; s++) sum += part[s * count + e];
        float o = alpha * sum;
        if (beta != 0.f) o += beta * dst[e];
        if (bias) o += bias[e % cols];
        dst[e] = o;
    }
}

// ---- host side -------------------------------------------------------------------------------------

// TF32 tensor cores when asked and the device has them (sm_80+); exact fp32 otherwise.
inline bool use_tf32(bool tf32, int cc_major) { return tf32 && cc_major >= 8; }

// Enqueues d on `stream` (nothing when C is empty). Errors surface through the caller's cuda_launched.
inline void gemm(const GemmDesc & d, bool tf32, int cc_major, cudaStream_t stream) {
    const int64_t items = d.nb * d.ng * d.ns;
    if (d.M <= 0 || d.N <= 0 || items <= 0) return;
    const int64_t tiles = ((d.M + kBM - 1) / kBM) * ((d.N + kBN - 1) / kBN);
    const dim3 grid((unsigned)tiles, 1, (unsigned)(items < 65535 ? items : 65535));
    if (use_tf32(tf32, cc_major)) gemm_kernel<true><<<grid, kThreads, 0, stream>>>(d);
    else gemm_kernel<false><<<grid, kThreads, 0, stream>>>(d);
}

inline void gemm_reduce_slices(const float * part, int64_t count, int64_t ns, float alpha, float beta, const float * bias, int64_t cols,
                               float * dst, int sm_count, cudaStream_t stream) {
    if (count <= 0) return;
    int64_t blocks = (count + 255) / 256;
    const int64_t cap = (int64_t)(sm_count > 0 ? sm_count : 80) * 8;
    if (blocks > cap) blocks = cap;
    gemm_reduce_slices_kernel<256><<<(unsigned)blocks, 256, 0, stream>>>(part, count, ns, alpha, beta, bias, cols, dst);
}

// Split-K for one plain GEMM (nb = ng = 1, R = 1) whose output tiles are too few to fill the GPU.
// kMaxSplit: most slices; a GEMM's workspace is split_cap(M, N) * M * N floats (split_gemm's partials).
constexpr int64_t kMaxSplit = 16;
constexpr int64_t kSplitBudget = (int64_t)1 << 22;   // floats of partials (16 MiB)

inline int64_t split_cap(int64_t M, int64_t N) {
    const int64_t mn = M * N;
    int64_t s = mn > 0 ? kSplitBudget / mn : 1;
    return s < 1 ? 1 : s > kMaxSplit ? kMaxSplit : s;
}

// The slices to use: enough blocks for every SM, at least 4 K-tiles per slice, within split_cap.
inline int64_t split_count(int64_t M, int64_t N, int64_t K, int sm_count) {
    const int64_t tiles = ((M + kBM - 1) / kBM) * ((N + kBN - 1) / kBN), sms = sm_count > 0 ? sm_count : 80;
    if (tiles <= 0 || tiles >= sms) return 1;
    int64_t s = (sms + tiles - 1) / tiles;
    const int64_t by_k = ((K + kBK - 1) / kBK) / 4;
    if (s > by_k) s = by_k;
    const int64_t cap = split_cap(M, N);
    if (s > cap) s = cap;
    return s < 1 ? 1 : s;
}

// Bytes of partials split_gemm may use for an M x N output (0: it never splits).
inline size_t split_workspace(int64_t M, int64_t N) {
    const int64_t cap = split_cap(M, N);
    return cap > 1 ? (size_t)(cap * M * N) * sizeof(float) : 0;
}

// d (nb = ng = 1, R = 1, C contiguous: ldc == N) split over split_count() slices into `part` (room for
// part_floats), then summed in slice order with beta and the bias (Col) applied once. Not split (one
// plain launch) when the output already fills the GPU or the partials do not fit.
inline void split_gemm(const GemmDesc & d, float * part, size_t part_floats, bool tf32, int cc_major, int sm_count, cudaStream_t stream) {
    int64_t ns = part && d.ldc == d.N && d.bias_mode != Bias::Row ? split_count(d.M, d.N, d.K, sm_count) : 1;
    if (ns > 1 && (size_t)(ns * d.M * d.N) > part_floats) ns = (int64_t)(part_floats / (size_t)(d.M * d.N));
    if (ns <= 1) {
        gemm(d, tf32, cc_major, stream);
        return;
    }
    GemmDesc p = d;
    p.C = part;
    p.c_s = d.M * d.N;
    p.alpha = 1.f;
    p.beta = 0.f;
    p.bias = nullptr;
    p.bias_mode = Bias::None;
    p.ns = ns;
    gemm(p, tf32, cc_major, stream);
    gemm_reduce_slices(part, d.M * d.N, ns, d.alpha, d.beta, d.bias_mode == Bias::Col ? d.bias : nullptr, d.N, d.C, sm_count, stream);
}

} // namespace gemm_cuda
} // namespace nl
