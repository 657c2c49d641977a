// nn.Linear on CUDA (the CPU's native/core/kernels/linear.cpp, ops/linear.cpp), W stored [out, in]:
//   forward:   y [n,out]   = x [n,in] . W^T + b [out]   one GEMM (tb), the bias in its epilogue (Col)
//   backward:  dW [out,in] = dy^T [out,n] . x [n,in]     GEMM (ta), beta = 0 (overwritten)
//              dx [n,in]  (+)= dy [n,out] . W [out,in]   GEMM, beta = 1 when accumulate_dx (dx optional)
//              db [out]    = column sums of dy            deterministic reduction (db optional)
// GEMMs whose output has fewer 64x64 tiles than the GPU has SMs are split over K (deterministic
// partials in the workspace, summed in order, bias and beta applied in that sum).
// in == 0 is an empty reduction (y = b or 0), n == 0 gives zero weight gradients: the GEMM's K == 0
// path writes exactly that, as the CPU's special cases do.
#include "cuda-args.h"
#include "kernels/gemm.cuh"

namespace nl {

namespace {

constexpr int kColsX = 32, kColsY = 8;   // column-sum block: 32 columns x 8 row lanes

// db [cols] = sum over rows of dy [rows, cols]. Block (32, 8): a warp reads 32 consecutive columns of
// a row (coalesced), the 8 row lanes are summed in a fixed order (deterministic, no atomics).
__global__ void column_sums_kernel(const float * dy, int64_t rows, int64_t cols, float * db) {
    __shared__ float part[kColsY][kColsX + 1];
    const int64_t c = (int64_t)blockIdx.x * kColsX + threadIdx.x;
    float s = 0.f;
    if (c < cols)
        for (int64_t r = threadIdx.y; r < rows; r += kColsY) s += dy[r * cols + c];
    part[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        float t = 0.f;
        for (int y = 0; y < kColsY; y++) t += part[y][threadIdx.x];
        db[c] = t;
    }
}

void column_sums(const float * dy, int64_t rows, int64_t cols, float * db, cudaStream_t stream) {
    if (cols <= 0) return;
    const int64_t blocks = (cols + kColsX - 1) / kColsX;
    column_sums_kernel<<<(unsigned)blocks, dim3(kColsX, kColsY), 0, stream>>>(dy, rows, cols, db);
}

// d, split-K into the workspace when its output tiles would leave SMs idle
template <class O> void split(const CudaArgs<O> & a, const gemm_cuda::GemmDesc & d) {
    gemm_cuda::split_gemm(d, static_cast<float *>(a.workspace()), a.workspace_bytes() / sizeof(float), a.tf32(), a.cx.cc_major,
                          a.sm_count(), a.stream());
}

} // namespace

// Workspace: the partials of a split-K GEMM (gemm_cuda::split_gemm), for outputs with too few tiles
// to fill the GPU (the quickstart's batch-64 layers); one buffer, reused by the GEMMs in turn.
template <> size_t cuda_workspace<op::LINEAR_FORWARD>(const OperandsOf<op::LINEAR_FORWARD> & a, int max_batch) {
    using O = op::LINEAR_FORWARD;
    return gemm_cuda::split_workspace(max_batch, a.i(O::out_features));
}

template <> size_t cuda_workspace<op::LINEAR_BACKWARD>(const OperandsOf<op::LINEAR_BACKWARD> & a, int max_batch) {
    using O = op::LINEAR_BACKWARD;
    const size_t dw = gemm_cuda::split_workspace(a.i(O::out_features), a.i(O::in_features));
    const size_t dx = a.has(O::dx) ? gemm_cuda::split_workspace(max_batch, a.i(O::in_features)) : 0;
    return dw > dx ? dw : dx;
}

// x [n, in], W [out, in], b [out] or absent -> y [n, out]
template <> Status cuda_run<op::LINEAR_FORWARD>(const CudaArgs<op::LINEAR_FORWARD> & a) {
    using O = op::LINEAR_FORWARD;
    const int64_t n = a.n(), in = a.i(O::in_features), out = a.i(O::out_features);
    gemm_cuda::GemmDesc d;
    d.M = n;
    d.N = out;
    d.K = in;
    d.tb = true;
    d.A = a.f32(O::x);
    d.lda = in;
    d.B = a.f32(O::weight);
    d.ldb = in;
    d.C = a.f32(O::y);
    d.ldc = out;
    d.bias = a.f32(O::bias);
    d.bias_mode = d.bias ? gemm_cuda::Bias::Col : gemm_cuda::Bias::None;
    split(a, d);
    return cuda_launched("linear_forward");
}

// dy [n, out], x [n, in], W [out, in] -> dx [n, in] (+)= (optional), dW [out, in], db [out] (optional)
template <> Status cuda_run<op::LINEAR_BACKWARD>(const CudaArgs<op::LINEAR_BACKWARD> & a) {
    using O = op::LINEAR_BACKWARD;
    const int64_t n = a.n(), in = a.i(O::in_features), out = a.i(O::out_features);
    const float * dy = a.f32(O::dy);
    if (float * dw = a.f32(O::dweight)) {
        gemm_cuda::GemmDesc d;   // dW [out, in] = dy^T . x: M = out, N = in, K = n
        d.M = out;
        d.N = in;
        d.K = n;
        d.ta = true;
        d.A = dy;
        d.lda = out;
        d.B = a.f32(O::x);
        d.ldb = in;
        d.C = dw;
        d.ldc = in;
        split(a, d);
    }
    if (float * dx = a.f32(O::dx)) {
        gemm_cuda::GemmDesc d;   // dx [n, in] (+)= dy . W: M = n, N = in, K = out
        d.M = n;
        d.N = in;
        d.K = out;
        d.A = dy;
        d.lda = out;
        d.B = a.f32(O::weight);
        d.ldb = in;
        d.C = dx;
        d.ldc = in;
        d.beta = a.flag(O::accumulate_dx) ? 1.f : 0.f;
        split(a, d);
    }
    if (float * db = a.f32(O::dbias)) column_sums(dy, n, out, db, a.stream());
    return cuda_launched("linear_backward");
}

} // namespace nl
