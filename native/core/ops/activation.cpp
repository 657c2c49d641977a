// ReLU, the other elementwise activations (kind: activation.def) and Softmax/LogSoftmax
// (kernels/relu.cpp, activation.cpp, softmax.cpp): checks and CPU calls.
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

template <> void check_op<op::RELU_FORWARD>(Checker & c, const OperandsOf<op::RELU_FORWARD> & a) {
    using O = op::RELU_FORWARD;
    if (!c.positive(a, O::features)) return;
    c.buf(a, O::x, F32, BATCHED, a.i(O::features));
    c.buf(a, O::y, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::RELU_FORWARD>(const CpuArgs<op::RELU_FORWARD> & a) {
    using O = op::RELU_FORWARD;
    relu_forward(a.f32(O::x), a.f32(O::y), (int64_t)a.n() * a.i(O::features));
    return {};
}

template <> void check_op<op::RELU_BACKWARD>(Checker & c, const OperandsOf<op::RELU_BACKWARD> & a) {
    using O = op::RELU_BACKWARD;
    if (!c.positive(a, O::features) || !c.flag(a, O::accumulate)) return;
    for (O::Buf k : {O::dy, O::y, O::dx}) c.buf(a, k, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::RELU_BACKWARD>(const CpuArgs<op::RELU_BACKWARD> & a) {
    using O = op::RELU_BACKWARD;
    relu_backward(a.f32(O::dy), a.f32(O::y), a.f32(O::dx), (int64_t)a.n() * a.i(O::features), a.flag(O::accumulate));
    return {};
}

namespace {
template <class O> bool check_activation_attrs(Checker & c, const OperandsOf<O> & a) {
    if (a.i(O::kind) < 0 || a.i(O::kind) >= ACTIVATION_COUNT) return c.fail(fmt_str("unknown activation kind %d", a.i(O::kind)));
    return c.positive(a, O::features) && c.finite(a, O::alpha);
}
} // namespace

template <> void check_op<op::ACTIVATION_FORWARD>(Checker & c, const OperandsOf<op::ACTIVATION_FORWARD> & a) {
    using O = op::ACTIVATION_FORWARD;
    if (!check_activation_attrs(c, a)) return;
    for (O::Buf k : {O::x, O::y}) c.buf(a, k, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::ACTIVATION_FORWARD>(const CpuArgs<op::ACTIVATION_FORWARD> & a) {
    using O = op::ACTIVATION_FORWARD;
    activation_forward((Activation)a.i(O::kind), a.f(O::alpha), a.f32(O::x), a.f32(O::y), (int64_t)a.n() * a.i(O::features));
    return {};
}

template <> void check_op<op::ACTIVATION_BACKWARD>(Checker & c, const OperandsOf<op::ACTIVATION_BACKWARD> & a) {
    using O = op::ACTIVATION_BACKWARD;
    if (!check_activation_attrs(c, a) || !c.flag(a, O::accumulate)) return;
    for (O::Buf k : {O::dy, O::x, O::y, O::dx}) c.buf(a, k, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::ACTIVATION_BACKWARD>(const CpuArgs<op::ACTIVATION_BACKWARD> & a) {
    using O = op::ACTIVATION_BACKWARD;
    activation_backward((Activation)a.i(O::kind), a.f(O::alpha), a.f32(O::dy), a.f32(O::x), a.f32(O::y), a.f32(O::dx),
                        (int64_t)a.n() * a.i(O::features), a.flag(O::accumulate));
    return {};
}

namespace {
// x viewed as [outer, dim, inner] per sample: the values of one sample
template <class O> int64_t softmax_elems(const OperandsOf<O> & a) { return (int64_t)a.i(O::outer) * a.i(O::dim) * a.i(O::inner); }
template <class O> bool check_softmax_attrs(Checker & c, const OperandsOf<O> & a) {
    return c.positive(a, O::outer) && c.positive(a, O::dim) && c.positive(a, O::inner) && c.flag(a, O::log);
}
} // namespace

template <> void check_op<op::SOFTMAX_FORWARD>(Checker & c, const OperandsOf<op::SOFTMAX_FORWARD> & a) {
    using O = op::SOFTMAX_FORWARD;
    if (!check_softmax_attrs(c, a)) return;
    for (O::Buf k : {O::x, O::y}) c.buf(a, k, F32, BATCHED, softmax_elems(a));
}

template <> Status cpu_run<op::SOFTMAX_FORWARD>(const CpuArgs<op::SOFTMAX_FORWARD> & a) {
    using O = op::SOFTMAX_FORWARD;
    softmax_forward(a.f32(O::x), a.f32(O::y), (int64_t)a.n() * a.i(O::outer), a.i(O::dim), a.i(O::inner), a.flag(O::log));
    return {};
}

template <> void check_op<op::SOFTMAX_BACKWARD>(Checker & c, const OperandsOf<op::SOFTMAX_BACKWARD> & a) {
    using O = op::SOFTMAX_BACKWARD;
    if (!check_softmax_attrs(c, a) || !c.flag(a, O::accumulate)) return;
    for (O::Buf k : {O::dy, O::y, O::dx}) c.buf(a, k, F32, BATCHED, softmax_elems(a));
}

template <> Status cpu_run<op::SOFTMAX_BACKWARD>(const CpuArgs<op::SOFTMAX_BACKWARD> & a) {
    using O = op::SOFTMAX_BACKWARD;
    softmax_backward(a.f32(O::dy), a.f32(O::y), a.f32(O::dx), (int64_t)a.n() * a.i(O::outer), a.i(O::dim), a.i(O::inner), a.flag(O::log),
                     a.flag(O::accumulate));
    return {};
}

} // namespace nl
