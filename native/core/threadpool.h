// A persistent pool of worker threads for data-parallel kernels.
//
// Workers are created once and wait on the pool between calls, so a parallel_for costs a few
// microseconds, not a thread start: the training loop issues thousands of small GEMMs a second.
// The calling thread takes part in the work, so a pool of size 1 runs everything inline.
#pragma once
#include <cstddef>

namespace nl {

class ThreadPool {
public:
    // n_threads: total threads doing work, the caller included (>= 1). 0 means "all hardware threads".
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool & operator=(const ThreadPool &) = delete;

    int size() const;

    // Calls fn(ctx, task) for every task in [0, n_tasks), spread over the pool, and returns when
    // all calls have finished. Not re-entrant: call it from one thread at a time.
    // If tasks throw (std::bad_alloc from a kernel's scratch, say), the exception never leaves the
    // worker thread that ran it: the other tasks still run, and parallel_for rethrows the first
    // exception on the calling thread once all have finished (with one thread or one task, the
    // exception simply propagates).
    typedef void (*TaskFn)(void * ctx, int task);
    void parallel_for(int n_tasks, TaskFn fn, void * ctx);

    // Convenience wrapper for lambdas: pool.run(n, [&](int t){ ... }).
    template <class F> void run(int n_tasks, F && f) {
        parallel_for(n_tasks, [](void * c, int t) { (*static_cast<F *>(c))(t); }, &f);
    }

private:
    struct Impl;
    Impl * impl_;
};

// Number of hardware threads the process may use (respects the CPU affinity mask).
int hardware_threads();

// Training at background priority, for interactive hosts (the desktop app, `netloom serve`): off by
// default, so the command line, the benchmarks and the C++ tests train at normal priority. Set it
// before the first session: the pool's workers and the epoch runners read it when they start.
// On, training threads yield the CPU to the host's event loop and to the UI (on a 2-core laptop the
// window stays smooth while a model trains); the cost is that training gets a small share of a
// machine busy with other work.
void set_background_priority(bool on);
bool background_priority();

// Lowers the calling thread's scheduling priority, best effort (Linux: nice +10 for this thread
// only; macOS: the utility QoS class; Windows: below normal).
void lower_thread_priority();

// Runs a whole epoch's work: with background priority on, on a persistent runner thread at lowered
// priority, waiting for it (the calling thread is a libuv worker that also serves the host's file
// I/O, and an unprivileged process could not raise its priority back afterwards; concurrent callers
// get a runner each); off, right here. What fn throws is rethrown here, on the calling thread (never
// on the runner, where it would terminate the process).
void run_epoch_work(void (*fn)(void *), void * ctx);

template <class F> void run_epoch_work(F && f) {
    run_epoch_work([](void * c) { (*static_cast<F *>(c))(); }, &f);
}

} // namespace nl
