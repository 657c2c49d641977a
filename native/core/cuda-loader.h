// The CUDA backend, reached at run time: the core never links CUDA. The CUDA kernels live in a
// separate shared library (libnetloom_cuda.so, built from native/cuda/ by CMake whenever nvcc is
// found, with the CUDA runtime linked statically), which this loader opens with dlopen only after a
// probe finds an NVIDIA driver (libcuda.so.1) and at least one device. Everything here fails softly:
// no library, no driver, no device, a driver too old for the library, all become a reason a user can
// read ("no NVIDIA driver found (libcuda.so.1 is not installed)"), and the caller falls back to the CPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include "backend.h"

namespace nl {

struct CudaDeviceInfo {
    int index = 0;                 // cuda:<index>
    std::string name;              // "NVIDIA H100 80GB HBM3"
    uint64_t total_bytes = 0;      // device memory
    uint64_t free_bytes = 0;       // free when probed
    int cc_major = 0, cc_minor = 0;
    int sm_count = 0;
};

// What the probe found: the devices (empty when none) and, when empty, why. Probes once per process
// (cached); `library` is the path it loaded or tried.
struct CudaProbe {
    std::vector<CudaDeviceInfo> devices;
    std::string reason;            // why there is no usable GPU; empty when devices is not empty
    std::string library;
};
const CudaProbe & cuda_probe();

// A CUDA backend on device `index` (tf32: TF32 tensor cores for GEMM-shaped work, PyTorch's
// allow_tf32). Fails with NL_STATUS_INVALID_ARGUMENT and the probe's reason when there is no GPU.
Status cuda_backend_create(int index, bool tf32, std::unique_ptr<Backend> & out);

} // namespace nl
