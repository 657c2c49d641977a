// A host emulation of the CUDA that native/cuda's kernels use, so that their kernels AND their host code
// run on a CPU (no GPU here, nor in CI) and are compared with the CPU kernels. One shim for both
// emulation checks: test/native-cuda/emulate/ (gemm.cuh, linear.cu, conv.cu) and emulate-ops/
// (activation, loss, pool, norm, dropout, structure, optim .cu); each run.sh builds through run-lib.sh
// here. Kernel launches (<<<...>>>) are rewritten to nl_emu::launch calls by rewrite-launches.py.
// Each block runs as blockDim real threads (a real barrier for __syncthreads); blocks run one after
// another, so a __shared__ variable can be a function-local static. Warp shuffles (xor and down, any 4-
// or 8-byte type) exchange through a barrier per WARP, not per block: a warp's row loop may run a
// different number of times than its neighbours'. The _rn intrinsics are plain IEEE operations here
// (g++ for x86-64 without -mfma contracts nothing). __CUDA_ARCH__ is undefined: the TF32 GEMM kernel
// runs its pre-sm_80 fp32 branch, which uses the same fragment index arithmetic as the mma path (so the
// tiling, masking, batching and epilogue are all exercised; the PTX mma and cvt themselves are not).
#pragma once
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
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

struct Barrier {
    std::mutex mu;
    std::condition_variable cv;
    int threads = 0, waiting = 0;
    long generation = 0;
    void wait() {
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

struct Block {
    Barrier all;
    std::vector<std::unique_ptr<Barrier>> warps;
    std::vector<uint64_t> xchg;   // one 8-byte slot per thread for shuffles
};

inline thread_local dim3 t_thread, t_block;
inline thread_local Block * t_state = nullptr;
inline dim3 g_grid, g_blockdim;
inline std::mutex g_atomic;

template <class F> void launch(dim3 grid, dim3 block, size_t, cudaStream_t, F f) {
    g_grid = grid;
    g_blockdim = block;
    const int nt = (int)(block.x * block.y * block.z);
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++) {
                Block st;
                st.all.threads = nt;
                for (int w = 0; w * 32 < nt; w++) {
                    st.warps.emplace_back(new Barrier);
                    st.warps.back()->threads = nt - w * 32 < 32 ? nt - w * 32 : 32;
                }
                st.xchg.assign(nt, 0);
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

// Every lane of the warp calls it at the same point (as in the kernels): exchange through the warp.
template <class T> T shuffle(T v, int src_lane) {
    static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
    Block & b = *t_state;
    const int t = linear_thread(), w = t / 32;
    Barrier & bar = *b.warps[w];
    std::memcpy(&b.xchg[t], &v, sizeof(T));
    bar.wait();
    T r = v;
    const int src = w * 32 + src_lane;
    if (src_lane >= 0 && src_lane < 32 && src < (int)b.xchg.size()) std::memcpy(&r, &b.xchg[src], sizeof(T));
    bar.wait();
    return r;
}

} // namespace nl_emu

#define threadIdx (nl_emu::t_thread)
#define blockIdx (nl_emu::t_block)
#define gridDim (nl_emu::g_grid)
#define blockDim (nl_emu::g_blockdim)

inline void __syncthreads() { nl_emu::t_state->all.wait(); }

template <class T> T __shfl_down_sync(unsigned, T v, int o) {
    const int lane = nl_emu::linear_thread() % 32;
    return nl_emu::shuffle(v, lane + o < 32 ? lane + o : lane);
}
template <class T> T __shfl_xor_sync(unsigned, T v, int o) { return nl_emu::shuffle(v, (nl_emu::linear_thread() % 32) ^ o); }

inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline uint32_t __float_as_uint(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}
inline unsigned atomicOr(unsigned * p, unsigned v) {
    std::lock_guard<std::mutex> lk(nl_emu::g_atomic);
    const unsigned old = *p;
    *p = old | v;
    return old;
}

inline cudaError_t cudaMemsetAsync(void * p, int v, size_t n, cudaStream_t = nullptr) {
    std::memset(p, v, n);
    return cudaSuccess;
}
using std::isfinite;
