// Dropout's counter-based RNG, the exact port of native/core/kernels/dropout.cpp: splitmix64's
// finaliser over a key mixed from (seed, step), then over key + (i+1)*golden; the top 24 bits make
// the uniform. CPU and CUDA therefore drop the same elements for the same seed, salt and step.
#pragma once
#include <cstdint>
#include <cuda_runtime.h>

namespace nl {
namespace cuda_detail {

constexpr uint64_t kDropoutGolden = 0x9E3779B97F4A7C15ull;

__host__ __device__ __forceinline__ uint64_t dropout_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The per-(seed, step) key (dropout_forward's `key`).
__host__ __device__ __forceinline__ uint64_t dropout_key(uint64_t seed, uint64_t step) {
    return dropout_mix64(seed + kDropoutGolden) ^ dropout_mix64((step + 1) * 0xD1B54A32D192ED03ull);
}

// The uniform in [0, 1) of element i under `key`.
__host__ __device__ __forceinline__ float dropout_uniform(uint64_t key, uint64_t i) {
    return (float)(dropout_mix64(key + (i + 1) * kDropoutGolden) >> 40) * (1.f / 16777216.f);
}

// ops/dropout.cpp's per-layer seed: the run's seed salted by the layer.
__host__ __device__ __forceinline__ uint64_t dropout_seed(uint64_t run_seed, int32_t salt) {
    return run_seed ^ (kDropoutGolden * (uint64_t)(salt + 1));
}

} // namespace cuda_detail
} // namespace nl
