// Cost of the non-finite gradient check (Session::gradients_finite) on the PyTorch quickstart MLP
// (784-512-512-10, ReLU, CrossEntropyLoss, SGD, batch 64): times whole training epochs over
// random data, then the same number of gradient checks on their own, and prints the ratio, and how
// many optimizer-step checks ran the exact check rather than the bound (Session::exact_step_checks).
// Not a ctest: run build/native/bench_gradcheck [threads] [samples] [sgd|momentum|adam].
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <tuple>
#include <vector>
#include "netloom.h"
#include "program-builder.h"

namespace {

// Prog: the shared hand-built Program (program-builder.h), batch 64 here.
struct Prog : ProgramBuilder {
    Prog() { batch = 64; }
};

}  // namespace

int main(int argc, char ** argv) {
    int threads = argc > 1 ? std::atoi(argv[1]) : 0;
    int count = argc > 2 ? std::atoi(argv[2]) : 60000;
    const char * opt = argc > 3 ? argv[3] : "sgd";
    Prog p;
    const int D[4] = {784, 512, 512, 10};
    int x = p.add(0, 1, 784), lab = p.add(1, 1, 1);
    int W[3], B[3], Y[3], H[2], dW[3], dB[3], dY[3], dH[2];
    for (int l = 0; l < 3; l++) {
        W[l] = p.add(0, 0, D[l + 1] * D[l]);
        B[l] = p.add(0, 0, D[l + 1]);
        Y[l] = p.add(0, 1, D[l + 1]);
        if (l < 2) H[l] = p.add(0, 1, D[l + 1]);
        dW[l] = p.add(0, 0, D[l + 1] * D[l]);
        dB[l] = p.add(0, 0, D[l + 1]);
        dY[l] = p.add(0, 1, D[l + 1]);
        if (l < 2) dH[l] = p.add(0, 1, D[l + 1]);
    }
    int probs = p.add(0, 1, 10), loss = p.add(0, 0, 1), correct = p.add(1, 0, 1);
    for (int l = 0; l < 3; l++) {
        int in = l == 0 ? x : H[l - 1];
        p.fwd.push_back(Prog::ins(nl::Op::LINEAR_FORWARD, {in, W[l], B[l], Y[l]}, {D[l], D[l + 1]}));
        if (l < 2) p.fwd.push_back(Prog::ins(nl::Op::RELU_FORWARD, {Y[l], H[l]}, {D[l + 1]}));
    }
    p.fwd.push_back(Prog::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {Y[2], lab, probs, loss, correct, -1}, {10, -100, 0}, {0.f}));
    p.bwd.push_back(Prog::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dY[2], -1}, {10, 0, -100, 0}, {0.f}));
    for (int l = 2; l >= 0; l--) {
        int in = l == 0 ? x : H[l - 1];
        p.bwd.push_back(Prog::ins(nl::Op::LINEAR_BACKWARD, {dY[l], in, W[l], l == 0 ? -1 : dH[l - 1], dW[l], dB[l]}, {D[l], D[l + 1], 0}));
        if (l > 0) p.bwd.push_back(Prog::ins(nl::Op::RELU_BACKWARD, {dH[l - 1], H[l - 1], dY[l - 1]}, {D[l], 0}));
    }
    for (int l = 0; l < 3; l++) {
        for (auto [param, grad, n] : {std::tuple<int, int, int>{W[l], dW[l], D[l + 1] * D[l]}, {B[l], dB[l], D[l + 1]}}) {
            if (!std::strcmp(opt, "adam")) {
                int m = p.add(0, 0, n), v = p.add(0, 0, n);
                p.step.push_back(Prog::ins(nl::Op::ADAM_STEP, {param, grad, m, v, -1}, {0, 0, 0}, {1e-3f, 0.9f, 0.999f, 1e-8f, 0}));
            } else if (!std::strcmp(opt, "momentum")) {
                p.step.push_back(Prog::ins(nl::Op::SGD_STEP, {param, grad, p.add(0, 0, n)}, {0, 0}, {1e-3f, 0.9f, 0, 0}));
            } else {
                p.step.push_back(Prog::ins(nl::Op::SGD_STEP, {param, grad, -1}, {0, 0}, {1e-3f, 0, 0, 0}));
            }
        }
    }
    std::vector<int32_t> w = p.words({x, lab, Y[2], probs, loss, correct, 10, -1});
    std::unique_ptr<nl::Session> s;
    nl::Status st = nl::Session::create(w.data(), w.size(), threads, s);
    if (!st.ok()) {
        std::printf("create: %s\n", st.message.c_str());
        return 1;
    }
    uint32_t r = 12345;
    auto rnd = [&] { return (r = r * 1664525u + 1013904223u) >> 8; };
    for (int l = 0; l < 3; l++) {
        std::vector<float> v((size_t)D[l] * D[l + 1]);
        for (auto & e : v) e = ((float)(rnd() % 2000) / 1000.f - 1.f) / 28.f;
        s->set_buffer(W[l], v.data(), v.size() * 4);
    }
    std::vector<uint8_t> images((size_t)count * 784), labels(count);
    for (auto & e : images) e = (uint8_t)rnd();
    for (auto & e : labels) e = (uint8_t)(rnd() % 10);
    s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), count, 784);
    nl::EpochOptions o;
    o.count = count;
    o.batch = 64;
    using clock = std::chrono::steady_clock;
    double best_epoch = 1e9, best_check = 1e9;
    int64_t batches = (count + 63) / 64;
    for (int rep = 0; rep < 5; rep++) {
        nl::EpochResult er;
        auto t0 = clock::now();
        s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, er);
        best_epoch = std::min(best_epoch, std::chrono::duration<double>(clock::now() - t0).count());
        t0 = clock::now();
        bool ok = true;
        for (int64_t b = 0; b < batches; b++) ok = s->gradients_finite() && ok;
        best_check = std::min(best_check, std::chrono::duration<double>(clock::now() - t0).count());
        if (!ok) std::printf("unexpected non-finite gradients\n");
    }
    std::printf("threads %d: epoch %.3f s (%.0f samples/s); %lld gradient checks %.4f s = %.2f%% of the epoch (%.1f us each, 669,706 values)\n",
                s->threads(), best_epoch, count / best_epoch, (long long)batches, best_check, 100 * best_check / best_epoch, 1e6 * best_check / batches);
#ifndef BENCH_WITHOUT_STEP_BOUNDS   // defined when built against a core from before the bound
    std::printf("%s: %lld optimizer steps, %llu step checks ran the exact check\n", opt, (long long)s->steps(),
                (unsigned long long)s->exact_step_checks());
#endif
    return 0;
}
