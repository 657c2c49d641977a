// The C entry points of libnetloom_cuda.so: the only symbols the library exports (everything else
// is hidden). The loader (native/core/cuda-loader.cpp) dlopens the library and looks these up by
// name with dlsym; nothing links against the library. This header must stay free of CUDA headers:
// the core includes it and is compiled without the toolkit.
//
// The Backend the library creates is a C++ object crossing the dlopen boundary: both sides are
// compiled from the same backend.h/program.h with the same compiler and libstdc++, and
// NETLOOM_CUDA_ABI_VERSION is bumped whenever anything the two sides share changes (the Backend
// interface, Program, Status, this header), so that a stale library is refused, not called.
#pragma once
#include <cstddef>
#include <cstdint>

#define NETLOOM_CUDA_ABI_VERSION 1

#if defined(__GNUC__)
#define NL_CUDA_EXPORT __attribute__((visibility("default")))
#else
#define NL_CUDA_EXPORT
#endif

namespace nl { class Backend; }

extern "C" {

// One device as the CUDA runtime sees it (cudaGetDeviceProperties + cudaMemGetInfo).
struct NlCudaDevice {
    int32_t index;
    char name[256];
    uint64_t total_bytes, free_bytes;
    int32_t cc_major, cc_minor, sm_count;
};

// NETLOOM_CUDA_ABI_VERSION of the library.
NL_CUDA_EXPORT int netloom_cuda_abi_version(void);
// The CUDA runtime version the library was built with (CUDART_VERSION: 13000 = 13.0); the driver
// must support at least its major version.
NL_CUDA_EXPORT int netloom_cuda_runtime_version(void);
// The devices: writes up to `max` into out and returns how many there are (>= 0), or returns -1 with
// why there are none in reason (NUL-terminated, truncated to reason_cap).
NL_CUDA_EXPORT int netloom_cuda_devices(NlCudaDevice * out, int max, char * reason, size_t reason_cap);
// A CudaBackend on device `index`: returns an nl_status; on success *out owns a new Backend (the
// caller deletes it), on failure message holds why.
NL_CUDA_EXPORT int netloom_cuda_backend_create(int index, int tf32, nl::Backend ** out, char * message, size_t message_cap);

} // extern "C"
