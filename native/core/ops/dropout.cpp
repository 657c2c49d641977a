// Dropout (kernels/dropout.cpp): checks and CPU calls. Off in eval mode and at p = 0 (a copy).
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

template <> void check_op<op::DROPOUT_FORWARD>(Checker & c, const OperandsOf<op::DROPOUT_FORWARD> & a) {
    using O = op::DROPOUT_FORWARD;
    if (!c.positive(a, O::features) || !c.finite(a, O::p)) return;
    if (a.f(O::p) < 0 || a.f(O::p) > 1) {
        c.fail("dropout probability must be between 0 and 1");
        return;
    }
    for (O::Buf k : {O::x, O::y, O::mask}) c.buf(a, k, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::DROPOUT_FORWARD>(const CpuArgs<op::DROPOUT_FORWARD> & a) {
    using O = op::DROPOUT_FORWARD;
    const size_t count = (int64_t)a.n() * a.i(O::features);
    if (!a.s.training || a.f(O::p) == 0.f) {
        copy_forward(a.f32(O::x), a.f32(O::y), count, false);
        return {};
    }
    // One stream per (run seed, dropout node): the node's salt keeps two Dropouts apart.
    const uint64_t seed = a.s.seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(a.i(O::salt) + 1));
    dropout_forward(a.f32(O::x), a.f32(O::y), a.f32(O::mask), count, a.f(O::p), seed, (uint64_t)a.s.step);
    return {};
}

template <> void check_op<op::DROPOUT_BACKWARD>(Checker & c, const OperandsOf<op::DROPOUT_BACKWARD> & a) {
    using O = op::DROPOUT_BACKWARD;
    if (!c.positive(a, O::features) || !c.flag(a, O::accumulate)) return;
    for (O::Buf k : {O::dy, O::mask, O::dx}) c.buf(a, k, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::DROPOUT_BACKWARD>(const CpuArgs<op::DROPOUT_BACKWARD> & a) {
    using O = op::DROPOUT_BACKWARD;
    dropout_backward(a.f32(O::dy), a.f32(O::mask), a.f32(O::dx), (int64_t)a.n() * a.i(O::features), a.flag(O::accumulate));
    return {};
}

} // namespace nl
