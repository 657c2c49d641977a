// The CUDA loader's fallback (native/core/cuda-loader.cpp): with no driver, a library that is not a
// driver, or whatever this machine has, cuda_probe() explains why there is no GPU, and
// cuda_backend_create() fails with that reason and a Status instead of crashing. The probe is cached
// once per process, so each scenario runs in a forked child with its own environment; the child's
// checks print their own lines and its exit status counts as one check here.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include "../../native/cuda/cuda-backend.h"
#include "cuda-loader.h"
#include "test-util.h"
#if !defined(_WIN32)
#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using nltest::check;

namespace {

bool contains(const std::string & s, const std::string & part) { return s.find(part) != std::string::npos; }

#if !defined(_WIN32)

// Runs `body` in a child process with `env` set (name, value; value null: unset) and returns
// whether every check in it passed.
bool in_child(const char * name, const char * value, const std::function<void()> & body) {
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        if (value) setenv(name, value, 1); else unsetenv(name);
        body();
        std::fflush(stdout);
        _exit(nltest::finish());
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return false;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#endif

// No GPU: the reason is non-empty and mentions `expected`, and the factory fails with it.
void expect_fallback(const std::string & expected) {
    const nl::CudaProbe & p = nl::cuda_probe();
    check(p.devices.empty(), "no device is listed");
    check(contains(p.reason, expected), "the reason says \"%s\": \"%s\"", expected.c_str(), p.reason.c_str());
    std::unique_ptr<nl::Backend> b;
    nl::Status st = nl::cuda_backend_create(0, true, b);
    check(st.code == NL_STATUS_INVALID_ARGUMENT, "cuda_backend_create fails with NL_STATUS_INVALID_ARGUMENT (%d)", (int)st.code);
    check(contains(st.message, p.reason), "its message carries the reason: \"%s\"", st.message.c_str());
    check(!b, "no backend is handed out");
    check(&nl::cuda_probe() == &p && nl::cuda_probe().reason == p.reason, "the probe is cached");
}

// Whatever this machine has: a listed device and a reason exclude each other, and a device index
// past the list is refused by name.
void expect_consistent() {
    const nl::CudaProbe & p = nl::cuda_probe();
    std::printf("probe: %zu device(s), reason \"%s\", library \"%s\"\n", p.devices.size(), p.reason.c_str(), p.library.c_str());
    check(p.devices.empty() != p.reason.empty(), "devices and a reason exclude each other");
    std::unique_ptr<nl::Backend> b;
    if (p.devices.empty()) {
        expect_fallback("");
        return;
    }
    for (const auto & d : p.devices)
        check(!d.name.empty() && d.total_bytes > 0 && d.cc_major >= 7 && d.sm_count > 0, "cuda:%d %s (%d.%d, %d SMs)", d.index,
              d.name.c_str(), d.cc_major, d.cc_minor, d.sm_count);
    nl::Status st = nl::cuda_backend_create((int)p.devices.size(), true, b);
    check(st.code == NL_STATUS_INVALID_ARGUMENT && contains(st.message, "does not exist"), "a device past the list is refused: %s",
          st.message.c_str());
    st = nl::cuda_backend_create(0, true, b);
    check(st.ok() && b && std::string(b->name()).find("CUDA") == 0, "cuda:0 makes a CUDA backend: %s", st.message.c_str());
}

#if !defined(_WIN32)
// The built library itself (NETLOOM_CUDA_LIBRARY, set by ctest when CUDA is built): it loads without
// the toolkit (static runtime), exports this build's ABI, and without a usable GPU answers a reason
// and a failed create instead of crashing.
void check_library(const char * path) {
    void * h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    check(h != nullptr, "%s loads: %s", path, h ? "ok" : dlerror());
    if (!h) return;
    auto abi = reinterpret_cast<int (*)()>(dlsym(h, "netloom_cuda_abi_version"));
    auto devices = reinterpret_cast<int (*)(NlCudaDevice *, int, char *, size_t)>(dlsym(h, "netloom_cuda_devices"));
    auto create = reinterpret_cast<int (*)(int, int, nl::Backend **, char *, size_t)>(dlsym(h, "netloom_cuda_backend_create"));
    check(abi && devices && create && dlsym(h, "netloom_cuda_runtime_version"), "the four entry points are exported");
    check(dlsym(h, "cuda_launched") == nullptr && dlsym(h, "_ZN2nl13cuda_launchedEPKc") == nullptr, "nothing else of the backend is");
    if (!abi || !devices || !create) return;
    check(abi() == NETLOOM_CUDA_ABI_VERSION, "its ABI version is this build's (%d)", abi());
    NlCudaDevice list[8];
    char reason[512] = {0};
    const int n = devices(list, 8, reason, sizeof reason);
    std::printf("library: %d device(s), reason \"%s\"\n", n, reason);
    check(n > 0 || (n < 0 && reason[0]), "it lists devices or says why there are none");
    if (n > 0) return;
    nl::Backend * b = nullptr;
    char message[512] = {0};
    const int code = create(0, 1, &b, message, sizeof message);
    check(code != NL_STATUS_OK && !b && message[0], "with no device, create fails with a message: %s", message);
}

#endif

} // namespace

#if defined(_WIN32)
int main() {   // no CUDA library on Windows: the fallback with its reason
    expect_fallback("CUDA is supported on Linux");
    return nltest::finish();
}
#else
int main() {
    if (const char * lib = std::getenv("NETLOOM_CUDA_LIBRARY")) check_library(lib);
    check(in_child("NETLOOM_CUDA_DRIVER", "/nonexistent/libcuda.so.1", [] { expect_fallback("no NVIDIA driver found"); }),
          "no driver: the CPU fallback with a reason");
    // A library that loads but is not a driver (libm has no cuInit).
    check(in_child("NETLOOM_CUDA_DRIVER", "libm.so.6", [] { expect_fallback("is not a usable NVIDIA driver"); }),
          "a library without the driver API: the CPU fallback with a reason");
    check(in_child("NETLOOM_CUDA_DRIVER", nullptr, expect_consistent), "this machine's probe is consistent");
    return nltest::finish();
}
#endif
