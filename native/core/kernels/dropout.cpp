// Dropout (training mode; the runtime skips it in eval), as torch 1.13 CPU:
//
//   forward:   x [count] -> mask [count], y [count]
//              u_i  = uniform [0,1) from a counter-based hash of (seed, step, i)
//              mask = u_i >= p ? 1/(1-p) : 0,    y = x * mask
//              p = 0 keeps everything (mask 1); p >= 1 drops everything (mask 0, no 1/0).
//              y = x * mask exactly as torch's `input * noise`, so inf * 0 gives NaN as there.
//   backward:  dx = dy * mask                          (accumulate: dx += ...)
//
// The hash is splitmix64: a key mixed from (seed, step), then the finaliser of key + (i+1)*golden
// (the splitmix64 stream of that key), top 24 bits as the uniform. Same (seed, step) -> same mask
// on any thread split; a different step gives an independent mask. Torch's own Bernoulli stream is
// not reproduced (nor could it be across thread counts); only the distribution matches.
#include "kernels.h"

namespace nl {

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

void dropout_forward(const float * x, float * y, float * mask, size_t count, float p, uint64_t seed, uint64_t step) {
    const uint64_t key = mix64(seed + kGolden) ^ mix64((step + 1) * 0xD1B54A32D192ED03ull);
    const float scale = p < 1.f ? 1.f / (1.f - p) : 0.f;
    const float keep_at = p; // keep when u >= p
    const float inv24 = 1.f / 16777216.f;
    for (size_t i = 0; i < count; i++) {
        const float u = (float)(mix64(key + (uint64_t)(i + 1) * kGolden) >> 40) * inv24;
        const float m = u >= keep_at ? scale : 0.f;
        mask[i] = m;
        y[i] = x[i] * m;
    }
}

void dropout_backward(const float * dy, const float * mask, float * dx, size_t count, bool accumulate) {
    if (accumulate) {
        for (size_t i = 0; i < count; i++) dx[i] += dy[i] * mask[i];
    } else {
        for (size_t i = 0; i < count; i++) dx[i] = dy[i] * mask[i];
    }
}

} // namespace nl
