// Out of memory is an error, never a signal (issue 10). Plain program: one line per check, a final
// "N passed, N failed" line, non-zero exit on failure.
//
//   - an exception thrown by a task on a pool worker (or on a background epoch runner) reaches the
//     calling thread; before, it escaped the worker thread and std::terminate ended the process;
//   - a session whose buffers exceed the memory available is refused before anything is allocated
//     (Linux overcommits: the allocation would "succeed" and the process be killed later), with
//     the buffer's name, its size and the limit;
//   - under a real address-space limit (RLIMIT_AS, as `prlimit --as` or `ulimit -v` set it) the
//     allocation of the arena and of a dataset copy fail, and each failure is NL_STATUS_OUT_OF_MEMORY
//     naming the buffer and its size.
#include "memory.h"
#include "program-builder.h"
#include "runtime.h"
#include "threadpool.h"
#include "test-util.h"
#include <sys/mman.h>
#include <sys/resource.h>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

using namespace nltest;

namespace {

bool contains(const std::string & s, const std::string & part) { return s.find(part) != std::string::npos; }

// ---- exceptions on other threads -------------------------------------------------------------

void test_pool_exceptions() {
    nl::ThreadPool pool(2);
    for (int round = 0; round < 2; round++) {
        std::atomic<int> ran{0};
        bool caught = false;
        try {
            // task 5 throws on whichever thread claims it; the other tasks still run
            pool.run(8, [&](int t) {
                if (t == 5) throw std::bad_alloc();
                ran++;
            });
        } catch (const std::bad_alloc &) {
            caught = true;
        }
        check(caught && ran.load() == 7, "pool: a task's std::bad_alloc reaches the caller, the other 7 tasks ran (round %d, ran %d)", round,
              ran.load());
    }
    std::atomic<int> ran{0};
    pool.run(16, [&](int) { ran++; });
    check(ran.load() == 16, "pool: still works after tasks threw (%d of 16 tasks)", ran.load());

    std::string what;
    try {
        pool.run(4, [](int t) {
            if (t == 0 || t == 3) throw std::runtime_error("task failed");
        });
    } catch (const std::runtime_error & e) {
        what = e.what();
    }
    check(what == "task failed", "pool: other exceptions reach the caller too (\"%s\")", what.c_str());
}

void test_runner_exceptions() {
    nl::set_background_priority(true);   // epochs on a background runner thread
    bool caught = false;
    try {
        nl::run_epoch_work([] { throw std::bad_alloc(); });
    } catch (const std::bad_alloc &) {
        caught = true;
    }
    int ran = 0;
    nl::run_epoch_work([&] { ran++; });   // the same runner is reused
    nl::set_background_priority(false);
    check(caught && ran == 1, "epoch runner: an exception on the runner thread reaches the caller, and the runner still works");
}

// ---- refusals and failures -------------------------------------------------------------------

// A program with an input of `sample` values per sample, a scalar loss and, when extra_values > 0,
// one more batched buffer that brings the arena to about extra_values more floats; no instructions:
// enough for Session::create and set_dataset.
std::vector<int32_t> program(int batch, int sample, int64_t extra_values) {
    ProgramBuilder pb;
    pb.batch = batch;
    int input = pb.add(0, 1, sample);
    int loss = pb.add(0, 0, 1);
    if (extra_values > 0) pb.add(0, 1, (int)((extra_values + batch - 1) / batch));
    return pb.words({input, -1, -1, -1, loss, -1, 0, -1});
}

void test_refused_above_room() {
    const nl::MemoryRoom room = nl::memory_room();
    check(room.bytes != UINT64_MAX && !room.source.empty(), "memory_room: %s of memory available (%s)",
          nl::format_bytes(room.bytes).c_str(), room.source.c_str());
    const uint64_t want = room.bytes + ((uint64_t)1 << 30);
    if (want > ((uint64_t)60 << 30)) {
        check(true, "session above the memory available: not tried (%s available, more than a program may hold)", nl::format_bytes(room.bytes).c_str());
        return;
    }
    std::vector<int32_t> words = program(64, 4, (int64_t)(want / 4));
    std::unique_ptr<nl::Session> s;
    nl::Status st = nl::Session::create(words.data(), words.size(), 1, s);
    check(st.code == NL_STATUS_OUT_OF_MEMORY && !s && contains(st.message, "the model's buffers") && contains(st.message, nl::format_bytes(want)) &&
              contains(st.message, "available"),
          "session above the memory available: refused before allocating: %s", st.message.c_str());
}

// Bytes of address space this process uses now (VmSize).
uint64_t vm_size() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.compare(0, 7, "VmSize:") == 0) return std::stoull(line.substr(7)) * 1024;
    return 0;
}

// Runs fn with the soft RLIMIT_AS at the current address space + `headroom`, then restores it.
template <class F> bool with_address_limit(uint64_t headroom, F && fn) {
    struct rlimit old;
    if (getrlimit(RLIMIT_AS, &old) != 0) return false;
    struct rlimit lower = old;
    const uint64_t used = vm_size();
    if (used == 0) return false;
    lower.rlim_cur = (rlim_t)(used + headroom);
    if (old.rlim_max != RLIM_INFINITY && lower.rlim_cur > old.rlim_max) return false;
    if (setrlimit(RLIMIT_AS, &lower) != 0) return false;
    fn();
    setrlimit(RLIMIT_AS, &old);
    return true;
}

void test_allocation_failures() {
    // An absurd size fails in the allocator itself, whatever the machine.
    nl::Allocation a;
    nl::Status st = nl::Allocation::make((size_t)1 << 60, "a test buffer", a);
    check(st.code == NL_STATUS_OUT_OF_MEMORY && !a.data() && contains(st.message, "a test buffer") &&
              contains(st.message, nl::format_bytes((uint64_t)1 << 60)),
          "allocation of 2^60 bytes: %s", st.message.c_str());

    // Under an address-space limit: the arena (256 MiB, well within the memory available).
    const uint64_t arena = (uint64_t)256 << 20;
    std::vector<int32_t> words = program(64, 4, (int64_t)(arena / 4));
    std::unique_ptr<nl::Session> s;
    bool limited = with_address_limit((uint64_t)64 << 20, [&] { st = nl::Session::create(words.data(), words.size(), 1, s); });
    check(limited && st.code == NL_STATUS_OUT_OF_MEMORY && !s && contains(st.message, "could not allocate") &&
              contains(st.message, "the model's buffers") && contains(st.message, nl::format_bytes(arena)),
          "session under an address-space limit: %s", limited ? st.message.c_str() : "(could not set RLIMIT_AS)");

    // ... and a dataset copy: 100000 samples of 2,000 bytes (the source is untouched zero pages).
    const int64_t count = 100000, sample = 2000;
    std::vector<int32_t> small = program(4, (int)sample, 0);
    std::unique_ptr<nl::Session> ds;
    st = nl::Session::create(small.data(), small.size(), 1, ds);
    void * images = mmap(nullptr, (size_t)(count * sample), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    std::vector<uint8_t> labels((size_t)count, 0);
    if (!st.ok() || images == MAP_FAILED) {
        check(false, "dataset copy under an address-space limit: setup failed (%s)", st.message.c_str());
        return;
    }
    limited = with_address_limit((uint64_t)32 << 20, [&] {
        st = ds->set_dataset(nl::SPLIT_TRAIN, (const uint8_t *)images, labels.data(), count, sample);
    });
    check(limited && st.code == NL_STATUS_OUT_OF_MEMORY && contains(st.message, "the session's copy of the training split") &&
              contains(st.message, "100000 samples of 2000 bytes") && contains(st.message, nl::format_bytes((uint64_t)count * (sample + 1))),
          "dataset copy under an address-space limit: %s", limited ? st.message.c_str() : "(could not set RLIMIT_AS)");
    // the session is still usable: a small dataset fits
    st = ds->set_dataset(nl::SPLIT_TRAIN, (const uint8_t *)images, labels.data(), 100, sample);
    check(st.ok() && ds->dataset_count(nl::SPLIT_TRAIN) == 100, "the session still takes a dataset that fits (%s)", st.ok() ? "ok" : st.message.c_str());
    munmap(images, (size_t)(count * sample));
}

} // namespace

int main() {
    test_pool_exceptions();
    test_runner_exceptions();
    test_refused_above_room();
    test_allocation_failures();
    return finish();
}
