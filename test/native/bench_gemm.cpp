// sgemm benchmark for the GEMMs of one training step of the PyTorch-quickstart MLP
// (784-512-512-10, W stored [out, in] like nn.Linear), at batch 64 and 256, with 1 and 2
// threads. Prints GFLOP/s per shape (median of repeats) and the aggregate of the whole set,
// both as the sum of per-shape medians and as a timed back-to-back step (closer to training).
//
//   bench_gemm [reps] [level]   reps: timed repeats per number (default 31)
//                               level: avx512 | avx2 | portable (default: best the CPU has)
#include "gemm.h"
#include "threadpool.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

struct Shape {
    const char * what;
    bool ta, tb;
    int M, N, K;
};

struct Buf {
    float * p = nullptr;
    explicit Buf(size_t n) {
        p = (float *)std::aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64);
        for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    }
    ~Buf() { std::free(p); }
    Buf(const Buf &) = delete;
    Buf & operator=(const Buf &) = delete;
};

struct Op {
    Shape s;
    Buf A, B, C;
    explicit Op(const Shape & sh)
        : s(sh), A((size_t)sh.M * sh.K), B((size_t)sh.K * sh.N), C((size_t)sh.M * sh.N) {}
    void run(nl::ThreadPool * pool) {
        const int lda = s.ta ? s.M : s.K, ldb = s.tb ? s.K : s.N;
        nl::sgemm(pool, s.ta, s.tb, s.M, s.N, s.K, 1.f, A.p, lda, B.p, ldb, 0.f, C.p, s.N);
    }
    double flops() const { return 2.0 * s.M * s.N * s.K; }
};

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// median seconds per call of f, each repeat long enough (~2 ms) to time reliably
template <class F> static double median_time(F && f, int reps) {
    f();
    double t0 = now_s();
    int inner = 0;
    do {
        f();
        inner++;
    } while (now_s() - t0 < 2e-3);
    std::vector<double> ts;
    for (int r = 0; r < reps; r++) {
        double a = now_s();
        for (int i = 0; i < inner; i++) f();
        ts.push_back((now_s() - a) / inner);
    }
    std::sort(ts.begin(), ts.end());
    return ts[ts.size() / 2];
}

int main(int argc, char ** argv) {
    const int reps = argc > 1 ? std::atoi(argv[1]) : 31;
    if (argc > 2) {
        const std::string lv = argv[2];
        const nl::SimdLevel l = lv == "avx512" ? nl::SimdLevel::AVX512 : lv == "avx2" ? nl::SimdLevel::AVX2 : nl::SimdLevel::Portable;
        if (!nl::simd_force(l)) {
            std::printf("this CPU does not support %s\n", lv.c_str());
            return 1;
        }
    }
    std::printf("simd: %s, hardware threads: %d\n", nl::simd_name(nl::simd_active()), nl::hardware_threads());
    nl::ThreadPool pool1(1), pool2(2);
    for (int batch : {64, 256}) {
        const Shape shapes[] = {
            {"fwd  x W1^T", false, true, batch, 512, 784}, {"fwd  h W2^T", false, true, batch, 512, 512},
            {"fwd  h W3^T", false, true, batch, 10, 512},  {"bwd  dy W3 ", false, false, batch, 512, 10},
            {"bwd  dy W2 ", false, false, batch, 512, 512}, {"bwd  dy^T x", true, false, 512, 784, batch},
            {"bwd  dy^T h", true, false, 512, 512, batch}, {"bwd  dy^T h", true, false, 10, 512, batch},
        };
        std::vector<Op *> ops;
        for (const Shape & s : shapes) ops.push_back(new Op(s));
        std::printf("\nbatch %d                      M     N     K   GFLOP/s 1 thr   GFLOP/s 2 thr\n", batch);
        double tot_flops = 0, tsum1 = 0, tsum2 = 0;
        for (Op * op : ops) {
            double t1 = median_time([&] { op->run(&pool1); }, reps);
            double t2 = median_time([&] { op->run(&pool2); }, reps);
            tot_flops += op->flops();
            tsum1 += t1;
            tsum2 += t2;
            std::printf("  %-s  ta=%d tb=%d %5d %5d %5d   %8.1f        %8.1f\n", op->s.what, op->s.ta, op->s.tb, op->s.M,
                        op->s.N, op->s.K, op->flops() / t1 * 1e-9, op->flops() / t2 * 1e-9);
        }
        double step1 = median_time([&] { for (Op * op : ops) op->run(&pool1); }, reps);
        double step2 = median_time([&] { for (Op * op : ops) op->run(&pool2); }, reps);
        std::printf("  aggregate (sum of medians)                 %8.1f        %8.1f\n", tot_flops / tsum1 * 1e-9,
                    tot_flops / tsum2 * 1e-9);
        std::printf("  aggregate (back-to-back step, %.1f MFLOP)  %8.1f        %8.1f   (%.0f us / %.0f us per step)\n",
                    tot_flops * 1e-6, tot_flops / step1 * 1e-9, tot_flops / step2 * 1e-9, step1 * 1e6, step2 * 1e6);
        for (Op * op : ops) delete op;
    }
    return 0;
}
