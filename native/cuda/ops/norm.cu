// BatchNorm and LayerNorm on CUDA, mirroring native/core/ops/norm.cpp and the CPU kernels
// batch-norm.cpp and layer-norm.cpp (formulas, precision rules and torch's momentum=None there).
//
//   batch_norm:  x viewed as [n, c, inner]; training: batch statistics per channel (double sums,
//                mean and variance sum rounded to float as torch), save_mean/save_invstd [c],
//                running stats [c] and num_batches_tracked updated unless dstep->halted;
//                eval (with running stats): y = x * alpha + shift from the running statistics.
//   layer_norm:  x [rows, cols], statistics per row; backward's dgamma/dbeta sum over rows.
//
// BatchNorm reduces one channel per block (a fixed tree over the block: deterministic). LayerNorm
// gives each row one warp; its dgamma/dbeta are column sums done in two passes (per row-chunk
// partials in the workspace, then the chunks in order). The float expressions use mul_rn/add_rn
// where the CPU rounds each operation, so the elementwise parts match it to the bit and only the
// order of the double sums differs.
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

struct BnShape {
    int64_t n, c, inner;
    __device__ __forceinline__ int64_t count() const { return n * inner; }
    // element e of channel ch (e in [0, n*inner)) in the [n, c, inner] array
    __device__ __forceinline__ int64_t at(int64_t ch, int64_t e) const {
        const int64_t i = e / inner;
        return (i * c + ch) * inner + (e - i * inner);
    }
};

// y = x * alpha + shift over one channel, the CPU's two roundings.
__device__ void bn_affine_channel(const float * x, float * y, const BnShape & s, int64_t ch, float alpha, float shift) {
    for (int64_t e = threadIdx.x; e < s.count(); e += blockDim.x) {
        const int64_t k = s.at(ch, e);
        y[k] = add_rn(mul_rn(x[k], alpha), shift);
    }
}

struct BnRunning {
    float * mean;             // [c] or null
    float * var;              // [c] or null
    const int32_t * tracked;  // num_batches_tracked [1] or null (read here; bumped by bn_count_kernel after)
    float momentum;           // < 0: cumulative average (1 / num_batches_tracked)
};

// Training forward, one block per channel (grid.x = c).
__global__ void bn_forward_train_kernel(const float * x, const float * gamma, const float * beta, float * y, float * save_mean,
                                        float * save_invstd, BnRunning run, BnShape s, float eps, const DeviceStep * dstep) {
    __shared__ double sh[32];
    const int64_t ch = blockIdx.x;
    const int64_t count = s.count();
    double sum = 0.0;
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) sum += x[s.at(ch, e)];
    const float mean = (float)(block_sum_all(sum, sh) / (double)count);
    double var_sum_d = 0.0;
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
        const float d = x[s.at(ch, e)] - mean;
        var_sum_d += (double)mul_rn(d, d);   // float products, double sum (torch)
    }
    const float var_sum = (float)block_sum_all(var_sum_d, sh);
    const float var_biased = var_sum / (float)count;
    const float invstd = (float)(1.0 / sqrt((double)var_biased + (double)eps));
    if (threadIdx.x == 0) {
        if (save_mean) save_mean[ch] = mean;
        if (save_invstd) save_invstd[ch] = invstd;
        if ((run.mean || run.var) && !dstep->halted) {   // dstep is read only when there is state to write
            // the counter as the CPU sees it after its increment (bn_count_kernel bumps it next)
            float m = run.momentum;
            if (run.tracked) {
                if (run.momentum < 0.f) m = (float)(1.0 / (double)(*run.tracked + 1));
            } else if (run.momentum < 0.f) {
                m = 0.f;
            }
            if (run.mean) run.mean[ch] = add_rn(mul_rn(m, mean), mul_rn(1.f - m, run.mean[ch]));
            if (run.var) {
                const double unbiased = count > 1 ? (double)(var_sum / (float)(count - 1)) : (double)var_biased;
                run.var[ch] = (float)__dadd_rn(__dmul_rn((double)m, unbiased), (double)mul_rn(1.f - m, run.var[ch]));
            }
        }
    }
    const float alpha = mul_rn(invstd, gamma ? gamma[ch] : 1.f);
    const float shift = sub_rn(beta ? beta[ch] : 0.f, mul_rn(mean, alpha));
    bn_affine_channel(x, y, s, ch, alpha, shift);
}

// num_batches_tracked += 1 once per training forward (persistent state: not when halted).
__global__ void bn_count_kernel(int32_t * tracked, const DeviceStep * dstep) {
    if (!dstep->halted) *tracked += 1;
}

// Eval forward with the running statistics: elementwise.
__global__ void bn_forward_eval_kernel(const float * x, const float * gamma, const float * beta, const float * rmean, const float * rvar,
                                       float * y, BnShape s, float eps) {
    const int64_t total = s.n * s.c * s.inner;
    for (int64_t k = global_thread(); k < total; k += grid_threads()) {
        const int64_t ch = (k / s.inner) % s.c;
        const float mean = rmean ? rmean[ch] : 0.f;
        const float var = rvar ? rvar[ch] : 1.f;
        const float invstd = __fdiv_rn(1.f, __fsqrt_rn(add_rn(var, eps)));
        const float alpha = mul_rn(invstd, gamma ? gamma[ch] : 1.f);
        const float shift = sub_rn(beta ? beta[ch] : 0.f, mul_rn(mean, alpha));
        y[k] = add_rn(mul_rn(x[k], alpha), shift);
    }
}

// Backward, one block per channel: sum(dy), dotp = sum(dy * (x - mean)) in double, then dx.
template <bool Acc>
__global__ void bn_backward_kernel(const float * dy, const float * x, const float * gamma, const float * save_mean, const float * save_invstd,
                                   float * dx, float * dgamma, float * dbeta, BnShape s) {
    __shared__ double sh[32];
    const int64_t ch = blockIdx.x;
    const int64_t count = s.count();
    const float mean = save_mean[ch], invstd = save_invstd[ch];
    double sum = 0.0, dotp = 0.0;
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
        const int64_t k = s.at(ch, e);
        sum += dy[k];
        dotp += (double)(x[k] - mean) * dy[k];
    }
    sum = block_sum_all(sum, sh);
    dotp = block_sum_all(dotp, sh);
    if (threadIdx.x == 0) {
        if (dgamma) dgamma[ch] = (float)(dotp * invstd);
        if (dbeta) dbeta[ch] = (float)sum;
    }
    if (!dx) return;
    const float w = gamma ? gamma[ch] : 1.f;
    const float k_proj = (float)(dotp * invstd * invstd / (double)count);
    const float grad_mean = (float)(sum / (double)count);
    for (int64_t e = threadIdx.x; e < count; e += blockDim.x) {
        const int64_t k = s.at(ch, e);
        const float t = sub_rn(sub_rn(dy[k], grad_mean), mul_rn(x[k] - mean, k_proj));
        const float g = mul_rn(mul_rn(t, invstd), w);
        dx[k] = Acc ? dx[k] + g : g;
    }
}

// ---- layer norm ------------------------------------------------------------------------------------

__device__ __forceinline__ double warp_sum_all(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__global__ void ln_forward_kernel(const float * x, const float * gamma, const float * beta, float * y, float * mean, float * rstd, int64_t rows,
                                  int64_t cols, float eps) {
    const int lane = threadIdx.x & 31;
    for (int64_t r = global_thread() >> 5; r < rows; r += grid_threads() >> 5) {
        const float * xr = x + r * cols;
        float * yr = y + r * cols;
        double sum = 0.0;
        for (int64_t j = lane; j < cols; j += 32) sum += xr[j];
        const double mu = warp_sum_all(sum) / (double)cols;
        double sq = 0.0;
        for (int64_t j = lane; j < cols; j += 32) {
            const double d = xr[j] - mu;
            sq += d * d;
        }
        sq = warp_sum_all(sq);
        const float m = (float)mu;
        const float var = (float)(sq / (double)cols);
        const float rs = __fdiv_rn(1.f, __fsqrt_rn(add_rn(var, eps)));
        if (lane == 0) {
            if (mean) mean[r] = m;
            if (rstd) rstd[r] = rs;
        }
        const float shift = mul_rn(-rs, m);
        for (int64_t j = lane; j < cols; j += 32) {
            float v = add_rn(mul_rn(xr[j], rs), shift);
            if (gamma) v = mul_rn(v, gamma[j]);
            if (beta) v = add_rn(v, beta[j]);
            yr[j] = v;
        }
    }
}

// dx = rs * (g - mean_j(g) - xhat * mean_j(g * xhat)), g = dy * gamma, one warp per row.
template <bool Acc>
__global__ void ln_backward_dx_kernel(const float * dy, const float * x, const float * gamma, const float * mean, const float * rstd, float * dx,
                                      int64_t rows, int64_t cols) {
    const int lane = threadIdx.x & 31;
    for (int64_t r = global_thread() >> 5; r < rows; r += grid_threads() >> 5) {
        const float * xr = x + r * cols;
        const float * dyr = dy + r * cols;
        const float m = mean[r], rs = rstd[r];
        double sg = 0.0, sgx = 0.0;
        for (int64_t j = lane; j < cols; j += 32) {
            const double g = gamma ? (double)dyr[j] * gamma[j] : (double)dyr[j];
            sg += g;
            sgx += g * ((double)xr[j] - m) * rs;
        }
        const float a = (float)(warp_sum_all(sg) / (double)cols);
        const float b = (float)(warp_sum_all(sgx) / (double)cols);
        float * dxr = dx + r * cols;
        for (int64_t j = lane; j < cols; j += 32) {
            const float g = gamma ? mul_rn(dyr[j], gamma[j]) : dyr[j];
            const float v = mul_rn(rs, sub_rn(sub_rn(g, a), mul_rn(mul_rn(xr[j] - m, rs), b)));
            dxr[j] = Acc ? dxr[j] + v : v;
        }
    }
}

constexpr int kColTile = 32;     // columns per block of the column-sum pass
constexpr int kRowLanes = 8;     // row lanes per block
constexpr int kMaxRowChunks = 32;

// Pass 1 of dgamma/dbeta: block (x: column tile, y: row chunk) sums dy * xhat and dy over its rows
// (double), the 8 row lanes combined in order; one partial per (chunk, column).
__global__ void ln_colsum_partials_kernel(const float * dy, const float * x, const float * mean, const float * rstd, int64_t rows,
                                          int64_t cols, double * pg, double * pb) {
    __shared__ double sg[kRowLanes][kColTile], sb[kRowLanes][kColTile];
    const int64_t j = (int64_t)blockIdx.x * kColTile + threadIdx.x;
    double accg = 0.0, accb = 0.0;
    if (j < cols)
        for (int64_t r = (int64_t)blockIdx.y * kRowLanes + threadIdx.y; r < rows; r += (int64_t)gridDim.y * kRowLanes) {
            const float d = dy[r * cols + j];
            accg += (double)mul_rn(d, mul_rn(x[r * cols + j] - mean[r], rstd[r]));
            accb += d;
        }
    sg[threadIdx.y][threadIdx.x] = accg;
    sb[threadIdx.y][threadIdx.x] = accb;
    __syncthreads();
    if (threadIdx.y == 0 && j < cols) {
        for (int l = 1; l < kRowLanes; l++) accg += sg[l][threadIdx.x], accb += sb[l][threadIdx.x];
        pg[blockIdx.y * cols + j] = accg;
        pb[blockIdx.y * cols + j] = accb;
    }
}

// Pass 2: the chunks of each column in order.
__global__ void ln_colsum_final_kernel(const double * pg, const double * pb, int chunks, int64_t cols, float * dgamma, float * dbeta) {
    for (int64_t j = global_thread(); j < cols; j += grid_threads()) {
        double g = 0.0, b = 0.0;
        for (int k = 0; k < chunks; k++) g += pg[k * cols + j], b += pb[k * cols + j];
        if (dgamma) dgamma[j] = (float)g;
        if (dbeta) dbeta[j] = (float)b;
    }
}

template <class O> BnShape bn_shape(const CudaArgs<O> & a) { return BnShape{a.n(), a.i(O::channels), a.i(O::inner)}; }

unsigned warp_row_blocks(int64_t rows, int sm) { return elementwise_blocks(rows * 32, sm); }

} // namespace

template <> Status cuda_run<op::BATCH_NORM_FORWARD>(const CudaArgs<op::BATCH_NORM_FORWARD> & a) {
    using O = op::BATCH_NORM_FORWARD;
    const BnShape s = bn_shape(a);
    if (s.n <= 0 || s.c <= 0 || s.inner <= 0) return cuda_launched("batch_norm_forward");
    const bool training = a.training();
    if (!training && a.has(O::running_mean)) {   // eval with tracked statistics; else batch statistics, as torch
        bn_forward_eval_kernel<<<elementwise_blocks(s.n * s.c * s.inner, a.sm_count()), kThreads, 0, a.stream()>>>(
            a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::running_mean), a.f32(O::running_var), a.f32(O::y), s, a.f(O::eps));
        return cuda_launched("batch_norm_forward");
    }
    BnRunning run{training ? a.f32(O::running_mean) : nullptr, training ? a.f32(O::running_var) : nullptr,
                  training ? a.i32(O::num_batches_tracked) : nullptr, a.f(O::momentum)};
    bn_forward_train_kernel<<<(unsigned)s.c, kReduceThreads, 0, a.stream()>>>(a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y),
                                                                              a.f32(O::save_mean), a.f32(O::save_invstd), run, s, a.f(O::eps),
                                                                              a.dstep());
    if (run.tracked) bn_count_kernel<<<1, 1, 0, a.stream()>>>(a.i32(O::num_batches_tracked), a.dstep());
    return cuda_launched("batch_norm_forward");
}
template <> size_t cuda_workspace<op::BATCH_NORM_FORWARD>(const OperandsOf<op::BATCH_NORM_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::BATCH_NORM_BACKWARD>(const CudaArgs<op::BATCH_NORM_BACKWARD> & a) {
    using O = op::BATCH_NORM_BACKWARD;
    const BnShape s = bn_shape(a);
    if (s.n > 0 && s.c > 0 && s.inner > 0) {
        if (a.flag(O::accumulate_dx))
            bn_backward_kernel<true><<<(unsigned)s.c, kReduceThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::x), a.f32(O::weight),
                                                                                       a.f32(O::save_mean), a.f32(O::save_invstd), a.f32(O::dx),
                                                                                       a.f32(O::dweight), a.f32(O::dbias), s);
        else
            bn_backward_kernel<false><<<(unsigned)s.c, kReduceThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::x), a.f32(O::weight),
                                                                                        a.f32(O::save_mean), a.f32(O::save_invstd), a.f32(O::dx),
                                                                                        a.f32(O::dweight), a.f32(O::dbias), s);
    }
    return cuda_launched("batch_norm_backward");
}
template <> size_t cuda_workspace<op::BATCH_NORM_BACKWARD>(const OperandsOf<op::BATCH_NORM_BACKWARD> &, int) { return 0; }

template <> Status cuda_run<op::LAYER_NORM_FORWARD>(const CudaArgs<op::LAYER_NORM_FORWARD> & a) {
    using O = op::LAYER_NORM_FORWARD;
    const int64_t rows = (int64_t)a.n() * a.i(O::rows), cols = a.i(O::cols);
    if (rows > 0 && cols > 0)
        ln_forward_kernel<<<warp_row_blocks(rows, a.sm_count()), kThreads, 0, a.stream()>>>(
            a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y), a.f32(O::mean), a.f32(O::rstd), rows, cols, a.f(O::eps));
    return cuda_launched("layer_norm_forward");
}
template <> size_t cuda_workspace<op::LAYER_NORM_FORWARD>(const OperandsOf<op::LAYER_NORM_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::LAYER_NORM_BACKWARD>(const CudaArgs<op::LAYER_NORM_BACKWARD> & a) {
    using O = op::LAYER_NORM_BACKWARD;
    const int64_t rows = (int64_t)a.n() * a.i(O::rows), cols = a.i(O::cols);
    if (rows <= 0 || cols <= 0) return cuda_launched("layer_norm_backward");
    if (a.has(O::dweight) || a.has(O::dbias)) {
        const int64_t want = (rows + 63) / 64;
        const int chunks = (int)(want < 1 ? 1 : want > kMaxRowChunks ? kMaxRowChunks : want);
        auto * pg = static_cast<double *>(a.workspace());
        double * pb = pg + (size_t)kMaxRowChunks * cols;
        const dim3 grid((unsigned)((cols + kColTile - 1) / kColTile), (unsigned)chunks);
        ln_colsum_partials_kernel<<<grid, dim3(kColTile, kRowLanes), 0, a.stream()>>>(a.f32(O::dy), a.f32(O::x), a.f32(O::mean), a.f32(O::rstd),
                                                                                      rows, cols, pg, pb);
        ln_colsum_final_kernel<<<elementwise_blocks(cols, a.sm_count()), kThreads, 0, a.stream()>>>(pg, pb, chunks, cols, a.f32(O::dweight),
                                                                                                     a.f32(O::dbias));
    }
    if (a.has(O::dx)) {
        const unsigned blocks = warp_row_blocks(rows, a.sm_count());
        if (a.flag(O::accumulate_dx))
            ln_backward_dx_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::mean),
                                                                             a.f32(O::rstd), a.f32(O::dx), rows, cols);
        else
            ln_backward_dx_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::mean),
                                                                              a.f32(O::rstd), a.f32(O::dx), rows, cols);
    }
    return cuda_launched("layer_norm_backward");
}
template <> size_t cuda_workspace<op::LAYER_NORM_BACKWARD>(const OperandsOf<op::LAYER_NORM_BACKWARD> & a, int) {
    using O = op::LAYER_NORM_BACKWARD;
    return 2 * sizeof(double) * kMaxRowChunks * (size_t)(a.i(O::cols) > 0 ? a.i(O::cols) : 0);
}

} // namespace nl
