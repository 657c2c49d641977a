// Memory the core allocates for a session, checked: every large allocation is compared with the
// memory available first, and a failed one is a Status naming the buffer and its size.
//
// Why the check before allocating: Linux overcommits. A request far beyond the free memory can
// "succeed", and the process is then killed (or, in some sandboxes, faults) when the pages are
// touched, long after the call returned and with no message. So a buffer bigger than what is
// available (MemAvailable, or what a cgroup's memory limit leaves) is refused up front, as
// NL_STATUS_OUT_OF_MEMORY with its name, its size and the limit. An address-space limit
// (RLIMIT_AS, `ulimit -v`) needs no such check: it makes the allocation itself fail, and that
// failure is reported the same way.
#pragma once
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include "program.h"

namespace nl {

// What a new allocation can count on, in bytes: the least of /proc/meminfo's MemAvailable and the
// room left under any memory cgroup limit of this process (v2 memory.max - memory.current, v1
// memory.limit_in_bytes - memory.usage_in_bytes, every level up to the root). `source` names the
// one that applies. bytes == UINT64_MAX when nothing is known (not Linux).
struct MemoryRoom {
    uint64_t bytes = UINT64_MAX;
    std::string source;
};
MemoryRoom memory_room();

// "512 MiB", "21.4 GiB"
std::string format_bytes(uint64_t bytes);

// NL_STATUS_OUT_OF_MEMORY when `bytes` for `what` exceed memory_room(): "<what> need(s) <size>, but
// only <room> of memory is available (<source>): <fix>".
Status check_room(uint64_t bytes, const std::string & what, const std::string & fix);

// check_room, and also the address-space limit (RLIMIT_AS less the address space in use, less
// `margin`), for memory allocated by the JavaScript engine on our behalf (an ArrayBuffer for a copy
// of a buffer): V8 cannot survive a failed allocation under RLIMIT_AS (it collects garbage, the
// collector's own allocation fails, and the process aborts), so the request must be refused first.
Status check_heap_room(uint64_t bytes, uint64_t margin, const std::string & what, const std::string & fix);

// Zeroed, 64-byte aligned memory of `bytes` bytes from the system (anonymous pages: zero without
// being touched, returned to the system when freed). On failure `out` stays empty and the Status
// names `what` and the size.
class Allocation {
public:
    Allocation() = default;
    ~Allocation();
    Allocation(const Allocation &) = delete;
    Allocation & operator=(const Allocation &) = delete;
    static Status make(size_t bytes, const std::string & what, Allocation & out);
    void * data() const { return ptr_; }
    size_t size() const { return size_; }
    void reset();

private:
    void * ptr_ = nullptr;
    size_t size_ = 0;
    size_t mapped_ = 0;   // bytes of the mapping (0: nothing mapped)
};

// Runs f() (returning Status) so that nothing it throws crosses the core's API: std::bad_alloc (a
// small allocation: a vector, a thread) becomes NL_STATUS_OUT_OF_MEMORY "out of memory <doing>",
// anything else NL_STATUS_INTERNAL. Large buffers are allocated with Allocation / check_room, whose
// errors name the buffer and its size.
// Inside a catch block: the Status for the exception being handled (see guarded()).
Status current_exception_status(const std::string & doing);

template <class F> Status guarded(const std::string & doing, F && f) {
    try {
        return f();
    } catch (...) {
        return current_exception_status(doing);
    }
}

} // namespace nl
