// Checked allocation and the memory available to this process (contract in memory.h).
#include "memory.h"
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#if defined(__linux__) || defined(__APPLE__)
#include <sys/mman.h>
#include <sys/resource.h>
#endif

namespace nl {

namespace {

#if defined(__linux__)
// The first whitespace-separated number in `path` ("max" and unreadable files give false).
bool read_number(const std::string & path, uint64_t & out) {
    std::ifstream f(path);
    std::string word;
    if (!(f >> word) || word.empty() || word[0] < '0' || word[0] > '9') return false;
    out = std::strtoull(word.c_str(), nullptr, 10);
    return true;
}

// MemAvailable from /proc/meminfo, in bytes (false when absent).
bool mem_available(uint64_t & out) {
    std::ifstream f("/proc/meminfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.compare(0, 13, "MemAvailable:") != 0) continue;
        out = std::strtoull(line.c_str() + 13, nullptr, 10) * 1024;
        return true;
    }
    return false;
}

// The room under this process's memory cgroup limits: min over the levels from its cgroup up to the
// root of (limit - usage). v2 and v1 layouts both; levels without a limit are skipped.
void cgroup_room(MemoryRoom & room) {
    std::ifstream f("/proc/self/cgroup");
    std::string line;
    while (std::getline(f, line)) {
        // hierarchy-id:controllers:path
        size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
        const bool v2 = line.compare(0, a, "0") == 0 && controllers.empty();
        bool v1 = false;
        std::stringstream ss(controllers);
        for (std::string c; std::getline(ss, c, ',');) v1 = v1 || c == "memory";
        if (!v1 && !v2) continue;
        const std::string mount = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
        const char * limit_file = v2 ? "/memory.max" : "/memory.limit_in_bytes";
        const char * usage_file = v2 ? "/memory.current" : "/memory.usage_in_bytes";
        for (std::string level = path;;) {
            const std::string dir = mount + (level == "/" ? "" : level);
            uint64_t limit = 0, usage = 0;
            // v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages)
            if (read_number(dir + limit_file, limit) && limit < (uint64_t(1) << 60) && read_number(dir + usage_file, usage)) {
                const uint64_t left = limit > usage ? limit - usage : 0;
                if (left < room.bytes) {
                    room.bytes = left;
                    room.source = std::string("the memory limit of cgroup ") + (level.empty() ? "/" : level) + " (" +
                                  format_bytes(limit) + ", of which " + format_bytes(usage) + " in use)";
                }
            }
            if (level.empty() || level == "/") break;
            const size_t slash = level.rfind('/');
            level = slash == 0 || slash == std::string::npos ? "/" : level.substr(0, slash);
        }
    }
}
#endif

} // namespace

std::string format_bytes(uint64_t bytes) {
    char buf[48];
    if (bytes >= (uint64_t(1) << 30)) std::snprintf(buf, sizeof buf, "%.1f GiB", (double)bytes / (double)(uint64_t(1) << 30));
    else std::snprintf(buf, sizeof buf, "%.0f MiB", std::max(1.0, (double)bytes / (double)(1 << 20)));
    return buf;
}

MemoryRoom memory_room() {
    MemoryRoom room;
#if defined(__linux__)
    uint64_t avail = 0;
    if (mem_available(avail)) {
        room.bytes = avail;
        room.source = "MemAvailable in /proc/meminfo";
    }
    cgroup_room(room);
#endif
    return room;
}

Status check_room(uint64_t bytes, const std::string & what, const std::string & fix) {
    const MemoryRoom room = memory_room();
    if (bytes <= room.bytes) return {};
    return Status::error(NL_STATUS_OUT_OF_MEMORY, what + " need " + format_bytes(bytes) + ", but only " + format_bytes(room.bytes) +
                                                      " of memory is available (" + room.source + "): " + fix);
}

namespace {
#if defined(__linux__)
// VmSize from /proc/self/status, in bytes (false when absent).
bool address_space_in_use(uint64_t & out) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.compare(0, 7, "VmSize:") != 0) continue;
        out = std::strtoull(line.c_str() + 7, nullptr, 10) * 1024;
        return true;
    }
    return false;
}
#endif
} // namespace

Status check_heap_room(uint64_t bytes, uint64_t margin, const std::string & what, const std::string & fix) {
    Status st = check_room(bytes, what, fix);
    if (!st.ok()) return st;
#if defined(__linux__)
    struct rlimit rl {};
    uint64_t used = 0;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && address_space_in_use(used)) {
        const uint64_t limit = (uint64_t)rl.rlim_cur;
        const uint64_t left = limit > used + margin ? limit - used - margin : 0;
        if (bytes > left)
            return Status::error(NL_STATUS_OUT_OF_MEMORY, what + " need " + format_bytes(bytes) + ", but only " + format_bytes(left) +
                                                              " is left under the process's address-space limit (RLIMIT_AS, ulimit -v) of " +
                                                              format_bytes(limit) + ", " + format_bytes(used) + " of it in use: " + fix);
    }
#endif
    return {};
}

Status current_exception_status(const std::string & doing) {
    try {
        throw;
    } catch (const std::bad_alloc &) {
        return Status::error(NL_STATUS_OUT_OF_MEMORY, "out of memory " + doing + ": close other programs, or use a smaller model or batch");
    } catch (const std::exception & e) {
        return Status::error(NL_STATUS_INTERNAL, "native error " + doing + ": " + e.what());
    } catch (...) {
        return Status::error(NL_STATUS_INTERNAL, "unknown native error " + doing);
    }
}

Allocation::~Allocation() { reset(); }

void Allocation::reset() {
#if defined(__linux__) || defined(__APPLE__)
    if (mapped_) munmap(ptr_, mapped_);
#else
    std::free(ptr_);
#endif
    ptr_ = nullptr;
    size_ = mapped_ = 0;
}

Status Allocation::make(size_t bytes, const std::string & what, Allocation & out) {
    out.reset();
    const size_t want = std::max<size_t>(bytes, 64);
    auto fail = [&](const char * why) {
        return Status::error(NL_STATUS_OUT_OF_MEMORY, "could not allocate " + format_bytes(want) + " for " + what + " (" + why +
                                                          "): lower the batch size, use a smaller model, or raise the process's memory limit");
    };
#if defined(__linux__) || defined(__APPLE__)
    // Anonymous pages are page-aligned and zero until written: no memset over the whole arena
    // (which would touch every page at once, on the caller's thread).
    void * p = mmap(nullptr, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return fail(std::strerror(errno));
    out.ptr_ = p;
    out.mapped_ = want;
#else
    void * p = std::aligned_alloc(64, (want + 63) / 64 * 64);
    if (!p) return fail("the allocation failed");
    std::memset(p, 0, want);
    out.ptr_ = p;
#endif
    out.size_ = bytes;
    return {};
}

} // namespace nl
