// Times the convolution and pooling kernels of the benchmark CNN
//   Conv2d(1,32,3) -> ReLU -> Conv2d(32,64,3) -> ReLU -> MaxPool2d(2) -> ...   on 28x28 inputs
// forward and backward (conv1 needs no dx: it is the first layer), at a given batch and thread count.
//
//   bench_conv [batch=64] [threads=2] [seconds per op=1]
// Prints the median time per call of each kernel and the totals.
#include "kernels.h"
#include "threadpool.h"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

static double now_s() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// median seconds per call of f, after a warm-up, over about `budget` seconds
static double time_op(const std::function<void()> & f, double budget) {
    f();
    std::vector<double> t;
    const double start = now_s();
    while (t.size() < 5 || (now_s() - start < budget && t.size() < 2000)) {
        const double a = now_s();
        f();
        t.push_back(now_s() - a);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

static std::vector<float> filled(size_t n, float v) {
    std::vector<float> x(n);
    for (size_t i = 0; i < n; i++) x[i] = v * (float)((i * 2654435761u) % 1000) / 1000.f - v / 2;
    return x;
}

int main(int argc, char ** argv) {
    const int batch = argc > 1 ? std::atoi(argv[1]) : 64;
    const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    const double budget = argc > 3 ? std::atof(argv[3]) : 1.0;
    nl::ThreadPool pool(threads);

    //                cin  h   w  cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw g  ho  wo
    nl::ConvShape c1{1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 26, 26};
    nl::ConvShape c2{32, 26, 26, 64, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, 24, 24};
    nl::PoolShape mp{64, 24, 24, 2, 2, 2, 2, 0, 0, 1, 1, 12, 12, true, 0};

    std::vector<float> x = filled((size_t)batch * 28 * 28, 1.f);
    std::vector<float> w1 = filled(32 * 9, 0.6f), b1 = filled(32, 0.2f);
    std::vector<float> w2 = filled(64 * 32 * 9, 0.1f), b2 = filled(64, 0.2f);
    std::vector<float> a1((size_t)batch * 32 * 26 * 26), a2((size_t)batch * 64 * 24 * 24), p((size_t)batch * 64 * 144);
    std::vector<int32_t> idx(p.size());
    std::vector<float> dp = filled(p.size(), 1.f), da2(a2.size()), da1(a1.size());
    std::vector<float> dw1(w1.size()), db1(b1.size()), dw2(w2.size()), db2(b2.size());

    struct Row {
        const char * name;
        double flops; // multiply-adds x 2
        std::function<void()> f;
    };
    const double f1 = 2.0 * batch * 32 * 676 * 9, f2 = 2.0 * batch * 64 * 576 * 288;
    std::vector<Row> rows = {
        {"conv1 forward  (1->32, 28->26)", f1, [&] { nl::conv2d_forward(&pool, c1, x.data(), w1.data(), b1.data(), a1.data(), batch); }},
        {"conv2 forward  (32->64, 26->24)", f2, [&] { nl::conv2d_forward(&pool, c2, a1.data(), w2.data(), b2.data(), a2.data(), batch); }},
        {"maxpool2 forward", 0, [&] { nl::max_pool2d_forward(&pool, mp, a2.data(), p.data(), idx.data(), batch); }},
        {"maxpool2 backward", 0, [&] { nl::max_pool2d_backward(&pool, mp, dp.data(), idx.data(), da2.data(), batch, false); }},
        {"conv2 backward (dx, dw, db)", 2 * f2, [&] {
             nl::conv2d_backward(&pool, c2, da2.data(), a1.data(), w2.data(), da1.data(), dw2.data(), db2.data(), batch, false);
         }},
        {"conv1 backward (dw, db)", f1, [&] {
             nl::conv2d_backward(&pool, c1, da1.data(), x.data(), w1.data(), nullptr, dw1.data(), db1.data(), batch, false);
         }},
    };
    // run the forward once so that the backward inputs are real activations
    for (int i = 0; i < 3; i++) rows[i].f();

    std::printf("bench_conv: batch %d, %d threads\n", batch, threads);
    double fwd = 0, bwd = 0;
    for (size_t i = 0; i < rows.size(); i++) {
        const double t = time_op(rows[i].f, budget);
        (i < 3 ? fwd : bwd) += t;
        if (rows[i].flops > 0)
            std::printf("  %-34s %8.3f ms  %6.1f GFLOP/s\n", rows[i].name, t * 1e3, rows[i].flops / t * 1e-9);
        else
            std::printf("  %-34s %8.3f ms\n", rows[i].name, t * 1e3);
    }
    std::printf("  forward total  %8.3f ms\n  backward total %8.3f ms\n  fwd+bwd        %8.3f ms  (%.0f samples/s through these layers)\n",
                fwd * 1e3, bwd * 1e3, (fwd + bwd) * 1e3, batch / (fwd + bwd));
    return 0;
}
