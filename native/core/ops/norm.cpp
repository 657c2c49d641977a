// BatchNorm1d/2d and LayerNorm (kernels/batch-norm.cpp, layer-norm.cpp): checks and CPU calls.
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

template <> void check_op<op::BATCH_NORM_FORWARD>(Checker & c, const OperandsOf<op::BATCH_NORM_FORWARD> & a) {
    using O = op::BATCH_NORM_FORWARD;
    if (!c.positive(a.i(O::channels), "channels") || !c.positive(a.i(O::inner), "inner size") || !c.finite(a, O::eps) ||
        !c.finite(a, O::momentum))
        return;
    const int64_t ch = a.i(O::channels), e = (int64_t)a.i(O::channels) * a.i(O::inner);
    c.buf(a, O::x, F32, BATCHED, e);
    c.buf(a, O::weight, F32, FIXED, ch, OPTIONAL);
    c.buf(a, O::bias, F32, FIXED, ch, OPTIONAL);
    c.buf(a, O::running_mean, F32, FIXED, ch, OPTIONAL);
    c.buf(a, O::running_var, F32, FIXED, ch, OPTIONAL);
    c.buf(a, O::num_batches_tracked, I32, FIXED, 1, OPTIONAL);
    c.buf(a, O::save_mean, F32, FIXED, ch);
    c.buf(a, O::save_invstd, F32, FIXED, ch);
    c.buf(a, O::y, F32, BATCHED, e);
    if (c.ok() && a.has(O::running_mean) != a.has(O::running_var)) c.fail("running_mean and running_var come together");
}

template <> Status cpu_run<op::BATCH_NORM_FORWARD>(const CpuArgs<op::BATCH_NORM_FORWARD> & a) {
    using O = op::BATCH_NORM_FORWARD;
    const bool training = a.s.training;
    // Eval mode uses the running statistics when they are tracked; without them (and in
    // training) the batch statistics, as torch.
    if (!training && a.has(O::running_mean))
        batch_norm_forward_eval(a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::running_mean), a.f32(O::running_var), a.f32(O::y),
                                a.n(), a.i(O::channels), a.i(O::inner), a.f(O::eps));
    else
        batch_norm_forward_train(a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y), a.f32(O::save_mean), a.f32(O::save_invstd),
                                 training ? a.f32(O::running_mean) : nullptr, training ? a.f32(O::running_var) : nullptr,
                                 training ? a.i32(O::num_batches_tracked) : nullptr, a.n(), a.i(O::channels), a.i(O::inner), a.f(O::eps),
                                 a.f(O::momentum));
    return {};
}

template <> void check_op<op::BATCH_NORM_BACKWARD>(Checker & c, const OperandsOf<op::BATCH_NORM_BACKWARD> & a) {
    using O = op::BATCH_NORM_BACKWARD;
    if (!c.positive(a.i(O::channels), "channels") || !c.positive(a.i(O::inner), "inner size") || !c.flag(a, O::accumulate_dx)) return;
    const int64_t ch = a.i(O::channels), e = (int64_t)a.i(O::channels) * a.i(O::inner);
    c.buf(a, O::dy, F32, BATCHED, e);
    c.buf(a, O::x, F32, BATCHED, e);
    c.buf(a, O::weight, F32, FIXED, ch, OPTIONAL);
    c.buf(a, O::save_mean, F32, FIXED, ch);
    c.buf(a, O::save_invstd, F32, FIXED, ch);
    c.buf(a, O::dx, F32, BATCHED, e, OPTIONAL);
    c.buf(a, O::dweight, F32, FIXED, ch, OPTIONAL);
    c.buf(a, O::dbias, F32, FIXED, ch, OPTIONAL);
}

template <> Status cpu_run<op::BATCH_NORM_BACKWARD>(const CpuArgs<op::BATCH_NORM_BACKWARD> & a) {
    using O = op::BATCH_NORM_BACKWARD;
    batch_norm_backward(a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::save_mean), a.f32(O::save_invstd), a.f32(O::dx),
                        a.f32(O::dweight), a.f32(O::dbias), a.n(), a.i(O::channels), a.i(O::inner), a.flag(O::accumulate_dx));
    return {};
}

template <> void check_op<op::LAYER_NORM_FORWARD>(Checker & c, const OperandsOf<op::LAYER_NORM_FORWARD> & a) {
    using O = op::LAYER_NORM_FORWARD;
    if (!c.positive(a, O::rows) || !c.positive(a, O::cols) || !c.finite(a, O::eps)) return;
    const int64_t rows = a.i(O::rows), cols = a.i(O::cols), e = rows * cols;
    c.buf(a, O::x, F32, BATCHED, e);
    c.buf(a, O::weight, F32, FIXED, cols, OPTIONAL);
    c.buf(a, O::bias, F32, FIXED, cols, OPTIONAL);
    c.buf(a, O::y, F32, BATCHED, e);
    c.buf(a, O::mean, F32, BATCHED, rows);
    c.buf(a, O::rstd, F32, BATCHED, rows);
}

template <> Status cpu_run<op::LAYER_NORM_FORWARD>(const CpuArgs<op::LAYER_NORM_FORWARD> & a) {
    using O = op::LAYER_NORM_FORWARD;
    layer_norm_forward(a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y), a.f32(O::mean), a.f32(O::rstd),
                       (int64_t)a.n() * a.i(O::rows), a.i(O::cols), a.f(O::eps));
    return {};
}

template <> void check_op<op::LAYER_NORM_BACKWARD>(Checker & c, const OperandsOf<op::LAYER_NORM_BACKWARD> & a) {
    using O = op::LAYER_NORM_BACKWARD;
    if (!c.positive(a, O::rows) || !c.positive(a, O::cols) || !c.flag(a, O::accumulate_dx)) return;
    const int64_t rows = a.i(O::rows), cols = a.i(O::cols), e = rows * cols;
    c.buf(a, O::dy, F32, BATCHED, e);
    c.buf(a, O::x, F32, BATCHED, e);
    c.buf(a, O::weight, F32, FIXED, cols, OPTIONAL);
    c.buf(a, O::mean, F32, BATCHED, rows);
    c.buf(a, O::rstd, F32, BATCHED, rows);
    c.buf(a, O::dx, F32, BATCHED, e, OPTIONAL);
    c.buf(a, O::dweight, F32, FIXED, cols, OPTIONAL);
    c.buf(a, O::dbias, F32, FIXED, cols, OPTIONAL);
}

template <> Status cpu_run<op::LAYER_NORM_BACKWARD>(const CpuArgs<op::LAYER_NORM_BACKWARD> & a) {
    using O = op::LAYER_NORM_BACKWARD;
    layer_norm_backward(a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::mean), a.f32(O::rstd), a.f32(O::dx), a.f32(O::dweight),
                        a.f32(O::dbias), (int64_t)a.n() * a.i(O::rows), a.i(O::cols), a.flag(O::accumulate_dx));
    return {};
}

} // namespace nl
