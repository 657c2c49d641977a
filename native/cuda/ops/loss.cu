// Losses on CUDA, mirroring native/core/ops/loss.cpp and the CPU kernels cross-entropy.cpp,
// nll-loss.cpp, point-loss.cpp (their header comments give torch 1.13's formulas, followed here term
// for term, in double where the CPU uses double).
//
//   softmax_cross_entropy:  logits [n, c], labels int32 [n], weight [c] or null
//                           -> probs [n, c], loss [1], correct int32 [1] (optional)
//   nll_loss:               log_probs [n, c], labels [n], weight [c] -> loss, correct
//   point_loss:             pred, target [n, features] -> loss [1]; backward dpred / dtarget
//   one_hot:                labels [n] -> y [n, classes]
//
// Forward reductions are two passes: a row kernel (one warp per row) leaves one ClassLossPartial per
// block in the workspace, then one block sums them in block order: deterministic, no float atomics.
// Backward kernels first reduce the denominator D (sum of target weights of kept rows, for mean)
// in one block, then write every gradient element in parallel.
//
// Labels: the CPU rejects a label outside [0, c) that is not ignore_index with BAD_LABEL before
// writing anything. A kernel cannot return a Status without a host read, so here such a row makes
// the loss NaN (the device-side loop then halts as on any non-finite loss) and contributes no
// gradient; one_hot writes a zero row for it. The Session validates dataset labels before a
// backend sees them, so this only guards against a corrupt label buffer.
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"
#include "kernels/optim-scalar.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

// One block's share of a class loss: sum of row losses, sum of target weights, argmax hits, and
// whether a label was out of range.
struct ClassLossPartial {
    double total, denom;
    int hits, bad;
};

constexpr int kRowWarps = kThreads / 32;   // rows in flight per block of a row kernel

struct ClassLoss {
    const float * weight;   // [c] or null
    int ignore_index;
    int64_t n, c;
    double eps;             // label smoothing (0 for nll)
    bool mean;
};

__device__ __forceinline__ double class_weight(const float * w, int64_t j) { return w ? (double)w[j] : 1.0; }

// (m, a) <- the argmax of (m, a) and (m2, a2) by torch.argmax's rule: the first NaN wins, else the
// first maximum. Commutative and associative, so a shuffle tree gives the sequential scan's answer.
__device__ __forceinline__ void argmax_merge(float & m, int64_t & a, float m2, int64_t a2) {
    const bool n1 = m != m, n2 = m2 != m2;
    if (n1 || n2) {
        if (n2 && (!n1 || a2 < a)) m = m2, a = a2;
        return;
    }
    if (m2 > m || (m2 == m && a2 < a)) m = m2, a = a2;
}

// The argmax of row `li` of c values across one warp (every lane gets it).
__device__ void warp_argmax(const float * li, int64_t c, float & m, int64_t & a) {
    const int lane = threadIdx.x & 31;
    m = -INFINITY;
    a = INT64_MAX;
    for (int64_t j = lane; j < c; j += 32) argmax_merge(m, a, li[j], j);
    for (int o = 16; o > 0; o >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
        const int64_t a2 = __shfl_xor_sync(0xffffffffu, a, o);
        argmax_merge(m, a, m2, a2);
    }
}

__device__ __forceinline__ double warp_sum_all(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Block-level combination of the per-warp accumulators (held by lane 0 of each warp), in warp order.
__device__ void store_block_partial(double total, double denom, int hits, int bad, ClassLossPartial * out) {
    __shared__ ClassLossPartial warps[kRowWarps];
    const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    if (lane == 0) warps[wid] = ClassLossPartial{total, denom, hits, bad};
    __syncthreads();
    if (threadIdx.x == 0) {
        ClassLossPartial p{0.0, 0.0, 0, 0};
        for (int w = 0; w < kRowWarps; w++) {
            p.total += warps[w].total;
            p.denom += warps[w].denom;
            p.hits += warps[w].hits;
            p.bad |= warps[w].bad;
        }
        out[blockIdx.x] = p;
    }
}

// Softmax of each row into probs and the row's cross-entropy term, one warp per row.
__global__ void cross_entropy_rows_kernel(const float * logits, const int32_t * labels, float * probs, ClassLoss L,
                                          ClassLossPartial * partials) {
    const int lane = threadIdx.x & 31;
    double total = 0.0, denom = 0.0;
    int hits = 0, bad = 0;
    for (int64_t r = (int64_t)blockIdx.x * kRowWarps + (threadIdx.x >> 5); r < L.n; r += (int64_t)gridDim.x * kRowWarps) {
        const float * li = logits + r * L.c;
        float * pi = probs + r * L.c;
        float mx;
        int64_t arg;
        warp_argmax(li, L.c, mx, arg);
        double s = 0.0;
        for (int64_t j = lane; j < L.c; j += 32) s += (double)expf(li[j] - mx);
        s = warp_sum_all(s);
        const float inv = (float)(1.0 / s);
        for (int64_t j = lane; j < L.c; j += 32) pi[j] = mul_rn(expf(li[j] - mx), inv);
        const int y = labels[r];
        if (y == L.ignore_index) continue;
        if (y < 0 || y >= L.c) {
            bad = 1;
            continue;
        }
        const double lse = log(s);
        const double wy = class_weight(L.weight, y);
        double row = (1.0 - L.eps) * wy * (lse - ((double)li[y] - (double)mx));
        if (L.eps != 0.0) {
            double sm = 0.0;   // sum_j w_j * (-logp_j)
            for (int64_t j = lane; j < L.c; j += 32) sm += class_weight(L.weight, j) * (lse - ((double)li[j] - (double)mx));
            sm = warp_sum_all(sm);
            row = __dadd_rn(row, __dmul_rn(L.eps / L.c, sm));
        }
        total += row;
        denom += wy;
        hits += arg == y;
    }
    store_block_partial(total, denom, hits, bad, partials);
}

// -log_probs[label] of each row and the argmax hit, one warp per row.
__global__ void nll_rows_kernel(const float * logp, const int32_t * labels, ClassLoss L, ClassLossPartial * partials) {
    double total = 0.0, denom = 0.0;
    int hits = 0, bad = 0;
    for (int64_t r = (int64_t)blockIdx.x * kRowWarps + (threadIdx.x >> 5); r < L.n; r += (int64_t)gridDim.x * kRowWarps) {
        const int y = labels[r];
        if (y == L.ignore_index) continue;
        if (y < 0 || y >= L.c) {
            bad = 1;
            continue;
        }
        const float * li = logp + r * L.c;
        float mx;
        int64_t arg;
        warp_argmax(li, L.c, mx, arg);
        const double wy = class_weight(L.weight, y);
        total -= wy * (double)li[y];
        denom += wy;
        hits += arg == y;
    }
    store_block_partial(total, denom, hits, bad, partials);
}

// The second pass: partials in block order -> *loss (total / D for mean, 0/0 = NaN as torch; NaN
// for a bad label) and *correct.
__global__ void class_loss_final_kernel(const ClassLossPartial * partials, int count, bool mean, float * loss, int32_t * correct) {
    __shared__ double sh[32];
    __shared__ int shi[32];
    double total = 0.0, denom = 0.0;
    int hits = 0, bad = 0;
    for (int i = threadIdx.x; i < count; i += blockDim.x) {
        total += partials[i].total;
        denom += partials[i].denom;
        hits += partials[i].hits;
        bad |= partials[i].bad;
    }
    total = block_sum(total, sh);
    denom = block_sum(denom, sh);
    hits = block_sum(hits, shi);
    bad = block_sum(bad, shi);
    if (threadIdx.x == 0) {
        *loss = bad ? NAN : (float)(mean ? total / denom : total);
        if (correct) *correct = hits;
    }
}

// ws[0] = D (sum of target weights of kept, in-range rows for mean; 1 for sum), ws[1] = sum_j w_j
// (c when unweighted), for the backward kernels.
__global__ void class_denominators_kernel(const int32_t * labels, ClassLoss L, double * ws) {
    __shared__ double sh[32];
    double d = 0.0, wsum = 0.0;
    for (int64_t i = threadIdx.x; i < L.n; i += blockDim.x) {
        const int y = labels[i];
        if (y != L.ignore_index && y >= 0 && y < L.c) d += class_weight(L.weight, y);
    }
    if (L.weight)
        for (int64_t j = threadIdx.x; j < L.c; j += blockDim.x) wsum += L.weight[j];
    d = block_sum(d, sh);
    wsum = block_sum(wsum, sh);
    if (threadIdx.x == 0) {
        ws[0] = L.mean ? d : 1.0;
        ws[1] = L.weight ? wsum : (double)L.c;
    }
}

// dlogits_ij = (probs_ij * (a + b*W) - b*w_j - a*[j == y_i]) / D for kept rows, 0 (or unchanged
// with accumulate) elsewhere; a = (1 - eps) w[y_i], b = eps / c.
template <bool Acc>
__global__ void cross_entropy_backward_kernel(const float * probs, const int32_t * labels, float * dlogits, ClassLoss L, const double * ws) {
    const double inv_d = 1.0 / ws[0], wsum = ws[1];
    const double b = L.eps / L.c;
    const int64_t total = L.n * L.c;
    for (int64_t k = global_thread(); k < total; k += grid_threads()) {
        const int64_t i = k / L.c, j = k - i * L.c;
        const int y = labels[i];
        if (y == L.ignore_index || y < 0 || y >= L.c) {
            if (!Acc) dlogits[k] = 0.f;
            continue;
        }
        const double a = (1.0 - L.eps) * class_weight(L.weight, y);
        const double s = a + b * wsum;
        double t = (double)probs[k] * s;
        if (b != 0.0) t = __dsub_rn(t, __dmul_rn(b, class_weight(L.weight, j)));
        if (j == y) t -= a;
        const float v = (float)(t * inv_d);
        dlogits[k] = Acc ? dlogits[k] + v : v;
    }
}

// dlogp_ij = -w[y_i] / D at j == y_i of kept rows; 0 elsewhere (unchanged there with accumulate).
template <bool Acc> __global__ void nll_backward_kernel(const int32_t * labels, float * dlogp, ClassLoss L, const double * ws) {
    const double inv_d = 1.0 / ws[0];
    const int64_t total = L.n * L.c;
    for (int64_t k = global_thread(); k < total; k += grid_threads()) {
        const int64_t i = k / L.c, j = k - i * L.c;
        const int y = labels[i];
        const bool hit = y != L.ignore_index && y >= 0 && y < L.c && j == y;
        if (!hit) {
            if (!Acc) dlogp[k] = 0.f;
            continue;
        }
        const float v = (float)(-class_weight(L.weight, y) * inv_d);
        dlogp[k] = Acc ? dlogp[k] + v : 0.f + v;   // the CPU zeroes the row, then adds
    }
}

// ---- point losses ----------------------------------------------------------------------------------

__device__ __forceinline__ double sgn(double d) { return d > 0 ? 1.0 : d < 0 ? -1.0 : d; }

__device__ __forceinline__ double point_value(PointLoss kind, double x, double t, double beta) {
    const double d = x - t;
    switch (kind) {
    case PointLoss::MSE: return d * d;
    case PointLoss::L1: return fabs(d);
    case PointLoss::SMOOTH_L1: {
        const double z = fabs(d);
        if (!(beta > 0)) return z;
        return z < beta ? 0.5 * z * z / beta : z - 0.5 * beta;
    }
    case PointLoss::BCE_WITH_LOGITS: return __dadd_rn(__dsub_rn(fmax(x, 0.0), __dmul_rn(x, t)), log1p(exp(-fabs(x))));
    }
    return NAN;
}

__device__ __forceinline__ double point_grad(PointLoss kind, double x, double t, double beta) {
    const double d = x - t;
    switch (kind) {
    case PointLoss::MSE: return 2.0 * d;
    case PointLoss::L1: return sgn(d);
    case PointLoss::SMOOTH_L1:
        if (!(beta > 0)) return sgn(d);
        return d < -beta ? -1.0 : d > beta ? 1.0 : d / beta;
    case PointLoss::BCE_WITH_LOGITS: return 1.0 / (1.0 + exp(-x)) - t;
    }
    return NAN;
}

__global__ void point_loss_partials_kernel(PointLoss kind, const float * pred, const float * target, int64_t count, double beta,
                                           double * partials) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int64_t i = global_thread(); i < count; i += grid_threads()) s += point_value(kind, pred[i], target[i], beta);
    s = block_sum(s, sh);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void point_loss_final_kernel(const double * partials, int blocks, int64_t count, bool mean, float * loss) {
    __shared__ double sh[32];
    const double total = sum_partials(partials, blocks, sh);
    if (threadIdx.x == 0) *loss = (float)(mean ? total / (double)count : total);   // count 0: NaN, as torch
}

__global__ void point_loss_backward_kernel(PointLoss kind, const float * pred, const float * target, float * dpred, float * dtarget,
                                           int64_t count, double k, double beta, bool acc_pred, bool acc_target) {
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const double x = pred[i], t = target[i];
        const double gp = point_grad(kind, x, t, beta) * k;
        if (dpred) {
            const float v = (float)gp;
            dpred[i] = acc_pred ? dpred[i] + v : v;
        }
        if (dtarget) {
            const float v = (float)(kind == PointLoss::BCE_WITH_LOGITS ? -x * k : -gp);
            dtarget[i] = acc_target ? dtarget[i] + v : v;
        }
    }
}

__global__ void one_hot_kernel(const int32_t * labels, float * y, int64_t n, int64_t c) {
    for (int64_t k = global_thread(); k < n * c; k += grid_threads()) {
        const int64_t i = k / c, j = k - i * c;
        y[k] = labels[i] == j ? 1.f : 0.f;   // a label outside [0, c) matches no j: a zero row
    }
}

template <class O> ClassLoss class_loss(const CudaArgs<O> & a, float label_smoothing) {
    return ClassLoss{a.f32(O::weight), a.i(O::ignore_index), (int64_t)a.n(), (int64_t)a.i(O::classes), hyper_double(label_smoothing),
                     (Reduction)a.i(O::reduction) == Reduction::MEAN};
}

unsigned row_blocks(int64_t n) {
    const int64_t b = (n + kRowWarps - 1) / kRowWarps;
    return (unsigned)(b < 1 ? 1 : b > kReducePartials ? kReducePartials : b);
}

constexpr size_t kClassPartialBytes = sizeof(ClassLossPartial) * kReducePartials;

} // namespace

template <> Status cuda_run<op::SOFTMAX_CROSS_ENTROPY_FORWARD>(const CudaArgs<op::SOFTMAX_CROSS_ENTROPY_FORWARD> & a) {
    using O = op::SOFTMAX_CROSS_ENTROPY_FORWARD;
    const ClassLoss L = class_loss(a, a.f(O::label_smoothing));
    auto * partials = static_cast<ClassLossPartial *>(a.workspace());
    const unsigned blocks = row_blocks(L.n);
    cross_entropy_rows_kernel<<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::logits), a.i32(O::labels), a.f32(O::probs), L, partials);
    class_loss_final_kernel<<<1, kReduceThreads, 0, a.stream()>>>(partials, (int)blocks, L.mean, a.f32(O::loss), a.i32(O::correct));
    return cuda_launched("softmax_cross_entropy_forward");
}
template <> size_t cuda_workspace<op::SOFTMAX_CROSS_ENTROPY_FORWARD>(const OperandsOf<op::SOFTMAX_CROSS_ENTROPY_FORWARD> &, int) {
    return kClassPartialBytes;
}

template <> Status cuda_run<op::SOFTMAX_CROSS_ENTROPY_BACKWARD>(const CudaArgs<op::SOFTMAX_CROSS_ENTROPY_BACKWARD> & a) {
    using O = op::SOFTMAX_CROSS_ENTROPY_BACKWARD;
    const ClassLoss L = class_loss(a, a.f(O::label_smoothing));
    auto * ws = static_cast<double *>(a.workspace());
    class_denominators_kernel<<<1, kReduceThreads, 0, a.stream()>>>(a.i32(O::labels), L, ws);
    const unsigned blocks = elementwise_blocks(L.n * L.c, a.sm_count());
    if (a.flag(O::accumulate))
        cross_entropy_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::probs), a.i32(O::labels), a.f32(O::dlogits), L, ws);
    else
        cross_entropy_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::probs), a.i32(O::labels), a.f32(O::dlogits), L, ws);
    return cuda_launched("softmax_cross_entropy_backward");
}
template <> size_t cuda_workspace<op::SOFTMAX_CROSS_ENTROPY_BACKWARD>(const OperandsOf<op::SOFTMAX_CROSS_ENTROPY_BACKWARD> &, int) {
    return 2 * sizeof(double);
}

template <> Status cuda_run<op::NLL_LOSS_FORWARD>(const CudaArgs<op::NLL_LOSS_FORWARD> & a) {
    using O = op::NLL_LOSS_FORWARD;
    const ClassLoss L = class_loss(a, 0.f);
    auto * partials = static_cast<ClassLossPartial *>(a.workspace());
    const unsigned blocks = row_blocks(L.n);
    nll_rows_kernel<<<blocks, kThreads, 0, a.stream()>>>(a.f32(O::log_probs), a.i32(O::labels), L, partials);
    class_loss_final_kernel<<<1, kReduceThreads, 0, a.stream()>>>(partials, (int)blocks, L.mean, a.f32(O::loss), a.i32(O::correct));
    return cuda_launched("nll_loss_forward");
}
template <> size_t cuda_workspace<op::NLL_LOSS_FORWARD>(const OperandsOf<op::NLL_LOSS_FORWARD> &, int) { return kClassPartialBytes; }

template <> Status cuda_run<op::NLL_LOSS_BACKWARD>(const CudaArgs<op::NLL_LOSS_BACKWARD> & a) {
    using O = op::NLL_LOSS_BACKWARD;
    const ClassLoss L = class_loss(a, 0.f);
    auto * ws = static_cast<double *>(a.workspace());
    class_denominators_kernel<<<1, kReduceThreads, 0, a.stream()>>>(a.i32(O::labels), L, ws);
    const unsigned blocks = elementwise_blocks(L.n * L.c, a.sm_count());
    if (a.flag(O::accumulate))
        nll_backward_kernel<true><<<blocks, kThreads, 0, a.stream()>>>(a.i32(O::labels), a.f32(O::dlog_probs), L, ws);
    else
        nll_backward_kernel<false><<<blocks, kThreads, 0, a.stream()>>>(a.i32(O::labels), a.f32(O::dlog_probs), L, ws);
    return cuda_launched("nll_loss_backward");
}
template <> size_t cuda_workspace<op::NLL_LOSS_BACKWARD>(const OperandsOf<op::NLL_LOSS_BACKWARD> &, int) { return 2 * sizeof(double); }

template <> Status cuda_run<op::POINT_LOSS_FORWARD>(const CudaArgs<op::POINT_LOSS_FORWARD> & a) {
    using O = op::POINT_LOSS_FORWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    auto * partials = static_cast<double *>(a.workspace());
    const unsigned blocks = partial_blocks(count);
    point_loss_partials_kernel<<<blocks, kReduceThreads, 0, a.stream()>>>((PointLoss)a.i(O::kind), a.f32(O::pred), a.f32(O::target), count,
                                                                          hyper_double(a.f(O::beta)), partials);
    point_loss_final_kernel<<<1, kReduceThreads, 0, a.stream()>>>(partials, (int)blocks, count,
                                                                  (Reduction)a.i(O::reduction) == Reduction::MEAN, a.f32(O::loss));
    return cuda_launched("point_loss_forward");
}
template <> size_t cuda_workspace<op::POINT_LOSS_FORWARD>(const OperandsOf<op::POINT_LOSS_FORWARD> &, int) {
    return sizeof(double) * kReducePartials;
}

template <> Status cuda_run<op::POINT_LOSS_BACKWARD>(const CudaArgs<op::POINT_LOSS_BACKWARD> & a) {
    using O = op::POINT_LOSS_BACKWARD;
    const int64_t count = (int64_t)a.n() * a.i(O::features);
    const double k = (Reduction)a.i(O::reduction) == Reduction::MEAN ? 1.0 / (double)count : 1.0;
    if (count > 0 && (a.has(O::dpred) || a.has(O::dtarget)))
        point_loss_backward_kernel<<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(
            (PointLoss)a.i(O::kind), a.f32(O::pred), a.f32(O::target), a.f32(O::dpred), a.f32(O::dtarget), count, k, hyper_double(a.f(O::beta)),
            a.flag(O::accumulate_pred), a.flag(O::accumulate_target));
    return cuda_launched("point_loss_backward");
}
template <> size_t cuda_workspace<op::POINT_LOSS_BACKWARD>(const OperandsOf<op::POINT_LOSS_BACKWARD> &, int) { return 0; }

template <> Status cuda_run<op::ONE_HOT>(const CudaArgs<op::ONE_HOT> & a) {
    using O = op::ONE_HOT;
    const int64_t n = a.n(), c = a.i(O::classes);
    if (n > 0 && c > 0) one_hot_kernel<<<elementwise_blocks(n * c, a.sm_count()), kThreads, 0, a.stream()>>>(a.i32(O::labels), a.f32(O::y), n, c);
    return cuda_launched("one_hot");
}
template <> size_t cuda_workspace<op::ONE_HOT>(const OperandsOf<op::ONE_HOT> &, int) { return 0; }

} // namespace nl
