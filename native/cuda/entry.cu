// The C entry points of libnetloom_cuda.so (cuda-backend.h): the only exported symbols. Nothing
// thrown crosses them (the caller is another library's C++, but an exception across dlopen'd code
// is not something to rely on): each runs under guarded() and answers a code and a message.
#include <cuda_runtime.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include "cuda-backend.h"
#include "cuda-backend-impl.h"
#include "memory.h"

namespace {

void copy_text(const std::string & s, char * out, size_t cap) {
    if (!out || !cap) return;
    const size_t n = std::min(s.size(), cap - 1);
    std::memcpy(out, s.data(), n);
    out[n] = '\0';
}

std::string runtime_error(cudaError_t e, const char * doing) {
    std::string s = std::string(doing) + ": " + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) + ", code " + std::to_string((int)e) + ")";
    if (e == cudaErrorInsufficientDriver) {
        int driver = 0;
        cudaDriverGetVersion(&driver);
        const std::string need = std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10);
        s += driver ? "; the driver supports CUDA " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) +
                          ", this library needs CUDA " + need
                    : "; no NVIDIA driver is installed (this library needs one for CUDA " + need + ")";
    }
    return s;
}

} // namespace

extern "C" {

NL_CUDA_EXPORT int netloom_cuda_abi_version(void) { return NETLOOM_CUDA_ABI_VERSION; }

NL_CUDA_EXPORT int netloom_cuda_runtime_version(void) { return CUDART_VERSION; }

NL_CUDA_EXPORT int netloom_cuda_devices(NlCudaDevice * out, int max, char * reason, size_t reason_cap) {
    int result = -1;
    nl::Status st = nl::guarded("listing the CUDA devices", [&]() -> nl::Status {
        int n = 0;
        cudaError_t e = cudaGetDeviceCount(&n);
        if (e != cudaSuccess) {
            cudaGetLastError();
            return nl::Status::error(NL_STATUS_INTERNAL, runtime_error(e, "cudaGetDeviceCount failed"));
        }
        for (int i = 0; i < n && i < max; i++) {
            NlCudaDevice d{};
            d.index = i;
            cudaDeviceProp prop;
            if ((e = cudaGetDeviceProperties(&prop, i)) != cudaSuccess)
                return nl::Status::error(NL_STATUS_INTERNAL, runtime_error(e, ("reading cuda:" + std::to_string(i) + "'s properties").c_str()));
            std::snprintf(d.name, sizeof d.name, "%s", prop.name);
            d.cc_major = prop.major;
            d.cc_minor = prop.minor;
            d.sm_count = prop.multiProcessorCount;
            d.total_bytes = prop.totalGlobalMem;
            // Free memory needs a context: the device's primary one, which the backend reuses later.
            size_t free_b = 0, total_b = 0;
            if (cudaSetDevice(i) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) d.free_bytes = free_b;
            cudaGetLastError();
            out[i] = d;
        }
        result = n;
        return {};
    });
    if (!st.ok()) {
        copy_text(st.message, reason, reason_cap);
        return -1;
    }
    return result;
}

NL_CUDA_EXPORT int netloom_cuda_backend_create(int index, int tf32, nl::Backend ** out, char * message, size_t message_cap) {
    *out = nullptr;
    nl::Status st = nl::guarded("starting the CUDA backend", [&]() -> nl::Status {
        std::unique_ptr<nl::CudaBackend> b(new nl::CudaBackend(index, tf32 != 0));
        nl::Status s = b->init();
        if (!s.ok()) return s;
        *out = b.release();
        return {};
    });
    if (!st.ok()) copy_text(st.message, message, message_cap);
    return (int)st.code;
}

} // extern "C"
