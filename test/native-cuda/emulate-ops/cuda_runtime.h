// A host emulation of the CUDA the non-GEMM op kernels (native/cuda/ops/{activation,loss,pool,norm,
// dropout,structure,optim}.cu) use, so their kernels and host code run on a CPU and can be compared
// with the CPU kernels where there is no GPU (ops-emulation.cpp; run.sh builds it). After the GEMM
// engineer's test/native-cuda/emulate/cuda_runtime.h, extended with what these kernels need: warp
// shuffles of any 4- or 8-byte type (xor and down) with a barrier per WARP (a warp's row loop may run
// a different number of times than its neighbours'), the _rn intrinsics (plain IEEE operations here:
// g++ for x86-64 without -mfma contracts nothing), __float_as_uint and atomicOr.
// Each block runs as blockDim real threads (real barriers); blocks run one after another, so a
// __shared__ variable can be a function-local static. __CUDA_ARCH__ is undefined.
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
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
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
using std::isfinite;
