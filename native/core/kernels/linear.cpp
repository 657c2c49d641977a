// Linear layer (nn.Linear): y = x W^T + b, with W stored [out, in] as PyTorch does.
//
// Both passes are GEMMs through nl::sgemm (gemm.h); the bias is a separate row-broadcast pass
// (bias.cpp), so forward is "sgemm, then add b" and backward's db is bias_backward.
//
//   forward:   y [n,out]  = x [n,in] . W^T            sgemm(trans_b), beta = 0
//              y         += b [out]                   (b may be null)
//   backward:  dW [out,in] = dy^T [out,n] . x [n,in]  sgemm(trans_a), beta = 0 (overwritten)
//              dx [n,in]   = dy [n,out] . W [out,in]  beta = 1 when accumulate_dx, else 0
//              db [out]    = sum over rows of dy      (null: layer has no bias)
#include "kernels.h"
#include "gemm.h"
#include <cstring>

namespace nl {

void linear_forward(ThreadPool * pool, const float * x, const float * w, const float * b,
                    float * y, int64_t n, int64_t in, int64_t out) {
    if (n <= 0 || out <= 0) return;
    if (in <= 0) {
        // Empty reduction: y = b (or 0). Not left to sgemm, which may skip K == 0 entirely.
        std::memset(y, 0, sizeof(float) * (size_t)n * out);
    } else {
        // y[n,out] = x[n,in] . w[out,in]^T
        sgemm(pool, false, true, n, out, in, 1.f, x, in, w, in, 0.f, y, out);
    }
    if (b) bias_forward(y, b, n, out);
}

void linear_backward(ThreadPool * pool, const float * dy, const float * x, const float * w,
                     float * dx, float * dw, float * db, int64_t n, int64_t in, int64_t out, bool accumulate_dx) {
    if (in <= 0 || out <= 0) {
        if (db && out > 0) bias_backward(db, dy, n, out);
        return;
    }
    if (n <= 0) {
        // No rows: the weight gradients are zero sums; dx has no elements.
        if (dw) std::memset(dw, 0, sizeof(float) * (size_t)out * in);
        if (db) std::memset(db, 0, sizeof(float) * (size_t)out);
        return;
    }
    // dw[out,in] = dy[n,out]^T . x[n,in]
    if (dw) sgemm(pool, true, false, out, in, n, 1.f, dy, out, x, in, 0.f, dw, in);
    // dx[n,in] (+)= dy[n,out] . w[out,in]
    if (dx) sgemm(pool, false, false, n, in, out, 1.f, dy, out, w, in, accumulate_dx ? 1.f : 0.f, dx, in);
    // db[out] = sum_n dy[n,out]
    if (db) bias_backward(db, dy, n, out);
}

} // namespace nl
