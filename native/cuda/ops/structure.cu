// Structural ops on CUDA, mirroring native/core/ops/structure.cpp and kernels/structure.cpp.
//
//   add_forward:     a, b [n, features] -> y = a + b        (y may alias a or b: elementwise, safe)
//   copy:            dst (+)= src [n, features]             (src == dst without accumulate: nothing)
//   concat_forward:  x [n*outer, x_inner] -> y [n*outer, y_inner] at columns [offset, offset + x_inner)
//   concat_backward: dx [n*outer, x_inner] (+)= dy[:, offset:offset + x_inner]
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

__global__ void add_kernel(const float * a, const float * b, float * y, int64_t count) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) y[i] = a[i] + b[i];
}

template <bool Acc> __global__ void copy_kernel(const float * src, float * dst, int64_t count) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) dst[i] = Acc ? dst[i] + src[i] : src[i];
}

// One thread per x value; neighbouring threads touch neighbouring columns of one row (coalesced).
__global__ void concat_kernel(const float * x, float * y, int64_t outer, int64_t x_inner, int64_t y_inner, int64_t offset) {
    const int64_t total = outer * x_inner;
    for (int64_t k = global_thread(); k < total; k += grid_threads()) {
        const int64_t o = k / x_inner, j = k - o * x_inner;
        y[o * y_inner + offset + j] = x[k];
    }
}

template <bool Acc>
__global__ void slice_kernel(const float * dy, float * dx, int64_t outer, int64_t x_inner, int64_t y_inner, int64_t offset) {
    const int64_t total = outer * x_inner;
    for (int64_t k = global_thread(); k < total; k += grid_threads()) {
        const int64_t o = k / x_inner, j = k - o * x_inner;
        const float v = dy[o * y_inner + offset + j];
        dx[k] = Acc ? dx[k] + v : v;
    }
}

} // namespace

template <> Status cuda_run<op::ADD_FORWARD>(const CudaArgs<op::ADD_FORWARD> & a) {
    using O = op::ADD_FORWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    if (count > 0) add_kernel<<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(a.f32(O::a), a.f32(O::b), a.f32(O::y), count);
    return cuda_launched("add_forward");
}
template <> size_t cuda_workspace<op::ADD_FORWARD>(const OperandsOf<op::ADD_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::COPY>(const CudaArgs<op::COPY> & a) {
    using O = op::COPY;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    const unsigned blocks = elementwise_blocks(count, a.sm_count());
    if (count > 0) {
        if (a.flag(O::accumulate))
            copy_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::src), a.f32(O::dst), count);
        else if (a.f32(O::src) != a.f32(O::dst))
            copy_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::src), a.f32(O::dst), count);
    }
    return cuda_launched("copy");
}
template <> size_t cuda_workspace<op::COPY>(const OperandsOf<op::COPY> &, int) { return 0; }

template <> Status cuda_run<op::CONCAT_FORWARD>(const CudaArgs<op::CONCAT_FORWARD> & a) {
    using O = op::CONCAT_FORWARD;
    const int64_t outer = (int64_t)a.n() * a.i(O::outer), x_inner = a.i(O::x_inner);
    if (outer > 0 && x_inner > 0)
        concat_kernel<<<elementwise_blocks(outer * x_inner, a.sm_count()), kThreads, 0, a.stream()>>>(a.f32(O::x), a.f32(O::y), outer, x_inner,
                                                                                                       a.i(O::y_inner), a.i(O::offset));
    return cuda_launched("concat_forward");
}
template <> size_t cuda_workspace<op::CONCAT_FORWARD>(const OperandsOf<op::CONCAT_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::CONCAT_BACKWARD>(const CudaArgs<op::CONCAT_BACKWARD> & a) {
    using O = op::CONCAT_BACKWARD;
    const int64_t outer = (int64_t)a.n() * a.i(O::outer), x_inner = a.i(O::x_inner);
    const unsigned blocks = elementwise_blocks(outer * x_inner, a.sm_count());
    if (outer > 0 && x_inner > 0) {
        if (a.flag(O::accumulate))
            slice_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::dx), outer, x_inner, a.i(O::y_inner), a.i(O::offset));
        else
            slice_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::dx), outer, x_inner, a.i(O::y_inner), a.i(O::offset));
    }
    return cuda_launched("concat_backward");
}
template <> size_t cuda_workspace<op::CONCAT_BACKWARD>(const OperandsOf<op::CONCAT_BACKWARD> &, int) { return 0; }

} // namespace nl
