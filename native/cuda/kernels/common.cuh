// Device helpers shared by the CUDA op families (native/cuda/ops/*.cu): launch sizing, grid-stride
// loops, and deterministic block reductions.
//
// Determinism: every reduction here is a fixed tree (warp shuffles, then one warp over the warp
// results), and every multi-block reduction writes one partial per block to the workspace and sums
// the partials in a second one-block kernel, in block order. The grid of a partial pass depends only
// on the element count (kReducePartials at most), so the same shapes give bit-identical results run
// after run, and no float atomics are used anywhere.
//
// Rounding: nvcc contracts a*b + c into an fma by default; where the CPU kernel rounds the product
// first (every optimizer, BatchNorm's affine, the softmax scale), the kernels use mul_rn/add_rn so
// the CUDA result is the CPU's to the bit, not to an ulp.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace nl {
namespace cuda_detail {

constexpr int kThreads = 256;          // default block size of elementwise kernels
constexpr int kReduceThreads = 512;    // block size of reduction kernels
constexpr int kReducePartials = 1024;  // most blocks a partial pass launches (workspace: this many partials)

// Blocks for an elementwise grid-stride loop over `count` items: enough to fill every SM a few
// times over, never more than there are items (grid x may be up to 2^31 - 1).
inline unsigned elementwise_blocks(int64_t count, int sm_count, int threads = kThreads) {
    const int64_t need = (count + threads - 1) / threads;
    const int64_t cap = (int64_t)(sm_count > 0 ? sm_count : 80) * 8;
    const int64_t b = need < cap ? need : cap;
    return (unsigned)(b < 1 ? 1 : b);
}

// Blocks of a partial-sum pass over `count` items: a function of count alone (see Determinism).
inline unsigned partial_blocks(int64_t count, int per_thread = 4) {
    const int64_t per_block = (int64_t)kReduceThreads * per_thread;
    const int64_t b = (count + per_block - 1) / per_block;
    return (unsigned)(b < 1 ? 1 : b > kReducePartials ? kReducePartials : b);
}

__device__ __forceinline__ int64_t global_thread() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_threads() { return (int64_t)gridDim.x * blockDim.x; }

// Products and sums rounded on their own (no fma contraction), as the CPU's separate operations.
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float add_rn(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float sub_rn(float a, float b) { return __fsub_rn(a, b); }

template <class T> __device__ __forceinline__ T warp_sum(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ unsigned warp_or(unsigned v) {
    for (int o = 16; o > 0; o >>= 1) v |= __shfl_down_sync(0xffffffffu, v, o);
    return v;
}
__device__ __forceinline__ uint32_t warp_max_u32(uint32_t v) {
    for (int o = 16; o > 0; o >>= 1) {
        const uint32_t w = __shfl_down_sync(0xffffffffu, v, o);
        v = w > v ? w : v;
    }
    return v;
}

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024), valid in thread 0. `sh`
// holds 32 values; the function syncs before returning so `sh` may be reused at once.
template <class T> __device__ T block_sum(T v, T * sh) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    T r = T(0);
    if (wid == 0) {
        r = lane < nw ? sh[lane] : T(0);
        r = warp_sum(r);
    }
    __syncthreads();
    return r;
}
// The block's sum, broadcast to every thread.
template <class T> __device__ T block_sum_all(T v, T * sh) {
    __shared__ T total;
    const T r = block_sum(v, sh);
    if (threadIdx.x == 0) total = r;
    __syncthreads();
    const T out = total;
    __syncthreads();
    return out;
}
__device__ __forceinline__ unsigned block_or(unsigned v, unsigned * sh) {
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    v = warp_or(v);
    if (lane == 0) sh[wid] = v;
    __syncthreads();
    unsigned r = 0;
    if (wid == 0) r = warp_or(lane < nw ? sh[lane] : 0u);
    __syncthreads();
    return r;
}

// Sums `count` partials in index order within one block (the second pass of a two-pass reduction),
// valid in thread 0. Each thread takes a strided slice; the tree over threads is fixed.
template <class T> __device__ T sum_partials(const T * partials, int count, T * sh) {
    T v = T(0);
    for (int i = threadIdx.x; i < count; i += blockDim.x) v += partials[i];
    return block_sum(v, sh);
}

} // namespace cuda_detail
} // namespace nl
