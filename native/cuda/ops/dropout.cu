// Dropout on CUDA, mirroring native/core/ops/dropout.cpp and kernels/dropout.cpp.
//
//   forward (training, p > 0):  x [n, features] -> mask, y;  mask = u >= p ? 1/(1-p) : 0,  y = x * mask
//                               u from the counter-based hash of (seed ^ salt, step, i)
//                               (kernels/dropout-rng.cuh), seed and step read from a.dstep() on the
//                               device so a captured graph draws a new mask every step
//   forward (eval, or p == 0):  y = x (mask untouched)
//   backward:                   dx (+)= dy * mask
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"
#include "kernels/dropout-rng.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

__global__ void dropout_forward_kernel(const float * x, float * y, float * mask, int64_t count, float p, float scale, int32_t salt,
                                       const DeviceStep * dstep) {
    const uint64_t key = dropout_key(dropout_seed(dstep->seed, salt), (uint64_t)dstep->step);
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const float m = dropout_uniform(key, (uint64_t)i) >= p ? scale : 0.f;
        mask[i] = m;
        y[i] = x[i] * m;   // inf * 0 = NaN, as torch's input * noise
    }
}

__global__ void copy_kernel(const float * src, float * dst, int64_t count) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) dst[i] = src[i];
}

template <bool Acc> __global__ void dropout_backward_kernel(const float * dy, const float * mask, float * dx, int64_t count) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const float g = dy[i] * mask[i];
        dx[i] = Acc ? dx[i] + g : g;
    }
}

} // namespace

template <> Status cuda_run<op::DROPOUT_FORWARD>(const CudaArgs<op::DROPOUT_FORWARD> & a) {
    using O = op::DROPOUT_FORWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    const float p = a.f(O::p);
    if (count <= 0) return cuda_launched("dropout_forward");
    const unsigned blocks = elementwise_blocks(count, a.sm_count());
    if (!a.training() || p == 0.f) {
        if (a.f32(O::x) != a.f32(O::y)) copy_kernel<<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::x), a.f32(O::y), count);
        return cuda_launched("dropout_forward");
    }
    const float scale = p < 1.f ? 1.f / (1.f - p) : 0.f;   // p >= 1 drops everything, no 1/0
    dropout_forward_kernel<<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::x), a.f32(O::y), a.f32(O::mask), count, p, scale, a.i(O::salt),
                                                                a.dstep());
    return cuda_launched("dropout_forward");
}
template <> size_t cuda_workspace<op::DROPOUT_FORWARD>(const OperandsOf<op::DROPOUT_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::DROPOUT_BACKWARD>(const CudaArgs<op::DROPOUT_BACKWARD> & a) {
    using O = op::DROPOUT_BACKWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    const unsigned blocks = elementwise_blocks(count, a.sm_count());
    if (count > 0) {
        if (a.flag(O::accumulate))
            dropout_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::mask), a.f32(O::dx), count);
        else
            dropout_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::mask), a.f32(O::dx), count);
    }
    return cuda_launched("dropout_backward");
}
template <> size_t cuda_workspace<op::DROPOUT_BACKWARD>(const OperandsOf<op::DROPOUT_BACKWARD> &, int) { return 0; }

} // namespace nl
