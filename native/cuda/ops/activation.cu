// ReLU, the elementwise activations (activation.def) and softmax / log-softmax on CUDA, mirroring
// native/core/ops/activation.cpp and the CPU kernels relu.cpp, activation.cpp, softmax.cpp (their
// header comments give the formulas, which are repeated here only where the device code differs).
//
//   relu:        x [n, features] -> y          dy, y -> dx = y <= 0 ? 0 : dy       (y may alias x)
//   activation:  x [n, features] -> y          dy, x, y -> dx (each kind reads x or y as on the CPU)
//   softmax:     x viewed as [n*outer, dim, inner] -> y along dim; backward reads y only.
//
// Elementwise work is a grid-stride loop over n*features (64-bit). The transcendental functions are
// CUDA's expf/erff/tanhf (within 2 ulp of glibc's), so activations agree with the CPU to a few ulp.
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

// ---- relu ----------------------------------------------------------------------------------------

__global__ void relu_forward_kernel(const float * x, float * y, int64_t count) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const float v = x[i];
        y[i] = v < 0.f ? 0.f : v;   // NaN propagates (NaN < 0 is false)
    }
}

template <bool Acc> __global__ void relu_backward_kernel(const float * dy, const float * y, float * dx, int64_t count) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const float g = y[i] <= 0.f ? 0.f : dy[i];   // a select, not dy * mask: inf * 0 would be NaN
        dx[i] = Acc ? dx[i] + g : g;
    }
}

// ---- activations ---------------------------------------------------------------------------------

constexpr float kSqrt1_2 = 0.707106781186547524400844362104849039f;
constexpr float kPdfScale = 0.398942280401432677939946059934381868f;
constexpr float kTanhBeta = 0.797884560802865355879892119868763737f;
constexpr float kTanhKappa = 0.044715f;

// The CPU expressions, evaluated with separate roundings (mul_rn/add_rn) where the CPU has
// separate float operations, so only the transcendental functions differ.
template <Activation K> __device__ __forceinline__ float act_value(float v, float alpha) {
    if (K == Activation::LEAKY_RELU) return v > 0.f ? v : mul_rn(v, alpha);
    if (K == Activation::ELU) return v <= 0.f ? mul_rn(expf(v) - 1.f, alpha) : v;
    if (K == Activation::GELU) return mul_rn(mul_rn(v, 0.5f), add_rn(1.f, erff(mul_rn(v, kSqrt1_2))));
    if (K == Activation::GELU_TANH) {
        const float inner = mul_rn(kTanhBeta, add_rn(v, mul_rn(kTanhKappa, mul_rn(mul_rn(v, v), v))));
        return mul_rn(mul_rn(0.5f, v), add_rn(1.f, tanhf(inner)));
    }
    if (K == Activation::SILU) return __fdiv_rn(v, add_rn(1.f, expf(-v)));
    if (K == Activation::SIGMOID) return __fdiv_rn(1.f, add_rn(1.f, expf(-v)));
    return tanhf(v);   // TANH
}

// d/dx for one element: d = dy, v = x, s = y (the CPU's lambdas).
template <Activation K> __device__ __forceinline__ float act_grad(float d, float v, float s, float alpha) {
    if (K == Activation::LEAKY_RELU) return v > 0.f ? d : mul_rn(d, alpha);
    if (K == Activation::ELU) return v <= 0.f ? mul_rn(mul_rn(d, alpha), expf(v)) : d;
    if (K == Activation::GELU) {
        const float cdf = mul_rn(0.5f, add_rn(1.f, erff(mul_rn(v, kSqrt1_2))));
        const float pdf = mul_rn(kPdfScale, expf(mul_rn(mul_rn(v, v), -0.5f)));
        return mul_rn(d, add_rn(cdf, mul_rn(v, pdf)));
    }
    if (K == Activation::GELU_TANH) {
        const float v_sq = mul_rn(v, v);
        const float v_cube = mul_rn(v_sq, v);
        const float inner = mul_rn(kTanhBeta, add_rn(v, mul_rn(kTanhKappa, v_cube)));
        const float t = tanhf(inner);
        const float left = mul_rn(0.5f, v);
        const float right = add_rn(1.f, t);
        const float left_derivative = mul_rn(0.5f, right);
        const float tanh_derivative = mul_rn(sub_rn(1.f, t), add_rn(1.f, t));
        const float inner_derivative = mul_rn(kTanhBeta, add_rn(1.f, mul_rn(3.f * kTanhKappa, v_sq)));
        const float right_derivative = mul_rn(mul_rn(left, tanh_derivative), inner_derivative);
        return mul_rn(d, add_rn(left_derivative, right_derivative));
    }
    if (K == Activation::SILU) {
        const float sg = __fdiv_rn(1.f, add_rn(1.f, expf(-v)));
        return mul_rn(mul_rn(d, sg), add_rn(1.f, mul_rn(v, sub_rn(1.f, sg))));
    }
    if (K == Activation::SIGMOID) return mul_rn(mul_rn(d, sub_rn(1.f, s)), s);
    return mul_rn(d, mul_rn(sub_rn(1.f, s), add_rn(1.f, s)));   // TANH: (1 - t)(1 + t), as the CPU
}

template <Activation K> __global__ void activation_forward_kernel(const float * x, float * y, int64_t count, float alpha) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) y[i] = act_value<K>(x[i], alpha);
}

template <Activation K, bool Acc>
__global__ void activation_backward_kernel(const float * dy, const float * x, const float * y, float * dx, int64_t count, float alpha) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        // SIGMOID and TANH read only y; the others only x (as the CPU); the unused one is not loaded.
        const bool uses_y = K == Activation::SIGMOID || K == Activation::TANH;
        const float v = uses_y ? 0.f : x[i];
        const float s = uses_y ? y[i] : 0.f;
        const float g = act_grad<K>(dy[i], v, s, alpha);
        dx[i] = Acc ? dx[i] + g : g;
    }
}

template <Activation K>
void launch_activation(bool backward, bool acc, const float * dy, const float * x, const float * y_in, float * out, int64_t count,
                       float alpha, unsigned blocks, cudaStream_t st) {
    if (!backward)
        activation_forward_kernel<K><<<blocks, kThreads, 0, st>>>(x, out, count, alpha);
    else if (acc)
        activation_backward_kernel<K, true><<<blocks, kThreads, 0, st>>>(dy, x, y_in, out, count, alpha);
    else
        activation_backward_kernel<K, false><<<blocks, kThreads, 0, st>>>(dy, x, y_in, out, count, alpha);
}

// One switch over the kind for both directions (an unknown kind, which the validator rejects,
// launches nothing, as the CPU leaves y untouched).
void dispatch_activation(Activation kind, bool backward, bool acc, const float * dy, const float * x, const float * y, float * out,
                         int64_t count, float alpha, unsigned blocks, cudaStream_t st) {
    switch (kind) {
#define NL_ACTIVATION(e, engine_name) \
    case Activation::e: launch_activation<Activation::e>(backward, acc, dy, x, y, out, count, alpha, blocks, st); break;
#include "activation.def"
#undef NL_ACTIVATION
    }
}

// ---- softmax -------------------------------------------------------------------------------------
// inner == 1: one warp per row of `dim` contiguous values (coalesced). inner > 1: one thread per
// (o, i) column, walking dim with stride inner (neighbouring threads read neighbouring i: coalesced).
// Both keep the CPU's arithmetic: float max (NaN wins), double sum of float exps, float scale.

__device__ __forceinline__ float nan_max(float m, float v) { return (v > m || v != v) ? v : m; }

template <bool Log> __global__ void softmax_rows_kernel(const float * x, float * y, int64_t rows, int64_t dim) {
    const int lane = threadIdx.x & 31;
    const int64_t warps = grid_threads() >> 5;
    for (int64_t r = global_thread() >> 5; r < rows; r += warps) {
        const float * xr = x + r * dim;
        float * yr = y + r * dim;
        // Max: each lane over its strided slice, then across lanes. A NaN anywhere wins, whichever
        // lane holds it, so the order of the combination does not change the result.
        float m = -INFINITY;
        for (int64_t d = lane; d < dim; d += 32) m = nan_max(m, xr[d]);
        for (int o = 16; o > 0; o >>= 1) m = nan_max(m, __shfl_xor_sync(0xffffffffu, m, o));
        double s = 0.0;
        for (int64_t d = lane; d < dim; d += 32) s += (double)expf(xr[d] - m);
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (Log) {
            const float ls = (float)log(s);
            for (int64_t d = lane; d < dim; d += 32) yr[d] = sub_rn(xr[d] - m, ls);
        } else {
            const float inv = (float)(1.0 / s);
            for (int64_t d = lane; d < dim; d += 32) yr[d] = mul_rn(expf(xr[d] - m), inv);
        }
    }
}

template <bool Log> __global__ void softmax_columns_kernel(const float * x, float * y, int64_t outer, int64_t dim, int64_t inner) {
    const int64_t cols = outer * inner;
    for (int64_t c = global_thread(); c < cols; c += grid_threads()) {
        const int64_t o = c / inner, i = c - o * inner;
        const float * xc = x + o * dim * inner + i;
        float * yc = y + o * dim * inner + i;
        float m = xc[0];
        for (int64_t d = 1; d < dim; d++) m = nan_max(m, xc[d * inner]);
        double s = 0.0;
        for (int64_t d = 0; d < dim; d++) s += (double)expf(xc[d * inner] - m);
        if (Log) {
            const float ls = (float)log(s);
            for (int64_t d = 0; d < dim; d++) yc[d * inner] = sub_rn(xc[d * inner] - m, ls);
        } else {
            const float inv = (float)(1.0 / s);
            for (int64_t d = 0; d < dim; d++) yc[d * inner] = mul_rn(expf(xc[d * inner] - m), inv);
        }
    }
}

// backward: softmax dx = y * (dy - sum dy*y);  log_softmax dx = dy - exp(y) * sum dy
template <bool Log> __device__ __forceinline__ float softmax_grad(float d, float yv, float sf) {
    return Log ? sub_rn(d, mul_rn(expf(yv), sf)) : mul_rn(yv, sub_rn(d, sf));
}

template <bool Log, bool Acc>
__global__ void softmax_backward_rows_kernel(const float * dy, const float * y, float * dx, int64_t rows, int64_t dim) {
    const int lane = threadIdx.x & 31;
    const int64_t warps = grid_threads() >> 5;
    for (int64_t r = global_thread() >> 5; r < rows; r += warps) {
        const int64_t base = r * dim;
        double s = 0.0;
        for (int64_t d = lane; d < dim; d += 32) s += Log ? (double)dy[base + d] : (double)dy[base + d] * y[base + d];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        const float sf = (float)s;
        for (int64_t d = lane; d < dim; d += 32) {
            const float g = softmax_grad<Log>(dy[base + d], y[base + d], sf);
            dx[base + d] = Acc ? dx[base + d] + g : g;
        }
    }
}

template <bool Log, bool Acc>
__global__ void softmax_backward_columns_kernel(const float * dy, const float * y, float * dx, int64_t outer, int64_t dim, int64_t inner) {
    const int64_t cols = outer * inner;
    for (int64_t c = global_thread(); c < cols; c += grid_threads()) {
        const int64_t o = c / inner, i = c - o * inner;
        const int64_t base = o * dim * inner + i;
        double s = 0.0;
        for (int64_t d = 0; d < dim; d++) {
            const int64_t k = base + d * inner;
            s += Log ? (double)dy[k] : (double)dy[k] * y[k];
        }
        const float sf = (float)s;
        for (int64_t d = 0; d < dim; d++) {
            const int64_t k = base + d * inner;
            const float g = softmax_grad<Log>(dy[k], y[k], sf);
            dx[k] = Acc ? dx[k] + g : g;
        }
    }
}

template <bool Log>
void launch_softmax_forward(const float * x, float * y, int64_t outer, int64_t dim, int64_t inner, int sm, cudaStream_t st) {
    if (inner == 1)
        softmax_rows_kernel<Log><<<elementwise_blocks(outer * 32, sm), kThreads, 0, st>>>(x, y, outer, dim);
    else
        softmax_columns_kernel<Log><<<elementwise_blocks(outer * inner, sm), kThreads, 0, st>>>(x, y, outer, dim, inner);
}

template <bool Log, bool Acc>
void launch_softmax_backward(const float * dy, const float * y, float * dx, int64_t outer, int64_t dim, int64_t inner, int sm,
                             cudaStream_t st) {
    if (inner == 1)
        softmax_backward_rows_kernel<Log, Acc><<<elementwise_blocks(outer * 32, sm), kThreads, 0, st>>>(dy, y, dx, outer, dim);
    else
        softmax_backward_columns_kernel<Log, Acc><<<elementwise_blocks(outer * inner, sm), kThreads, 0, st>>>(dy, y, dx, outer, dim, inner);
}

} // namespace

template <> Status cuda_run<op::RELU_FORWARD>(const CudaArgs<op::RELU_FORWARD> & a) {
    using O = op::RELU_FORWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    if (count > 0) relu_forward_kernel<<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(a.f32(O::x), a.f32(O::y), count);
    return cuda_launched("relu_forward");
}
template <> size_t cuda_workspace<op::RELU_FORWARD>(const OperandsOf<op::RELU_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::RELU_BACKWARD>(const CudaArgs<op::RELU_BACKWARD> & a) {
    using O = op::RELU_BACKWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    const unsigned blocks = elementwise_blocks(count, a.sm_count());
    if (count > 0) {
        if (a.flag(O::accumulate))
            relu_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::y), a.f32(O::dx), count);
        else
            relu_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::dy), a.f32(O::y), a.f32(O::dx), count);
    }
    return cuda_launched("relu_backward");
}
template <> size_t cuda_workspace<op::RELU_BACKWARD>(const OperandsOf<op::RELU_BACKWARD> &, int) { return 0; }

template <> Status cuda_run<op::ACTIVATION_FORWARD>(const CudaArgs<op::ACTIVATION_FORWARD> & a) {
    using O = op::ACTIVATION_FORWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    if (count > 0)
        dispatch_activation((Activation)a.i(O::kind), false, false, nullptr, a.f32(O::x), nullptr, a.f32(O::y), count, a.f(O::alpha),
                            elementwise_blocks(count, a.sm_count()), a.stream());
    return cuda_launched("activation_forward");
}
template <> size_t cuda_workspace<op::ACTIVATION_FORWARD>(const OperandsOf<op::ACTIVATION_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::ACTIVATION_BACKWARD>(const CudaArgs<op::ACTIVATION_BACKWARD> & a) {
    using O = op::ACTIVATION_BACKWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    if (count > 0)
        dispatch_activation((Activation)a.i(O::kind), true, a.flag(O::accumulate), a.f32(O::dy), a.f32(O::x), a.f32(O::y), a.f32(O::dx),
                            count, a.f(O::alpha), elementwise_blocks(count, a.sm_count()), a.stream());
    return cuda_launched("activation_backward");
}
template <> size_t cuda_workspace<op::ACTIVATION_BACKWARD>(const OperandsOf<op::ACTIVATION_BACKWARD> &, int) { return 0; }

template <> Status cuda_run<op::SOFTMAX_FORWARD>(const CudaArgs<op::SOFTMAX_FORWARD> & a) {
    using O = op::SOFTMAX_FORWARD;
    const int64_t outer = (int64_t)a.n() * a.i(O::outer), dim = a.i(O::dim), inner = a.i(O::inner);
    if (outer > 0 && dim > 0 && inner > 0) {
        if (a.flag(O::log))
            launch_softmax_forward<true>(a.f32(O::x), a.f32(O::y), outer, dim, inner, a.sm_count(), a.stream());
        else
            launch_softmax_forward<false>(a.f32(O::x), a.f32(O::y), outer, dim, inner, a.sm_count(), a.stream());
    }
    return cuda_launched("softmax_forward");
}
template <> size_t cuda_workspace<op::SOFTMAX_FORWARD>(const OperandsOf<op::SOFTMAX_FORWARD> &, int) { return 0; }

template <> Status cuda_run<op::SOFTMAX_BACKWARD>(const CudaArgs<op::SOFTMAX_BACKWARD> & a) {
    using O = op::SOFTMAX_BACKWARD;
    const int64_t outer = (int64_t)a.n() * a.i(O::outer), dim = a.i(O::dim), inner = a.i(O::inner);
    const float *dy = a.f32(O::dy), *y = a.f32(O::y);
    float * dx = a.f32(O::dx);
    const int sm = a.sm_count();
    if (outer > 0 && dim > 0 && inner > 0) {
        const bool log = a.flag(O::log), acc = a.flag(O::accumulate);
        if (log && acc) launch_softmax_backward<true, true>(dy, y, dx, outer, dim, inner, sm, a.stream());
        if (log && !acc) launch_softmax_backward<true, false>(dy, y, dx, outer, dim, inner, sm, a.stream());
        if (!log && acc) launch_softmax_backward<false, true>(dy, y, dx, outer, dim, inner, sm, a.stream());
        if (!log && !acc) launch_softmax_backward<false, false>(dy, y, dx, outer, dim, inner, sm, a.stream());
    }
    return cuda_launched("softmax_backward");
}
template <> size_t cuda_workspace<op::SOFTMAX_BACKWARD>(const OperandsOf<op::SOFTMAX_BACKWARD> &, int) { return 0; }

} // namespace nl
