// Graph structure: Add, the gradient copy, Concat (kernels/structure.cpp): checks and CPU calls.
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

template <> void check_op<op::ADD_FORWARD>(Checker & c, const OperandsOf<op::ADD_FORWARD> & a) {
    using O = op::ADD_FORWARD;
    if (!c.positive(a, O::features)) return;
    for (O::Buf k : {O::a, O::b, O::y}) c.buf(a, k, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::ADD_FORWARD>(const CpuArgs<op::ADD_FORWARD> & a) {
    using O = op::ADD_FORWARD;
    add_forward(a.f32(O::a), a.f32(O::b), a.f32(O::y), (int64_t)a.n() * a.i(O::features));
    return {};
}

template <> void check_op<op::COPY>(Checker & c, const OperandsOf<op::COPY> & a) {
    using O = op::COPY;
    if (!c.positive(a, O::features) || !c.flag(a, O::accumulate)) return;
    c.buf(a, O::src, F32, BATCHED, a.i(O::features));
    c.buf(a, O::dst, F32, BATCHED, a.i(O::features));
}

template <> Status cpu_run<op::COPY>(const CpuArgs<op::COPY> & a) {
    using O = op::COPY;
    copy_forward(a.f32(O::src), a.f32(O::dst), (int64_t)a.n() * a.i(O::features), a.flag(O::accumulate));
    return {};
}

namespace {
// [outer, x_inner] is a slice of [outer, y_inner] at column `offset`
template <class O> bool check_slice(Checker & c, const OperandsOf<O> & a) {
    if (!c.positive(a, O::outer) || !c.positive(a, O::x_inner) || !c.positive(a, O::y_inner)) return false;
    if (a.i(O::offset) < 0 || (int64_t)a.i(O::offset) + a.i(O::x_inner) > a.i(O::y_inner))
        return c.fail("the slice lies outside the concatenated tensor");
    return true;
}
} // namespace

template <> void check_op<op::CONCAT_FORWARD>(Checker & c, const OperandsOf<op::CONCAT_FORWARD> & a) {
    using O = op::CONCAT_FORWARD;
    if (!check_slice(c, a)) return;
    c.buf(a, O::x, F32, BATCHED, (int64_t)a.i(O::outer) * a.i(O::x_inner));
    c.buf(a, O::y, F32, BATCHED, (int64_t)a.i(O::outer) * a.i(O::y_inner));
}

template <> Status cpu_run<op::CONCAT_FORWARD>(const CpuArgs<op::CONCAT_FORWARD> & a) {
    using O = op::CONCAT_FORWARD;
    concat_copy(a.f32(O::x), a.f32(O::y), (int64_t)a.n() * a.i(O::outer), a.i(O::x_inner), a.i(O::y_inner), a.i(O::offset));
    return {};
}

template <> void check_op<op::CONCAT_BACKWARD>(Checker & c, const OperandsOf<op::CONCAT_BACKWARD> & a) {
    using O = op::CONCAT_BACKWARD;
    if (!c.positive(a, O::outer) || !c.positive(a, O::x_inner) || !c.positive(a, O::y_inner) || !c.flag(a, O::accumulate)) return;
    if (!check_slice(c, a)) return;
    c.buf(a, O::dy, F32, BATCHED, (int64_t)a.i(O::outer) * a.i(O::y_inner));
    c.buf(a, O::dx, F32, BATCHED, (int64_t)a.i(O::outer) * a.i(O::x_inner));
}

template <> Status cpu_run<op::CONCAT_BACKWARD>(const CpuArgs<op::CONCAT_BACKWARD> & a) {
    using O = op::CONCAT_BACKWARD;
    slice_copy(a.f32(O::dy), a.f32(O::dx), (int64_t)a.n() * a.i(O::outer), a.i(O::x_inner), a.i(O::y_inner), a.i(O::offset),
               a.flag(O::accumulate));
    return {};
}

} // namespace nl
