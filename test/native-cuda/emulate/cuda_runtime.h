// A host emulation of the little of CUDA that native/cuda/kernels/gemm.cuh and native/cuda/ops/linear.cu
// + conv.cu use, so that their kernels AND their host code run on a CPU (no GPU here, nor in CI) and are
// compared with the CPU kernels (gemm-emulation.cpp). Each block runs as blockDim real threads with a
// real barrier for __syncthreads and a block-wide exchange for __shfl_down_sync; blocks run one after
// another, so __shared__ can be a function-local static. Kernel launches (<<<...>>>) are rewritten to
// nl_emu::launch calls by rewrite-launches.py. __CUDA_ARCH__ is undefined here: the TF32 kernel runs its
// pre-sm_80 fp32 branch, which uses the same fragment index arithmetic as the mma path (so the tiling,
// masking, batching and epilogue are all exercised; the PTX mma and cvt themselves are not).
#pragma once
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct float4 {
    float x, y, z, w;
};
typedef struct CUstream_st * cudaStream_t;
enum cudaError_t { cudaSuccess = 0 };

namespace nl_emu {

struct Block {
    std::mutex mu;
    std::condition_variable cv;
    int threads = 0, waiting = 0;
    long generation = 0;
    std::vector<float> xchg;
    void barrier() {
        std::unique_lock<std::mutex> lk(mu);
        const long gen = generation;
        if (++waiting == threads) {
            waiting = 0;
            generation++;
            cv.notify_all();
        } else {
            cv.wait(lk, [&] { return generation != gen; });
        }
    }
};

inline thread_local dim3 t_thread, t_block;
inline thread_local Block * t_state = nullptr;
inline dim3 g_grid, g_blockdim;

template <class F> void launch(dim3 grid, dim3 block, size_t, cudaStream_t, F f) {
    g_grid = grid;
    g_blockdim = block;
    const int nt = (int)(block.x * block.y * block.z);
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                Block st;
                st.threads = nt;
                st.xchg.assign(nt, 0.f);
                std::vector<std::thread> ts;
                for (int t = 0; t < nt; t++)
                    ts.emplace_back([&, t] {
                        t_thread = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
                        t_block = dim3(bx, by, bz);
                        t_state = &st;
                        f();
                    });
                for (auto & th : ts) th.join();
            }
}

inline int linear_thread() { return (int)(t_thread.x + g_blockdim.x * (t_thread.y + g_blockdim.y * t_thread.z)); }

} // namespace nl_emu

#define threadIdx (nl_emu::t_thread)
#define blockIdx (nl_emu::t_block)
#define gridDim (nl_emu::g_grid)
#define blockDim (nl_emu::g_blockdim)

inline void __syncthreads() { nl_emu::t_state->barrier(); }

// Every thread of the block calls it at the same point (as in the kernels): exchange through the block.
inline float __shfl_down_sync(unsigned, float v, int o) {
    nl_emu::Block & b = *nl_emu::t_state;
    const int t = nl_emu::linear_thread();
    b.xchg[t] = v;
    b.barrier();
    const float r = (t % 32) + o < 32 && t + o < b.threads ? b.xchg[t + o] : v;
    b.barrier();
    return r;
}

inline cudaError_t cudaMemsetAsync(void * p, int v, size_t n, cudaStream_t = nullptr) {
    std::memset(p, v, n);
    return cudaSuccess;
}
