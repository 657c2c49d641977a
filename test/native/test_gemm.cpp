// Tests for nl::sgemm and nl::ThreadPool. Plain program: one line per check, non-zero exit on
// failure. sgemm is compared with a double-precision reference loop for every SIMD level the
// CPU has, every transpose combination, pools of 1, 2 and 3 threads, odd sizes and strides.
#include "gemm.h"
#include "threadpool.h"
#include "test-util.h"
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <thread>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstdint>
#include <vector>

using namespace nltest;

static XorShift g_rng(0x9E3779B97F4A7C15ull);
static float frand() { return g_rng.uniform(); } // uniform in [-1, 1)

struct Case {
    int M, N, K;
    int pad; // extra leading-dimension elements for A, B, C
};

// Runs one sgemm and compares with the reference. Returns the worst error / tolerance ratio.
static bool run_case(nl::ThreadPool * pool, bool ta, bool tb, const Case & cs, float alpha, float beta, bool nan_c,
                     double * worst) {
    const int M = cs.M, N = cs.N, K = cs.K;
    const int lda = (ta ? M : K) + cs.pad, ldb = (tb ? K : N) + cs.pad, ldc = N + cs.pad;
    const size_t arows = ta ? K : M, brows = tb ? N : K;
    std::vector<float> A(arows * lda + 1), B(brows * ldb + 1), C((size_t)M * ldc + 1), C0;
    for (auto & x : A) x = frand();
    for (auto & x : B) x = frand();
    for (auto & x : C) x = nan_c ? NAN : frand();
    C0 = C;
    nl::sgemm(pool, ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
    bool ok = true;
    *worst = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double acc = 0, mag = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
                mag += std::fabs(a * b);
            }
            double c0 = C0[(size_t)i * ldc + j];
            double ref = alpha * acc + (beta == 0 ? 0.0 : beta * c0);
            double tol = 1e-5 * (std::fabs(alpha) * mag + std::fabs(beta * (beta == 0 ? 0.0 : c0))) + 1e-6;
            double got = C[(size_t)i * ldc + j];
            double err = std::fabs(got - ref);
            if (!(err <= tol)) ok = false; // catches NaN
            if (err / tol > *worst || std::isnan(got)) *worst = std::isnan(got) ? INFINITY : err / tol;
        }
        // the padding between rows must be untouched
        for (int j = N; j < ldc && i < M - 1; j++) {
            float a = C[(size_t)i * ldc + j], b = C0[(size_t)i * ldc + j];
            if (!(a == b || (std::isnan(a) && std::isnan(b)))) ok = false;
        }
    }
    return ok;
}

static void test_gemm() {
    const Case cases[] = {
        {1, 1, 1, 0},     {7, 13, 5, 0},     {63, 65, 127, 0},  {64, 512, 784, 0}, {5, 3, 0, 2},
        {1, 100, 17, 3},  {100, 1, 17, 1},   {6, 64, 64, 0},    {13, 70, 33, 5},   {37, 129, 300, 7},
        {64, 10, 512, 0}, {10, 512, 64, 0},  {19, 200, 600, 1}, {130, 47, 1100, 0}, {2, 17, 16, 0},
    };
    const nl::SimdLevel levels[] = {nl::SimdLevel::Portable, nl::SimdLevel::AVX2, nl::SimdLevel::AVX512};
    const nl::SimdLevel detected = nl::simd_detect();
    std::printf("# cpu supports %s\n", nl::simd_name(detected));
    nl::ThreadPool p1(1), p2(2), p3(3);
    nl::ThreadPool * pools[] = {&p1, &p2, &p3};
    for (nl::SimdLevel lv : levels) {
        if (!nl::simd_force(lv)) {
            std::printf("# skip %s (not supported)\n", nl::simd_name(lv));
            continue;
        }
        check(nl::simd_active() == lv, "simd_force sets the active level");
        int ci = 0;
        for (const Case & cs : cases) {
            for (int t = 0; t < 4; t++) {
                const bool ta = t & 1, tb = t & 2;
                for (nl::ThreadPool * pool : pools) {
                    // keep the biggest case to a subset of combinations (the reference is slow)
                    const bool big = (double)cs.M * cs.N * cs.K > 1e7;
                    const float betas[] = {0.f, 1.f, 0.5f};
                    for (int bi = 0; bi < 3; bi++) {
                        if (big && bi != (ci + t) % 3) continue;
                        const float beta = betas[bi];
                        const float alpha = (bi == 1) ? 1.f : -1.5f;
                        double worst;
                        bool ok = run_case(pool, ta, tb, cs, alpha, beta, false, &worst);
                        char msg[200];
                        std::snprintf(msg, sizeof msg, "%s M=%d N=%d K=%d pad=%d ta=%d tb=%d threads=%d alpha=%g beta=%g (err/tol %.3g)",
                                      nl::simd_name(lv), cs.M, cs.N, cs.K, cs.pad, ta, tb, pool->size(), alpha, beta, worst);
                        check(ok, std::string(msg));
                    }
                    if (!big || pool == &p2) {
                        double worst;
                        bool ok = run_case(pool, ta, tb, cs, 0.75f, 0.f, true, &worst);
                        char msg[200];
                        std::snprintf(msg, sizeof msg, "%s M=%d N=%d K=%d ta=%d tb=%d threads=%d beta=0 with NaN-filled C (err/tol %.3g)",
                                      nl::simd_name(lv), cs.M, cs.N, cs.K, ta, tb, pool->size(), worst);
                        check(ok, std::string(msg));
                    }
                }
            }
            ci++;
        }
        // zero sizes are no-ops
        {
            float c[4] = {1, 2, 3, 4};
            nl::sgemm(&p2, false, false, 0, 2, 3, 1.f, nullptr, 3, nullptr, 2, 0.f, c, 2);
            nl::sgemm(&p2, false, false, 2, 0, 3, 1.f, nullptr, 3, nullptr, 2, 0.f, c, 2);
            check(c[0] == 1 && c[3] == 4, "M=0 or N=0 leaves C alone");
            nl::sgemm(&p2, false, false, 2, 2, 0, 1.f, nullptr, 1, nullptr, 2, 0.5f, c, 2);
            check(c[0] == 0.5f && c[3] == 2.f, "K=0 scales C by beta");
            float d[4] = {NAN, NAN, NAN, NAN};
            nl::sgemm(&p2, true, true, 2, 2, 0, 1.f, nullptr, 2, nullptr, 1, 0.f, d, 2);
            check(d[0] == 0 && d[3] == 0, "K=0, beta=0 zeroes NaN-filled C");
        }
    }
    nl::simd_force(detected);
}

// ---- thread pool -------------------------------------------------------------------------------

static void test_pool() {
    for (int n : {1, 2, 3, 4}) {
        nl::ThreadPool pool(n);
        char msg[160];
        std::snprintf(msg, sizeof msg, "pool(%d).size() == %d", n, n);
        check(pool.size() == n, std::string(msg));
        // many tiny calls: every task runs exactly once per call
        std::vector<std::atomic<int>> hits(64);
        long total_ok = 0;
        for (int it = 0; it < 20000; it++) {
            const int tasks = 1 + it % 17;
            std::atomic<long> sum{0};
            pool.run(tasks, [&](int t) {
                sum.fetch_add(t + 1);
                hits[t].fetch_add(1, std::memory_order_relaxed);
            });
            if (sum.load() == (long)tasks * (tasks + 1) / 2) total_ok++;
        }
        std::snprintf(msg, sizeof msg, "pool(%d): 20000 tiny parallel_for calls, task sums all correct", n);
        check(total_ok == 20000, std::string(msg));
        long expect0 = 20000; // task 0 runs every call
        std::snprintf(msg, sizeof msg, "pool(%d): task 0 ran once per call (%d)", n, hits[0].load());
        check(hits[0].load() == expect0, std::string(msg));
        // zero and negative task counts are no-ops
        int called = 0;
        pool.run(0, [&](int) { called++; });
        pool.run(-3, [&](int) { called++; });
        std::snprintf(msg, sizeof msg, "pool(%d): n_tasks <= 0 runs nothing", n);
        check(called == 0, std::string(msg));
        // more tasks than threads, uneven lengths
        std::vector<int> out(1000, 0);
        pool.run(1000, [&](int t) {
            volatile double x = 0;
            for (int i = 0; i < (t % 7) * 100; i++) x = x + i;
            out[t] = t * 2;
        });
        bool ok = true;
        for (int t = 0; t < 1000; t++) ok = ok && out[t] == t * 2;
        std::snprintf(msg, sizeof msg, "pool(%d): 1000 uneven tasks all done", n);
        check(ok, std::string(msg));
    }
    // destruction right after use, repeatedly (workers spinning or asleep)
    {
        bool ok = true;
        for (int it = 0; it < 300; it++) {
            nl::ThreadPool * pool = new nl::ThreadPool(2 + it % 3);
            std::atomic<int> c{0};
            for (int r = 0; r < (it % 4); r++) pool->run(8, [&](int) { c.fetch_add(1); });
            delete pool;
            ok = ok && c.load() == 8 * (it % 4);
        }
        check(ok, "300 pools created, used 0-3 times and destroyed immediately");
    }
    // a worker that went to sleep wakes up for the next call
    {
        nl::ThreadPool pool(2);
        std::atomic<int> c{0};
        pool.run(2, [&](int) { c.fetch_add(1); });
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, nullptr); // well past the spin period
        pool.run(64, [&](int) { c.fetch_add(1); });
        check(c.load() == 66, "calls after the workers slept");
    }
    // hardware_threads
    check(nl::hardware_threads() >= 1, "hardware_threads() >= 1");
    nl::ThreadPool p0(0);
    check(p0.size() == nl::hardware_threads(), "ThreadPool(0) uses all hardware threads");
}

#if defined(__linux__)
// The calling thread's nice value (per thread on Linux).
static int thread_nice() {
    errno = 0;
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

// The nice value a background thread started by a caller at `caller` should have: 10 more, up to 19.
// A caller already at 10 or more (a test run under `nice`) is left where it is: a thread never goes
// lower than nice 10 on our account, and it must never run at a higher priority than its caller.
static int background_nice(int caller) { return caller < 10 ? std::min(caller + 10, 19) : caller; }
#endif

// Background priority: off by default (epoch work runs on the caller at the caller's priority); on,
// the pool's workers and the epoch runner run at a lower priority and the caller's stays as it was.
static void test_background_priority() {
    check(!nl::background_priority(), "background priority is off by default");
    bool inline_ran_here = false;
    const std::thread::id me = std::this_thread::get_id();
    nl::run_epoch_work([&] { inline_ran_here = std::this_thread::get_id() == me; });
    check(inline_ran_here, "off: epoch work runs on the calling thread");
#if defined(__linux__)
    const int base = thread_nice();
    nl::set_background_priority(true);
    std::atomic<int> worker_nice{-100}, runner_nice{-100};
    std::thread::id runner_id;
    {
        nl::ThreadPool pool(2);
        // task 1 of 2 runs on the worker unless the caller takes both: keep trying until a worker ran one
        for (int it = 0; it < 1000 && worker_nice.load() == -100; it++)
            pool.run(2, [&](int) {
                if (std::this_thread::get_id() != me) worker_nice.store(thread_nice());
                struct timespec ts = {0, 100 * 1000};
                nanosleep(&ts, nullptr);
            });
    }
    nl::run_epoch_work([&] {
        runner_id = std::this_thread::get_id();
        runner_nice.store(thread_nice());
    });
    std::thread::id again;
    nl::run_epoch_work([&] { again = std::this_thread::get_id(); });
    nl::set_background_priority(false);
    // compared with the caller's own nice value, not 0: ctest may itself run under `nice`
    const int want = background_nice(base);
    char msg[200];
    std::snprintf(msg, sizeof msg, "on: pool worker nice %d, want %d (caller's %d)", worker_nice.load(), want, base);
    check(worker_nice.load() == want, std::string(msg));
    std::snprintf(msg, sizeof msg, "on: epoch runner nice %d, want %d (caller's %d), and it is another thread", runner_nice.load(), want, base);
    check(runner_nice.load() == want && runner_id != me, std::string(msg));
    check(again == runner_id, "on: the runner is reused from one epoch to the next (no thread per epoch)");
    check(thread_nice() == base, "on: the calling thread's priority is unchanged");
#endif
}

int main() {
    test_pool();
    test_background_priority();
    test_gemm();
    return finish();
}
