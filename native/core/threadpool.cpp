// Persistent spin-then-sleep thread pool (contract in threadpool.h).
//
// One call of parallel_for is one "generation". The shared 64-bit word `state` holds
// (generation << 32) | next_task. A thread claims task t by a CAS from (g, t) to (g, t + 1); a
// claim can only succeed while generation g is open, so a worker that wakes late (after the
// caller has returned, or while the next call is being set up) can never run a stale task.
//
//   caller:  close the old generation (next = CLOSED), write the job (fn, ctx, n_tasks), publish
//            (g + 1, 0), wake sleepers if any, claim tasks itself, then wait until done == n_tasks.
//   worker:  spin (with pause) until the generation changes, for about NL_POOL_SPIN_US; after that
//            sleep on a condition variable. Claim tasks until none are left; count each finished
//            task in `done`.
//
// The caller returns only when every claimed task has finished, and workers touch nothing but
// the pool's own Impl after that, so destroying the pool (which joins the workers first) right
// after a call is safe. fn/ctx are never used after parallel_for returns.
#include "threadpool.h"
#include <atomic>
#include <cerrno>
#include <chrono>
#include <system_error>
#include <condition_variable>
#include <exception>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>
#include <sched.h>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#elif defined(__APPLE__)
#include <pthread.h>
#include <sys/qos.h>
#elif defined(_WIN32)
#include <windows.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace nl {

static inline void nl_cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static const uint32_t NL_POOL_CLOSED = 0xFFFFFFFFu; // `next` value of a generation that takes no more claims
static const int NL_POOL_SPIN_US = 300;             // how long an idle worker spins before it sleeps

struct ThreadPool::Impl {
    // hot, shared by all threads: each on its own cache line
    alignas(64) std::atomic<uint64_t> state{(uint64_t)NL_POOL_CLOSED}; // (generation << 32) | next task
    alignas(64) std::atomic<int> done{0};                               // tasks finished in this generation
    alignas(64) std::atomic<TaskFn> fn{nullptr};                        // the job, written while closed
    std::atomic<void *> ctx{nullptr};
    std::atomic<int> n_tasks{0};
    alignas(64) std::atomic<int> sleepers{0}; // workers blocked (or about to block) on cv
    std::atomic<bool> quit{false};
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::thread> workers;
    // The first exception a task of the current generation threw (a worker thread must never let
    // one escape: std::terminate would take the host process down). Rethrown by parallel_for.
    std::mutex error_mu;
    std::exception_ptr error;

    int drain(uint32_t gen);
    static void worker(Impl * s);
};

static inline uint32_t nl_pool_gen(uint64_t s) { return (uint32_t)(s >> 32); }
static inline uint32_t nl_pool_next(uint64_t s) { return (uint32_t)s; }

// Claims and runs tasks of generation `gen` until none is left. Returns how many it ran.
int ThreadPool::Impl::drain(uint32_t gen) {
    Impl & s = *this;
    // acquire loads: if we see a job written for a later generation, we also see that `gen` was
    // closed, so the CAS below fails and the mismatched job is never run.
    ThreadPool::TaskFn fn = s.fn.load(std::memory_order_acquire);
    void * ctx = s.ctx.load(std::memory_order_acquire);
    uint32_t n = (uint32_t)s.n_tasks.load(std::memory_order_acquire);
    int ran = 0;
    uint64_t cur = s.state.load(std::memory_order_acquire);
    for (;;) {
        if (nl_pool_gen(cur) != gen) break;
        uint32_t t = nl_pool_next(cur);
        if (t >= n) break; // all claimed, or CLOSED
        if (!s.state.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_acquire))
            continue; // cur reloaded
        try {
            fn(ctx, (int)t);
        } catch (...) {
            std::lock_guard<std::mutex> lk(s.error_mu);
            if (!s.error) s.error = std::current_exception();
        }
        ran++;
        s.done.fetch_add(1, std::memory_order_release);
        cur = s.state.load(std::memory_order_acquire);
    }
    return ran;
}

void ThreadPool::Impl::worker(Impl * sp) {
    if (background_priority()) lower_thread_priority();
    Impl & s = *sp;
    uint32_t seen = nl_pool_gen(s.state.load(std::memory_order_acquire));
    for (;;) {
        // spin phase: wait for a new generation, briefly
        auto t0 = std::chrono::steady_clock::now();
        uint32_t gen = seen;
        for (int i = 0;; i++) {
            if (s.quit.load(std::memory_order_acquire)) return;
            gen = nl_pool_gen(s.state.load(std::memory_order_acquire));
            if (gen != seen) break;
            nl_cpu_relax();
            if ((i & 63) == 63) {
                auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
                if (us > NL_POOL_SPIN_US) break;
            }
        }
        if (gen == seen) {
            // sleep phase. sleepers++ and the caller's publish are both seq_cst, so either the
            // caller sees us as a sleeper (and notifies under the mutex) or we see its generation.
            std::unique_lock<std::mutex> lk(s.mu);
            s.sleepers.fetch_add(1, std::memory_order_seq_cst);
            s.cv.wait(lk, [&] {
                return s.quit.load(std::memory_order_seq_cst) ||
                       nl_pool_gen(s.state.load(std::memory_order_seq_cst)) != seen;
            });
            s.sleepers.fetch_sub(1, std::memory_order_seq_cst);
            if (s.quit.load(std::memory_order_acquire)) return;
            gen = nl_pool_gen(s.state.load(std::memory_order_acquire));
        }
        seen = gen;
        s.drain(gen);
    }
}

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl) {   // (std::bad_alloc from new Impl reaches the caller)
    if (n_threads <= 0) n_threads = hardware_threads();
    impl_->workers.reserve((size_t)(n_threads - 1));
    for (int i = 1; i < n_threads; i++) {
        try {
            impl_->workers.emplace_back(&Impl::worker, impl_);
        } catch (...) {
            break; // could not start a thread: run with fewer (the caller always works)
        }
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lk(impl_->mu);
        impl_->quit.store(true, std::memory_order_seq_cst);
    }
    impl_->cv.notify_all();
    for (auto & w : impl_->workers) w.join();
    delete impl_;
}

int ThreadPool::size() const { return (int)impl_->workers.size() + 1; }

void ThreadPool::parallel_for(int n_tasks, TaskFn fn, void * ctx) {
    if (n_tasks <= 0) return;
    Impl & s = *impl_;
    if (s.workers.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    // the previous generation is closed (done at the end of every call); set up the job
    uint32_t gen = nl_pool_gen(s.state.load(std::memory_order_relaxed)) + 1;
    s.done.store(0, std::memory_order_relaxed);
    s.fn.store(fn, std::memory_order_release);
    s.ctx.store(ctx, std::memory_order_release);
    s.n_tasks.store(n_tasks, std::memory_order_release);
    s.state.store((uint64_t)gen << 32, std::memory_order_seq_cst); // publish (gen, next = 0)
    if (s.sleepers.load(std::memory_order_seq_cst) > 0) {
        std::lock_guard<std::mutex> lk(s.mu);
        s.cv.notify_all();
    }
    s.drain(gen);
    // wait for tasks still running on workers
    for (int i = 0; s.done.load(std::memory_order_acquire) < n_tasks; i++) {
        nl_cpu_relax();
        if (i > 4096 && (i & 255) == 0) sched_yield(); // long task or oversubscribed CPUs
    }
    // close: a late worker's CAS on (gen, t) now fails. exchange (acq_rel) keeps the next call's
    // job writes after it.
    s.state.exchange(((uint64_t)gen << 32) | NL_POOL_CLOSED, std::memory_order_acq_rel);
    // every task has finished: hand a task's exception to the caller, on the caller's thread
    std::exception_ptr e;
    {
        std::lock_guard<std::mutex> lk(s.error_mu);
        std::swap(e, s.error);
    }
    if (e) std::rethrow_exception(e);
}

int hardware_threads() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    unsigned n = std::thread::hardware_concurrency();
    return n ? (int)n : 1;
}

static std::atomic<bool> g_background{false};

void set_background_priority(bool on) { g_background.store(on, std::memory_order_relaxed); }
bool background_priority() { return g_background.load(std::memory_order_relaxed); }

void lower_thread_priority() {
#if defined(__linux__)
    // On Linux the nice value is per thread: PRIO_PROCESS with a thread id changes that thread only.
    const id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    const int now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0 && now < 10) (void)setpriority(PRIO_PROCESS, tid, now + 10 > 19 ? 19 : now + 10);
#elif defined(__APPLE__)
    (void)pthread_set_qos_class_self_np(QOS_CLASS_UTILITY, 0);
#elif defined(_WIN32)
    (void)SetThreadPriority(GetCurrentThread(), THREAD_PRIORITY_BELOW_NORMAL);
#endif
}

// Background runners: persistent threads at lowered priority, each running one job at a time. A job
// takes an idle runner or starts a new one; runners are never destroyed (they live as long as the
// process, like the host's own worker threads), so the per-thread GEMM and im2col workspaces stay warm
// from one epoch to the next and no thread is started per epoch.
namespace {
struct Runner {
    std::mutex mu;
    std::condition_variable cv;
    void (*fn)(void *) = nullptr;
    void * ctx = nullptr;
    bool busy = false; // a job is assigned and not finished
    std::exception_ptr error; // what the job threw, rethrown on the thread that handed it over
};

std::mutex g_runners_mu;
std::vector<Runner *> g_idle_runners; // guarded by g_runners_mu

void runner_loop(Runner * r) {
    lower_thread_priority();
    std::unique_lock<std::mutex> lk(r->mu);
    for (;;) {
        r->cv.wait(lk, [r] { return r->fn != nullptr; });
        try {
            r->fn(r->ctx);
        } catch (...) {
            r->error = std::current_exception();
        }
        r->fn = nullptr;
        r->busy = false;
        r->cv.notify_all();
    }
}
} // namespace

void run_epoch_work(void (*fn)(void *), void * ctx) {
    if (!background_priority()) {
        fn(ctx);
        return;
    }
    Runner * r = nullptr;
    {
        std::lock_guard<std::mutex> lk(g_runners_mu);
        if (!g_idle_runners.empty()) {
            r = g_idle_runners.back();
            g_idle_runners.pop_back();
        }
    }
    if (!r) {
        r = new Runner(); // never freed: its thread waits on it for the life of the process
        try {
            std::thread(runner_loop, r).detach();
        } catch (const std::system_error &) {
            delete r;
            fn(ctx); // no thread could be started: run here, at the caller's priority
            return;
        }
    }
    {
        std::unique_lock<std::mutex> lk(r->mu);
        r->fn = fn;
        r->ctx = ctx;
        r->busy = true;
        r->cv.notify_all();
        r->cv.wait(lk, [r] { return !r->busy; });
    }
    std::exception_ptr e;
    std::swap(e, r->error);
    {
        std::lock_guard<std::mutex> lk(g_runners_mu);
        g_idle_runners.push_back(r);
    }
    if (e) std::rethrow_exception(e);
}

} // namespace nl
