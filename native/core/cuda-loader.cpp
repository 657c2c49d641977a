// The CUDA probe and the CUDA backend's factory (cuda-loader.h). Two libraries are opened at run
// time, never linked: the NVIDIA driver (libcuda.so.1, its driver API through dlsym) to learn
// whether there is a usable GPU at all, then Netloom's own libnetloom_cuda.so (its C entry points,
// native/cuda/cuda-backend.h) for the device details and the backend. Every failure on the way
// becomes a sentence for the user and the caller falls back to the CPU; nothing here aborts.
//
// Environment (for packaging and tests):
//   NETLOOM_CUDA_LIBRARY  the path of libnetloom_cuda.so (default: next to the binary holding this code)
//   NETLOOM_CUDA_DRIVER   the driver library to open instead of libcuda.so.1
#include "cuda-loader.h"
#include <cstdio>
#include <cstdlib>
#include <string>
#include "../cuda/cuda-backend.h"

#if defined(_WIN32)
// The CUDA library is built and loaded on Linux only (the release's Windows and macOS builds have
// none): the probe says so and the factory refuses, as it does on Linux without a driver.
namespace nl {
const CudaProbe & cuda_probe() {
    static const CudaProbe probe{{}, "this build of Netloom has no CUDA support (CUDA is supported on Linux)", ""};
    return probe;
}
Status cuda_backend_create(int, bool, std::unique_ptr<Backend> &) {
    return Status::error(NL_STATUS_INVALID_ARGUMENT, "CUDA is not available: " + cuda_probe().reason);
}
} // namespace nl
#else
#include <dlfcn.h>
#include <sys/stat.h>

namespace nl {
namespace {

// The driver API entry points the probe needs (cuda.h, declared here so that the core compiles
// without the toolkit). CUresult is an int; 0 is CUDA_SUCCESS.
typedef int (*CuInitFn)(unsigned);
typedef int (*CuIntOutFn)(int *);
typedef int (*CuDeviceGetFn)(int *, int);
typedef int (*CuDeviceGetNameFn)(char *, int, int);
typedef int (*CuDeviceTotalMemFn)(size_t *, int);
typedef int (*CuDeviceGetAttributeFn)(int *, int, int);
typedef int (*CuGetErrorStringFn)(int, const char **);
constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CUDA_ERROR_NO_DEVICE = 100;

typedef int (*AbiVersionFn)();
typedef int (*RuntimeVersionFn)();
typedef int (*DevicesFn)(NlCudaDevice *, int, char *, size_t);
typedef int (*CreateFn)(int, int, Backend **, char *, size_t);

// What the probe keeps for cuda_backend_create (the handles stay open for the process's life).
struct Loaded {
    CudaProbe probe;
    CreateFn create = nullptr;
};

std::string version_text(int v) {   // 12040 -> "12.4"
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

template <class F> bool sym(void * handle, const char * name, F & out) {
    out = reinterpret_cast<F>(dlsym(handle, name));
    return out != nullptr;
}

std::string dl_error() {
    const char * e = dlerror();
    return e ? e : "unknown error";
}

// The NVIDIA driver: loads, initialises, and lists its devices (names, memory, compute capability)
// into `probe`; returns the driver's CUDA version (cuDriverGetVersion), or 0 with probe.reason set.
int probe_driver(CudaProbe & probe) {
    const char * env = std::getenv("NETLOOM_CUDA_DRIVER");
    const std::string path = env && *env ? env : "libcuda.so.1";
    void * h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        probe.reason = "no NVIDIA driver found (" + path + " is not installed)";
        return 0;
    }
    CuInitFn init; CuIntOutFn version, count; CuDeviceGetFn get; CuDeviceGetNameFn name;
    CuDeviceTotalMemFn total; CuDeviceGetAttributeFn attr; CuGetErrorStringFn err_string;
    if (!sym(h, "cuInit", init) || !sym(h, "cuDriverGetVersion", version) || !sym(h, "cuDeviceGetCount", count) ||
        !sym(h, "cuDeviceGet", get) || !sym(h, "cuDeviceGetName", name) || !sym(h, "cuDeviceTotalMem_v2", total) ||
        !sym(h, "cuDeviceGetAttribute", attr)) {
        probe.reason = path + " is not a usable NVIDIA driver (" + dl_error() + ")";
        return 0;
    }
    if (!sym(h, "cuGetErrorString", err_string)) err_string = nullptr;
    auto cu_error = [&](int r) {
        const char * s = nullptr;
        if (err_string) err_string(r, &s);
        return std::string(s ? s : "CUDA driver error") + " (code " + std::to_string(r) + ")";
    };
    int r = init(0);
    if (r == CUDA_ERROR_NO_DEVICE) {
        probe.reason = "no CUDA device found (the NVIDIA driver is installed but reports no GPU)";
        return 0;
    }
    if (r != 0) {
        probe.reason = "the NVIDIA driver failed to initialise: " + cu_error(r);
        return 0;
    }
    int driver_version = 0, n = 0;
    if ((r = version(&driver_version)) != 0 || (r = count(&n)) != 0) {
        probe.reason = "the NVIDIA driver failed to answer: " + cu_error(r);
        return 0;
    }
    if (n <= 0) {
        probe.reason = "no CUDA device found (the NVIDIA driver is installed but reports no GPU)";
        return 0;
    }
    for (int i = 0; i < n; ++i) {
        CudaDeviceInfo d;
        d.index = i;
        int dev = 0;
        char buf[256] = {0};
        size_t bytes = 0;
        if (get(&dev, i) != 0) continue;
        if (name(buf, sizeof buf - 1, dev) == 0) d.name = buf;
        if (total(&bytes, dev) == 0) d.total_bytes = bytes;
        attr(&d.cc_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
        attr(&d.cc_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
        attr(&d.sm_count, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev);
        probe.devices.push_back(d);
    }
    return driver_version;
}

// Where libnetloom_cuda.so should be: $NETLOOM_CUDA_LIBRARY, else the folder of the binary that
// holds this code (the addon, netloom.node, in an app or a build; a test program in a build).
std::string library_path() {
    const char * env = std::getenv("NETLOOM_CUDA_LIBRARY");
    if (env && *env) return env;
    Dl_info info{};
    std::string dir = ".";
    if (dladdr(reinterpret_cast<void *>(&library_path), &info) && info.dli_fname) {
        std::string self = info.dli_fname;
        auto slash = self.rfind('/');
        if (slash != std::string::npos) dir = self.substr(0, slash);
    }
    return dir + "/libnetloom_cuda.so";
}

// Netloom's CUDA library: loads it, checks its ABI and its runtime against the driver, and replaces
// the driver's device list with the library's (which adds free memory). On failure sets the reason
// and clears the devices.
void probe_library(Loaded & L, int driver_version) {
    CudaProbe & probe = L.probe;
    probe.library = library_path();
    auto fail = [&](std::string why) {
        probe.devices.clear();
        probe.reason = std::move(why);
    };
    struct stat st{};
    if (stat(probe.library.c_str(), &st) != 0) {
        return fail("this build of Netloom has no CUDA library (" + probe.library +
                    " does not exist: it is built when the CUDA toolkit is found)");
    }
    void * h = dlopen(probe.library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) return fail("Netloom's CUDA library failed to load: " + dl_error());
    AbiVersionFn abi; RuntimeVersionFn runtime; DevicesFn devices;
    if (!sym(h, "netloom_cuda_abi_version", abi) || !sym(h, "netloom_cuda_runtime_version", runtime) ||
        !sym(h, "netloom_cuda_devices", devices) || !sym(h, "netloom_cuda_backend_create", L.create)) {
        return fail(probe.library + " is not Netloom's CUDA library (" + dl_error() + ")");
    }
    if (abi() != NETLOOM_CUDA_ABI_VERSION) {
        return fail(probe.library + " is from another build of Netloom (ABI version " + std::to_string(abi()) +
                    ", this build needs " + std::to_string(NETLOOM_CUDA_ABI_VERSION) + "): reinstall Netloom");
    }
    const int rt = runtime();
    // CUDA's minor-version compatibility: a driver of the same major version runs the runtime.
    if (driver_version / 1000 < rt / 1000) {
        return fail("the NVIDIA driver supports CUDA " + version_text(driver_version) + " but Netloom's CUDA library needs CUDA " +
                    version_text(rt) + " (CUDA driver version is insufficient): update the NVIDIA driver");
    }
    NlCudaDevice list[64];
    char why[512] = {0};
    const int n = devices(list, 64, why, sizeof why);
    if (n < 0) return fail(std::string("the CUDA runtime found no usable device: ") + why);
    if (n == 0) return fail("the CUDA runtime found no device");
    probe.devices.clear();
    for (int i = 0; i < n && i < 64; ++i) {
        CudaDeviceInfo d;
        d.index = list[i].index;
        d.name = list[i].name;
        d.total_bytes = list[i].total_bytes;
        d.free_bytes = list[i].free_bytes;
        d.cc_major = list[i].cc_major;
        d.cc_minor = list[i].cc_minor;
        d.sm_count = list[i].sm_count;
        probe.devices.push_back(d);
    }
}

const Loaded & loaded() {
    static const Loaded L = [] {
        Loaded l;
        const int driver_version = probe_driver(l.probe);
        if (driver_version > 0) probe_library(l, driver_version);
        if (!l.probe.reason.empty()) l.create = nullptr;
        return l;
    }();
    return L;
}

} // namespace

const CudaProbe & cuda_probe() {
    return loaded().probe;
}

Status cuda_backend_create(int index, bool tf32, std::unique_ptr<Backend> & out) {
    const Loaded & L = loaded();
    if (L.probe.devices.empty() || !L.create) {
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "CUDA is not available: " + L.probe.reason);
    }
    const int n = (int)L.probe.devices.size();
    if (index < 0 || index >= n) {
        return Status::error(NL_STATUS_INVALID_ARGUMENT, "cuda:" + std::to_string(index) + " does not exist: " +
                             std::to_string(n) + (n == 1 ? " CUDA device was" : " CUDA devices were") +
                             " found (cuda:0" + (n > 1 ? " to cuda:" + std::to_string(n - 1) : std::string()) + ")");
    }
    Backend * b = nullptr;
    char message[1024] = {0};
    const int code = L.create(index, tf32 ? 1 : 0, &b, message, sizeof message);
    if (code != NL_STATUS_OK || !b) {
        delete b;
        const nl_status c = code > NL_STATUS_OK && code < NL_STATUS_COUNT ? (nl_status)code : NL_STATUS_INTERNAL;
        return Status::error(c, message[0] ? message : "the CUDA backend could not be created on cuda:" + std::to_string(index));
    }
    out.reset(b);
    return Status{};
}

} // namespace nl
#endif // _WIN32
