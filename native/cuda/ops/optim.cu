// Optimizer steps and gradient clipping on CUDA, mirroring native/core/ops/optim.cpp and the CPU
// kernels sgd.cpp, adam.cpp, rmsprop.cpp, adagrad.cpp, grad-clip.cpp (torch.optim's formulas and
// float operation order are documented there; each loop body below is theirs line for line).
//
//   sgd / adam / rmsprop / adagrad:  param, grad, state buffers [count] (count = the parameter's size)
//   grad_norm_sq:                    norm_sq [1] (+)= sum(grad^2)          (double, deterministic two-pass)
//   clip_grad:                       grad *= min(1, max_norm / (sqrt(norm_sq) + 1e-6))
//
// Per-step values come from DeviceStep: the lr / momentum overrides (when >= 0) and the step count
// (bias correction, Adagrad's lr decay). Thread 0 of each block forms the step's float scalars from
// them exactly as the CPU's *_consts functions do (hyper_double, the Python-double arithmetic) and
// shares them through shared memory. A step kernel returns without writing when dstep->halted.
//
// Check mode (cuda_check_step): the same kernel with Store = false computes every value the step
// would store, writes none, and ORs the StepNonFinite bits (kernels.h) into *bits: one atomicOr per
// block that found any (an OR is order-independent, so this is deterministic).
#include "cuda-args.h"
#include "kernels.h"
#include "kernels/common.cuh"
#include "kernels/optim-scalar.cuh"

namespace nl {

using namespace cuda_detail;

namespace {

__device__ __forceinline__ float lr_or(const DeviceStep * ds, float programmed) { return ds->lr >= 0.f ? ds->lr : programmed; }
__device__ __forceinline__ float momentum_or(const DeviceStep * ds, float programmed) { return ds->momentum >= 0.f ? ds->momentum : programmed; }

// The block's StepNonFinite bits into *bits (check mode).
__device__ void report_bits(unsigned mine, unsigned * bits) {
    __shared__ unsigned sh[32];
    const unsigned b = block_or(mine, sh);
    if (threadIdx.x == 0 && b) atomicOr(bits, b);
}

// Thread 0 forms the constants, every thread gets a copy.
template <class C, class F> __device__ C block_consts(F make) {
    __shared__ C sh;
    if (threadIdx.x == 0) sh = make();
    __syncthreads();
    return sh;
}

// ---- SGD ---------------------------------------------------------------------------------------------

struct SgdHyper {
    float lr, momentum, dampening, weight_decay;
    bool nesterov, maximize, has_buf;
};
struct SgdConsts {
    float neg_lr, wd_f, mom_f, damp_f, sign;
    bool use_wd, use_momentum, first, nesterov;
};
__device__ SgdConsts sgd_consts(const SgdHyper & h, const DeviceStep * ds) {
    const double lr = hyper_double(lr_or(ds, h.lr));
    const double momentum = hyper_double(momentum_or(ds, h.momentum));
    const double dampening = hyper_double(h.dampening);
    const double wd = hyper_double(h.weight_decay);
    SgdConsts c;
    c.neg_lr = (float)(-lr);
    c.wd_f = (float)wd;
    c.mom_f = (float)momentum;
    c.damp_f = (float)(1.0 - dampening);
    c.sign = h.maximize ? -1.f : 1.f;
    c.use_wd = wd != 0.0;
    c.use_momentum = momentum != 0.0 && h.has_buf;
    c.first = ds->step <= 1;
    c.nesterov = h.nesterov;
    return c;
}

template <bool Store>
__global__ void sgd_kernel(float * p, const float * g, float * buf, int64_t count, SgdHyper h, const DeviceStep * ds, unsigned * bits) {
    if (Store && ds->halted) return;
    const SgdConsts c = block_consts<SgdConsts>([&] { return sgd_consts(h, ds); });
    NonFiniteAccD acc;
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        float d = c.sign * g[i];
        if (c.use_wd) d = fma_f(c.wd_f, p[i], d);
        if (c.use_momentum) {
            const float b = c.first ? d : fma_f(c.damp_f, d, mul_rn(buf[i], c.mom_f));
            if (Store) buf[i] = b;
            else acc.state(b);
            d = c.nesterov ? fma_f(c.mom_f, b, d) : b;
        }
        const float pn = fma_f(c.neg_lr, d, p[i]);
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    if (!Store) report_bits(acc.bits(), bits);
}

// ---- Adam / AdamW ------------------------------------------------------------------------------------

struct AdamHyper {
    float lr, beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled;
};
struct AdamConsts {
    float b1_f, one_minus_b1, b2_f, one_minus_b2, bc2s_f, eps_f, neg_step, wd_f, decay_f, sign;
    bool l2, decoupled, amsgrad;
};
__device__ AdamConsts adam_consts(const AdamHyper & h, const DeviceStep * ds) {
    const double lr = hyper_double(lr_or(ds, h.lr));
    const double beta1 = hyper_double(momentum_or(ds, h.beta1));
    const double beta2 = hyper_double(h.beta2);
    const double eps = hyper_double(h.eps);
    const double wd = hyper_double(h.weight_decay);
    const double t = (double)(ds->step < 1 ? 1 : ds->step);
    const double bias_correction1 = 1.0 - pow(beta1, t);
    const double bias_correction2 = 1.0 - pow(beta2, t);
    const double step_size = lr / bias_correction1;
    AdamConsts c;
    c.b1_f = (float)beta1;
    c.one_minus_b1 = (float)(1.0 - beta1);
    c.b2_f = (float)beta2;
    c.one_minus_b2 = (float)(1.0 - beta2);
    c.bc2s_f = (float)sqrt(bias_correction2);
    c.eps_f = (float)eps;
    c.neg_step = (float)(-step_size);
    c.wd_f = (float)wd;
    c.decay_f = (float)(1.0 - lr * wd);
    c.sign = h.maximize ? -1.f : 1.f;
    c.l2 = !h.decoupled && wd != 0.0;
    c.decoupled = h.decoupled;
    c.amsgrad = h.amsgrad;
    return c;
}

template <bool Store>
__global__ void adam_kernel(float * p, const float * g, float * m, float * v, float * vmax, int64_t count, AdamHyper h, const DeviceStep * ds,
                            unsigned * bits) {
    if (Store && ds->halted) return;
    const AdamConsts c = block_consts<AdamConsts>([&] { return adam_consts(h, ds); });
    const bool ams = c.amsgrad && vmax;
    NonFiniteAccD acc;
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        float pi = p[i];
        float gi = c.sign * g[i];
        if (c.l2) gi = fma_f(c.wd_f, pi, gi);
        if (c.decoupled) pi = mul_rn(pi, c.decay_f);
        const float mi = fma_f(c.one_minus_b1, gi, mul_rn(m[i], c.b1_f));
        const float vi = fma_f(mul_rn(c.one_minus_b2, gi), gi, mul_rn(v[i], c.b2_f));
        if (Store) {
            m[i] = mi;
            v[i] = vi;
        } else {
            acc.state(mi);
            acc.state(vi);
        }
        float vu = vi;
        if (ams) {
            const float vm = vmax[i];
            vu = (vm > vi || vm != vm) ? vm : vi;   // torch.maximum: NaN propagates
            if (Store) vmax[i] = vu;
            else acc.state(vu);
        }
        const float den = add_rn(__fdiv_rn(__fsqrt_rn(vu), c.bc2s_f), c.eps_f);
        const float pn = add_rn(pi, __fdiv_rn(mul_rn(c.neg_step, mi), den));
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    if (!Store) report_bits(acc.bits(), bits);
}

// ---- RMSprop -----------------------------------------------------------------------------------------

struct RmspropHyper {
    float lr, alpha, eps, weight_decay, momentum;
    bool centered, maximize, has_momentum_buffer, has_grad_avg;
};
struct RmspropConsts {
    float alpha_f, one_minus_alpha, eps_f, wd_f, mom_f, neg_lr, sign;
    bool use_wd, use_momentum, centered;
};
__device__ RmspropConsts rmsprop_consts(const RmspropHyper & h, const DeviceStep * ds) {
    const double lr = hyper_double(lr_or(ds, h.lr));
    const double alpha = hyper_double(h.alpha);
    const double eps = hyper_double(h.eps);
    const double wd = hyper_double(h.weight_decay);
    const double momentum = hyper_double(momentum_or(ds, h.momentum));
    RmspropConsts c;
    c.alpha_f = (float)alpha;
    c.one_minus_alpha = (float)(1.0 - alpha);
    c.eps_f = (float)eps;
    c.wd_f = (float)wd;
    c.mom_f = (float)momentum;
    c.neg_lr = (float)(-lr);
    c.sign = h.maximize ? -1.f : 1.f;
    c.use_wd = wd != 0.0;
    c.use_momentum = momentum > 0.0 && h.has_momentum_buffer;
    c.centered = h.centered && h.has_grad_avg;
    return c;
}

template <bool Store>
__global__ void rmsprop_kernel(float * p, const float * g, float * square_avg, float * momentum_buffer, float * grad_avg, int64_t count,
                               RmspropHyper h, const DeviceStep * ds, unsigned * bits) {
    if (Store && ds->halted) return;
    const RmspropConsts c = block_consts<RmspropConsts>([&] { return rmsprop_consts(h, ds); });
    NonFiniteAccD acc;
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        float gi = c.sign * g[i];
        if (c.use_wd) gi = fma_f(c.wd_f, p[i], gi);
        const float sa = fma_f(mul_rn(c.one_minus_alpha, gi), gi, mul_rn(square_avg[i], c.alpha_f));
        if (Store) square_avg[i] = sa;
        else acc.state(sa);
        float avg;
        if (c.centered) {
            const float ga = fma_f(c.one_minus_alpha, gi, mul_rn(grad_avg[i], c.alpha_f));
            if (Store) grad_avg[i] = ga;
            else acc.state(ga);
            avg = __fsqrt_rn(fma_f(-ga, ga, sa));
        } else {
            avg = __fsqrt_rn(sa);
        }
        avg = add_rn(avg, c.eps_f);
        float pn;
        if (c.use_momentum) {
            const float b = add_rn(mul_rn(momentum_buffer[i], c.mom_f), __fdiv_rn(gi, avg));
            if (Store) momentum_buffer[i] = b;
            else acc.state(b);
            pn = fma_f(c.neg_lr, b, p[i]);
        } else {
            pn = add_rn(p[i], __fdiv_rn(mul_rn(c.neg_lr, gi), avg));
        }
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    if (!Store) report_bits(acc.bits(), bits);
}

// ---- Adagrad -----------------------------------------------------------------------------------------

struct AdagradHyper {
    float lr, lr_decay, weight_decay, eps;
    bool maximize;
};
struct AdagradConsts {
    float neg_clr, eps_f, wd_f, sign;
    bool use_wd;
};
__device__ AdagradConsts adagrad_consts(const AdagradHyper & h, const DeviceStep * ds) {
    const double lr = hyper_double(lr_or(ds, h.lr));
    const double lr_decay = hyper_double(h.lr_decay);
    const double eps = hyper_double(h.eps);
    const double wd = hyper_double(h.weight_decay);
    const double t = (double)(ds->step < 1 ? 1 : ds->step);
    const double clr = lr / (1.0 + (t - 1.0) * lr_decay);
    AdagradConsts c;
    c.neg_clr = (float)(-clr);
    c.eps_f = (float)eps;
    c.wd_f = (float)wd;
    c.sign = h.maximize ? -1.f : 1.f;
    c.use_wd = wd != 0.0;
    return c;
}

template <bool Store>
__global__ void adagrad_kernel(float * p, const float * g, float * state_sum, int64_t count, AdagradHyper h, const DeviceStep * ds,
                               unsigned * bits) {
    if (Store && ds->halted) return;
    const AdagradConsts c = block_consts<AdagradConsts>([&] { return adagrad_consts(h, ds); });
    NonFiniteAccD acc;
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        float gi = c.sign * g[i];
        if (c.use_wd) gi = fma_f(c.wd_f, p[i], gi);
        const float s = fma_f(gi, gi, state_sum[i]);
        if (Store) state_sum[i] = s;
        else acc.state(s);
        const float sd = add_rn(__fsqrt_rn(s), c.eps_f);
        const float pn = add_rn(p[i], __fdiv_rn(mul_rn(c.neg_clr, gi), sd));
        if (Store) p[i] = pn;
        else acc.weights(pn);
    }
    if (!Store) report_bits(acc.bits(), bits);
}

// ---- gradient norm and clipping ----------------------------------------------------------------------

__global__ void sum_squares_partials_kernel(const float * g, int64_t count, double * partials) {
    __shared__ double sh[32];
    double s = 0.0;
    for (int64_t i = global_thread(); i < count; i += grid_threads()) {
        const double v = g[i];
        s += v * v;
    }
    s = block_sum(s, sh);
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void grad_norm_final_kernel(const double * partials, int blocks, bool first, float * norm_sq) {
    __shared__ double sh[32];
    const double s = sum_partials(partials, blocks, sh);
    if (threadIdx.x == 0) *norm_sq = (float)((first ? 0.0 : (double)*norm_sq) + s);
}

// coef = min(1, max_norm / (sqrt(norm_sq) + 1e-6)) as std::min(1.0, q): a NaN q gives 1.
__global__ void clip_grad_kernel(float * g, int64_t count, const float * norm_sq, float max_norm) {
    const double total = sqrt((double)*norm_sq);
    const double q = (double)max_norm / (total + 1e-6);
    const float coef = (float)(q < 1.0 ? q : 1.0);
    for (int64_t i = global_thread(); i < count; i += grid_threads()) g[i] = mul_rn(g[i], coef);
}

// ---- the hyper-parameters of an instruction (host side; the step's overrides are applied on the device)

SgdHyper sgd_hyper(const CudaArgs<op::SGD_STEP> & a) {
    using O = op::SGD_STEP;
    return SgdHyper{a.f(O::lr), a.f(O::momentum), a.f(O::dampening), a.f(O::weight_decay), a.flag(O::nesterov), a.flag(O::maximize),
                    a.has(O::momentum_buffer)};
}
AdamHyper adam_hyper(const CudaArgs<op::ADAM_STEP> & a) {
    using O = op::ADAM_STEP;
    return AdamHyper{a.f(O::lr),      a.f(O::beta1),       a.f(O::beta2),        a.f(O::eps), a.f(O::weight_decay),
                     a.flag(O::amsgrad), a.flag(O::maximize), a.flag(O::decoupled)};
}
RmspropHyper rmsprop_hyper(const CudaArgs<op::RMSPROP_STEP> & a) {
    using O = op::RMSPROP_STEP;
    return RmspropHyper{a.f(O::lr),          a.f(O::alpha),         a.f(O::eps),
                        a.f(O::weight_decay), a.f(O::momentum),      a.flag(O::centered),
                        a.flag(O::maximize),  a.has(O::momentum_buffer), a.has(O::grad_avg)};
}
AdagradHyper adagrad_hyper(const CudaArgs<op::ADAGRAD_STEP> & a) {
    using O = op::ADAGRAD_STEP;
    return AdagradHyper{a.f(O::lr), a.f(O::lr_decay), a.f(O::weight_decay), a.f(O::eps), a.flag(O::maximize)};
}

template <bool Store> Status launch_sgd(const CudaArgs<op::SGD_STEP> & a, unsigned * bits) {
    using O = op::SGD_STEP;
    const int64_t count = a.elems(O::param);
    if (count > 0)
        sgd_kernel<Store><<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(
            a.f32(O::param), a.f32(O::grad), a.f32(O::momentum_buffer), count, sgd_hyper(a), a.dstep(), bits);
    return cuda_launched(Store ? "sgd_step" : "sgd_step (check)");
}
template <bool Store> Status launch_adam(const CudaArgs<op::ADAM_STEP> & a, unsigned * bits) {
    using O = op::ADAM_STEP;
    const int64_t count = a.elems(O::param);
    if (count > 0)
        adam_kernel<Store><<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(
            a.f32(O::param), a.f32(O::grad), a.f32(O::exp_avg), a.f32(O::exp_avg_sq), a.f32(O::max_exp_avg_sq), count, adam_hyper(a),
            a.dstep(), bits);
    return cuda_launched(Store ? "adam_step" : "adam_step (check)");
}
template <bool Store> Status launch_rmsprop(const CudaArgs<op::RMSPROP_STEP> & a, unsigned * bits) {
    using O = op::RMSPROP_STEP;
    const int64_t count = a.elems(O::param);
    if (count > 0)
        rmsprop_kernel<Store><<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(
            a.f32(O::param), a.f32(O::grad), a.f32(O::square_avg), a.f32(O::momentum_buffer), a.f32(O::grad_avg), count, rmsprop_hyper(a),
            a.dstep(), bits);
    return cuda_launched(Store ? "rmsprop_step" : "rmsprop_step (check)");
}
template <bool Store> Status launch_adagrad(const CudaArgs<op::ADAGRAD_STEP> & a, unsigned * bits) {
    using O = op::ADAGRAD_STEP;
    const int64_t count = a.elems(O::param);
    if (count > 0)
        adagrad_kernel<Store><<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(
            a.f32(O::param), a.f32(O::grad), a.f32(O::sum), count, adagrad_hyper(a), a.dstep(), bits);
    return cuda_launched(Store ? "adagrad_step" : "adagrad_step (check)");
}

} // namespace

template <> Status cuda_run<op::SGD_STEP>(const CudaArgs<op::SGD_STEP> & a) { return launch_sgd<true>(a, nullptr); }
template <> size_t cuda_workspace<op::SGD_STEP>(const OperandsOf<op::SGD_STEP> &, int) { return 0; }
template <> Status cuda_check_step<op::SGD_STEP>(const CudaArgs<op::SGD_STEP> & a, unsigned * bits) { return launch_sgd<false>(a, bits); }

template <> Status cuda_run<op::ADAM_STEP>(const CudaArgs<op::ADAM_STEP> & a) { return launch_adam<true>(a, nullptr); }
template <> size_t cuda_workspace<op::ADAM_STEP>(const OperandsOf<op::ADAM_STEP> &, int) { return 0; }
template <> Status cuda_check_step<op::ADAM_STEP>(const CudaArgs<op::ADAM_STEP> & a, unsigned * bits) { return launch_adam<false>(a, bits); }

template <> Status cuda_run<op::RMSPROP_STEP>(const CudaArgs<op::RMSPROP_STEP> & a) { return launch_rmsprop<true>(a, nullptr); }
template <> size_t cuda_workspace<op::RMSPROP_STEP>(const OperandsOf<op::RMSPROP_STEP> &, int) { return 0; }
template <> Status cuda_check_step<op::RMSPROP_STEP>(const CudaArgs<op::RMSPROP_STEP> & a, unsigned * bits) {
    return launch_rmsprop<false>(a, bits);
}

template <> Status cuda_run<op::ADAGRAD_STEP>(const CudaArgs<op::ADAGRAD_STEP> & a) { return launch_adagrad<true>(a, nullptr); }
template <> size_t cuda_workspace<op::ADAGRAD_STEP>(const OperandsOf<op::ADAGRAD_STEP> &, int) { return 0; }
template <> Status cuda_check_step<op::ADAGRAD_STEP>(const CudaArgs<op::ADAGRAD_STEP> & a, unsigned * bits) {
    return launch_adagrad<false>(a, bits);
}

template <> Status cuda_run<op::GRAD_NORM_SQ>(const CudaArgs<op::GRAD_NORM_SQ> & a) {
    using O = op::GRAD_NORM_SQ;
    const int64_t count = a.elems(O::grad);
    auto * partials = static_cast<double *>(a.workspace());
    const unsigned blocks = partial_blocks(count);
    sum_squares_partials_kernel<<<blocks, kReduceThreads, 0, a.stream()>>>(a.f32(O::grad), count, partials);
    grad_norm_final_kernel<<<1, kReduceThreads, 0, a.stream()>>>(partials, (int)blocks, a.flag(O::first), a.f32(O::norm_sq));
    return cuda_launched("grad_norm_sq");
}
template <> size_t cuda_workspace<op::GRAD_NORM_SQ>(const OperandsOf<op::GRAD_NORM_SQ> &, int) { return sizeof(double) * kReducePartials; }

template <> Status cuda_run<op::CLIP_GRAD>(const CudaArgs<op::CLIP_GRAD> & a) {
    using O = op::CLIP_GRAD;
    const int64_t count = a.elems(O::grad);
    if (count > 0)
        clip_grad_kernel<<<elementwise_blocks(count, a.sm_count()), kThreads, 0, a.stream()>>>(a.f32(O::grad), count, a.f32(O::norm_sq),
                                                                                                a.f(O::max_norm));
    return cuda_launched("clip_grad");
}
template <> size_t cuda_workspace<op::CLIP_GRAD>(const OperandsOf<op::CLIP_GRAD> &, int) { return 0; }

} // namespace nl
