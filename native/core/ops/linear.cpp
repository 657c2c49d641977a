// nn.Linear: y = x W^T + b and its backward (kernels/linear.cpp), checked and run on the CPU.
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

template <> void check_op<op::LINEAR_FORWARD>(Checker & c, const OperandsOf<op::LINEAR_FORWARD> & a) {
    using O = op::LINEAR_FORWARD;
    if (!c.positive(a, O::in_features) || !c.positive(a, O::out_features)) return;
    const int64_t nin = a.i(O::in_features), nout = a.i(O::out_features);
    c.buf(a, O::x, F32, BATCHED, nin);
    c.buf(a, O::weight, F32, FIXED, nin * nout);
    c.buf(a, O::bias, F32, FIXED, nout, OPTIONAL);
    c.buf(a, O::y, F32, BATCHED, nout);
}

template <> Status cpu_run<op::LINEAR_FORWARD>(const CpuArgs<op::LINEAR_FORWARD> & a) {
    using O = op::LINEAR_FORWARD;
    linear_forward(a.pool(), a.f32(O::x), a.f32(O::weight), a.f32(O::bias), a.f32(O::y), a.n(), a.i(O::in_features), a.i(O::out_features));
    return {};
}

template <> void check_op<op::LINEAR_BACKWARD>(Checker & c, const OperandsOf<op::LINEAR_BACKWARD> & a) {
    using O = op::LINEAR_BACKWARD;
    if (!c.positive(a, O::in_features) || !c.positive(a, O::out_features) || !c.flag(a, O::accumulate_dx)) return;
    const int64_t nin = a.i(O::in_features), nout = a.i(O::out_features);
    c.buf(a, O::dy, F32, BATCHED, nout);
    c.buf(a, O::x, F32, BATCHED, nin);
    c.buf(a, O::weight, F32, FIXED, nin * nout);
    c.buf(a, O::dx, F32, BATCHED, nin, OPTIONAL);
    c.buf(a, O::dweight, F32, FIXED, nin * nout);
    c.buf(a, O::dbias, F32, FIXED, nout, OPTIONAL);
}

template <> Status cpu_run<op::LINEAR_BACKWARD>(const CpuArgs<op::LINEAR_BACKWARD> & a) {
    using O = op::LINEAR_BACKWARD;
    linear_backward(a.pool(), a.f32(O::dy), a.f32(O::x), a.f32(O::weight), a.f32(O::dx), a.f32(O::dweight), a.f32(O::dbias), a.n(),
                    a.i(O::in_features), a.i(O::out_features), a.flag(O::accumulate_dx));
    return {};
}

} // namespace nl
