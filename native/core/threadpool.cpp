// Placeholder pool (mutex + condition variable). The spin-then-sleep version replaces it.
#include "threadpool.h"
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#include <sched.h>

namespace nl {

struct ThreadPool::Impl {
    std::vector<std::thread> workers;
    std::mutex mu;
    std::condition_variable cv_work, cv_done;
    TaskFn fn = nullptr;
    void * ctx = nullptr;
    int n_tasks = 0;
    std::atomic<int> next{0};
    int active = 0;
    long generation = 0;
    bool quit = false;
};

static void drain(ThreadPool::TaskFn fn, void * ctx, int n, std::atomic<int> & next) {
    for (int t; (t = next.fetch_add(1)) < n;) fn(ctx, t);
}

ThreadPool::ThreadPool(int n_threads) : impl_(new Impl) {
    if (n_threads <= 0) n_threads = hardware_threads();
    for (int i = 1; i < n_threads; i++) {
        impl_->workers.emplace_back([this] {
            Impl & s = *impl_;
            long seen = 0;
            for (;;) {
                std::unique_lock<std::mutex> lk(s.mu);
                s.cv_work.wait(lk, [&] { return s.quit || s.generation != seen; });
                if (s.quit) return;
                seen = s.generation;
                lk.unlock();
                drain(s.fn, s.ctx, s.n_tasks, s.next);
                lk.lock();
                if (--s.active == 0) s.cv_done.notify_one();
            }
        });
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard<std::mutex> lk(impl_->mu);
        impl_->quit = true;
    }
    impl_->cv_work.notify_all();
    for (auto & w : impl_->workers) w.join();
    delete impl_;
}

int ThreadPool::size() const { return (int)impl_->workers.size() + 1; }

void ThreadPool::parallel_for(int n_tasks, TaskFn fn, void * ctx) {
    Impl & s = *impl_;
    if (n_tasks <= 0) return;
    if (s.workers.empty() || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t);
        return;
    }
    {
        std::lock_guard<std::mutex> lk(s.mu);
        s.fn = fn;
        s.ctx = ctx;
        s.n_tasks = n_tasks;
        s.next = 0;
        s.active = (int)s.workers.size();
        s.generation++;
    }
    s.cv_work.notify_all();
    drain(fn, ctx, n_tasks, s.next);
    std::unique_lock<std::mutex> lk(s.mu);
    s.cv_done.wait(lk, [&] { return s.active == 0; });
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

} // namespace nl
