// Optimizer steps (SGD, Adam/AdamW, RMSprop, Adagrad) and gradient clipping (kernels/sgd.cpp,
// adam.cpp, rmsprop.cpp, adagrad.cpp, grad-clip.cpp): checks and CPU calls. A step's state
// buffers match its parameter's size; the update runs split over the pool for big tensors.
// Each optimizer also has its cpu_check_step (CpuBackend::check_step): the bound (*_step_bounded)
// from the maxima the backend keeps, when allowed and when it proves the step finite; otherwise the
// same kernel loop, run without storing, reporting whether the step would leave a value non-finite.
// A passed check hands the step what it will leave (the bound's `after`, or the maxima the exact
// check measured); the step makes that the next check's input (CpuBackend::step_stored). The step
// loops themselves compute nothing extra.
#include <algorithm>
#include <initializer_list>
#include <mutex>
#include <cmath>
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

namespace {
// Every float hyper-parameter finite (torch would train on into NaN weights otherwise).
template <class O> bool check_hyper(Checker & c, const OperandsOf<O> & a) {
    for (size_t k = 0; k < a.in.floats.size(); k++) c.finite(a.in.floats[k], "a hyper-parameter");
    return c.ok();
}
// The step's learning rate / momentum: the scheduler's override for this step when it sets one.
float lr_or(const StepState & s, float programmed) { return s.lr >= 0.f ? s.lr : programmed; }
float momentum_or(const StepState & s, float programmed) { return s.momentum >= 0.f ? s.momentum : programmed; }
// The exact check split over the pool: the StepNonFinite bits OR-ed and the StepStats of what the
// step would store merged, over every chunk.
template <class O, class F> unsigned check_chunks(const CpuArgs<O> & a, size_t count, StepStats & all, F && chunk) {
    unsigned bits = 0;
    std::mutex mu;
    a.be.for_chunks(count, [&](size_t at, size_t len) {
        StepStats st;
        const unsigned b = chunk(at, len, &st);
        std::lock_guard<std::mutex> lock(mu);
        bits |= b;
        all.merge(st);
    });
    return bits;
}
// cpu_check_step: the bound when allowed and it proves the step finite (the step will then leave
// its `after`), else the exact check (the step will leave what it measured).
template <class O, class Bounded, class Exact> unsigned bound_or_check(const CpuArgs<O> & a, bool use_bounds, const int32_t * ids, int n,
                                                                       Bounded && bounded, Exact && exact) {
    StepBounds after;
    if (use_bounds && bounded(after)) {
        a.be.expect_bounds(ids, n, after);
        return 0;
    }
    a.be.count_exact_check();
    StepStats st;
    const unsigned bits = exact(st);
    if (bits == 0) a.be.expect_measured(ids, n, st);
    return bits;
}
// The bound's inputs for an instruction: the gradient's and parameter's maxima, and state k from
// operand states[k] (-1: none).
template <class O> StepBounds bounds_of(const CpuArgs<O> & a, std::initializer_list<int32_t> states) {
    StepBounds b;
    b.grad = a.be.gradient_max(a.id(O::grad));
    b.param = a.be.stored_max(a.id(O::param));
    int k = 0;
    for (int32_t id : states) {
        b.state[k] = a.be.stored_max(id);
        b.state_nonneg[k] = a.be.stored_nonneg(id);
        k++;
    }
    return b;
}
} // namespace

template <> void check_op<op::SGD_STEP>(Checker & c, const OperandsOf<op::SGD_STEP> & a) {
    using O = op::SGD_STEP;
    if (!c.flag(a, O::nesterov) || !c.flag(a, O::maximize) || !check_hyper(c, a)) return;
    const int64_t n = c.elems_of(a.id(O::param));
    c.buf(a, O::param, F32, FIXED, n);
    c.buf(a, O::grad, F32, FIXED, n);
    c.buf(a, O::momentum_buffer, F32, FIXED, n, a.f(O::momentum) == 0.f ? OPTIONAL : REQUIRED);
    if (c.ok() && a.flag(O::nesterov) && (a.f(O::momentum) <= 0.f || a.f(O::dampening) != 0.f))
        c.invalid("Nesterov momentum requires a momentum and zero dampening");
}

namespace {
SgdParams sgd_params(const CpuArgs<op::SGD_STEP> & a) {
    using O = op::SGD_STEP;
    SgdParams hp;
    hp.lr = lr_or(a.s, a.f(O::lr));
    hp.momentum = momentum_or(a.s, a.f(O::momentum));
    hp.dampening = a.f(O::dampening);
    hp.weight_decay = a.f(O::weight_decay);
    hp.nesterov = a.flag(O::nesterov);
    hp.maximize = a.flag(O::maximize);
    return hp;
}
} // namespace

template <> Status cpu_run<op::SGD_STEP>(const CpuArgs<op::SGD_STEP> & a) {
    using O = op::SGD_STEP;
    const SgdParams hp = sgd_params(a);
    float * p = a.f32(O::param);
    const float * g = a.f32(O::grad);
    float * buf = a.f32(O::momentum_buffer);
    const int64_t step = a.s.step;
    a.be.for_chunks((size_t)a.elems(O::param), [&](size_t at, size_t len) { sgd_step(p + at, g + at, buf ? buf + at : nullptr, len, hp, step); });
    const int32_t ids[] = {a.id(O::param), a.id(O::momentum_buffer)};
    a.be.step_stored(ids, 2);
    return {};
}

template <> unsigned cpu_check_step<op::SGD_STEP>(const CpuArgs<op::SGD_STEP> & a, bool use_bounds) {
    using O = op::SGD_STEP;
    const SgdParams hp = sgd_params(a);
    const float *p = a.f32(O::param), *g = a.f32(O::grad), *buf = a.f32(O::momentum_buffer);
    const int64_t step = a.s.step;
    const int32_t ids[] = {a.id(O::param), a.id(O::momentum_buffer)};
    return bound_or_check(
        a, use_bounds, ids, 2,
        [&](StepBounds & after) { return sgd_step_bounded(hp, buf != nullptr, step, bounds_of(a, {ids[1]}), &after); },
        [&](StepStats & st) {
            return check_chunks(a, (size_t)a.elems(O::param), st, [&](size_t at, size_t len, StepStats * out) {
                return sgd_step_check(p + at, g + at, buf ? buf + at : nullptr, len, hp, step, out);
            });
        });
}

template <> void check_op<op::ADAM_STEP>(Checker & c, const OperandsOf<op::ADAM_STEP> & a) {
    using O = op::ADAM_STEP;
    if (!c.flag(a, O::amsgrad) || !c.flag(a, O::maximize) || !c.flag(a, O::decoupled) || !check_hyper(c, a)) return;
    const int64_t n = c.elems_of(a.id(O::param));
    for (O::Buf k : {O::param, O::grad, O::exp_avg, O::exp_avg_sq}) c.buf(a, k, F32, FIXED, n);
    c.buf(a, O::max_exp_avg_sq, F32, FIXED, n, a.flag(O::amsgrad) ? REQUIRED : OPTIONAL);
}

namespace {
AdamParams adam_params(const CpuArgs<op::ADAM_STEP> & a) {
    using O = op::ADAM_STEP;
    AdamParams hp;
    hp.lr = lr_or(a.s, a.f(O::lr));
    hp.beta1 = momentum_or(a.s, a.f(O::beta1));
    hp.beta2 = a.f(O::beta2);
    hp.eps = a.f(O::eps);
    hp.weight_decay = a.f(O::weight_decay);
    hp.amsgrad = a.flag(O::amsgrad);
    hp.maximize = a.flag(O::maximize);
    hp.decoupled_weight_decay = a.flag(O::decoupled);
    return hp;
}
} // namespace

template <> Status cpu_run<op::ADAM_STEP>(const CpuArgs<op::ADAM_STEP> & a) {
    using O = op::ADAM_STEP;
    const AdamParams hp = adam_params(a);
    float *p = a.f32(O::param), *m = a.f32(O::exp_avg), *v = a.f32(O::exp_avg_sq), *vmax = a.f32(O::max_exp_avg_sq);
    const float * g = a.f32(O::grad);
    const int64_t step = a.s.step;
    a.be.for_chunks((size_t)a.elems(O::param), [&](size_t at, size_t len) {
        adam_step(p + at, g + at, m + at, v + at, vmax ? vmax + at : nullptr, len, hp, step);
    });
    const int32_t ids[] = {a.id(O::param), a.id(O::exp_avg), a.id(O::exp_avg_sq), a.id(O::max_exp_avg_sq)};
    a.be.step_stored(ids, 4);
    return {};
}

template <> unsigned cpu_check_step<op::ADAM_STEP>(const CpuArgs<op::ADAM_STEP> & a, bool use_bounds) {
    using O = op::ADAM_STEP;
    const AdamParams hp = adam_params(a);
    const float *p = a.f32(O::param), *m = a.f32(O::exp_avg), *v = a.f32(O::exp_avg_sq), *vmax = a.f32(O::max_exp_avg_sq);
    const float * g = a.f32(O::grad);
    const int64_t step = a.s.step;
    const int32_t ids[] = {a.id(O::param), a.id(O::exp_avg), a.id(O::exp_avg_sq), a.id(O::max_exp_avg_sq)};
    return bound_or_check(
        a, use_bounds, ids, 4,
        [&](StepBounds & after) { return adam_step_bounded(hp, vmax != nullptr, step, bounds_of(a, {ids[1], ids[2], ids[3]}), &after); },
        [&](StepStats & st) {
            return check_chunks(a, (size_t)a.elems(O::param), st, [&](size_t at, size_t len, StepStats * out) {
                return adam_step_check(p + at, g + at, m + at, v + at, vmax ? vmax + at : nullptr, len, hp, step, out);
            });
        });
}

template <> void check_op<op::RMSPROP_STEP>(Checker & c, const OperandsOf<op::RMSPROP_STEP> & a) {
    using O = op::RMSPROP_STEP;
    if (!c.flag(a, O::centered) || !c.flag(a, O::maximize) || !check_hyper(c, a)) return;
    const int64_t n = c.elems_of(a.id(O::param));
    for (O::Buf k : {O::param, O::grad, O::square_avg}) c.buf(a, k, F32, FIXED, n);
    c.buf(a, O::momentum_buffer, F32, FIXED, n, a.f(O::momentum) <= 0.f ? OPTIONAL : REQUIRED);
    c.buf(a, O::grad_avg, F32, FIXED, n, a.flag(O::centered) ? REQUIRED : OPTIONAL);
}

namespace {
RmspropParams rmsprop_params(const CpuArgs<op::RMSPROP_STEP> & a) {
    using O = op::RMSPROP_STEP;
    RmspropParams hp;
    hp.lr = lr_or(a.s, a.f(O::lr));
    hp.alpha = a.f(O::alpha);
    hp.eps = a.f(O::eps);
    hp.weight_decay = a.f(O::weight_decay);
    hp.momentum = momentum_or(a.s, a.f(O::momentum));
    hp.centered = a.flag(O::centered);
    hp.maximize = a.flag(O::maximize);
    return hp;
}
} // namespace

template <> Status cpu_run<op::RMSPROP_STEP>(const CpuArgs<op::RMSPROP_STEP> & a) {
    using O = op::RMSPROP_STEP;
    const RmspropParams hp = rmsprop_params(a);
    float *p = a.f32(O::param), *sq = a.f32(O::square_avg), *mom = a.f32(O::momentum_buffer), *avg = a.f32(O::grad_avg);
    const float * g = a.f32(O::grad);
    const int64_t step = a.s.step;
    a.be.for_chunks((size_t)a.elems(O::param), [&](size_t at, size_t len) {
        rmsprop_step(p + at, g + at, sq + at, mom ? mom + at : nullptr, avg ? avg + at : nullptr, len, hp, step);
    });
    const int32_t ids[] = {a.id(O::param), a.id(O::square_avg), a.id(O::momentum_buffer), a.id(O::grad_avg)};
    a.be.step_stored(ids, 4);
    return {};
}

template <> unsigned cpu_check_step<op::RMSPROP_STEP>(const CpuArgs<op::RMSPROP_STEP> & a, bool use_bounds) {
    using O = op::RMSPROP_STEP;
    const RmspropParams hp = rmsprop_params(a);
    const float *p = a.f32(O::param), *sq = a.f32(O::square_avg), *mom = a.f32(O::momentum_buffer), *avg = a.f32(O::grad_avg);
    const float * g = a.f32(O::grad);
    const int64_t step = a.s.step;
    const int32_t ids[] = {a.id(O::param), a.id(O::square_avg), a.id(O::momentum_buffer), a.id(O::grad_avg)};
    return bound_or_check(
        a, use_bounds, ids, 4,
        [&](StepBounds & after) {
            return rmsprop_step_bounded(hp, mom != nullptr, avg != nullptr, step, bounds_of(a, {ids[1], ids[2], ids[3]}), &after);
        },
        [&](StepStats & st) {
            return check_chunks(a, (size_t)a.elems(O::param), st, [&](size_t at, size_t len, StepStats * out) {
                return rmsprop_step_check(p + at, g + at, sq + at, mom ? mom + at : nullptr, avg ? avg + at : nullptr, len, hp, step, out);
            });
        });
}

template <> void check_op<op::ADAGRAD_STEP>(Checker & c, const OperandsOf<op::ADAGRAD_STEP> & a) {
    using O = op::ADAGRAD_STEP;
    if (!c.flag(a, O::maximize) || !check_hyper(c, a)) return;
    const int64_t n = c.elems_of(a.id(O::param));
    for (O::Buf k : {O::param, O::grad, O::sum}) c.buf(a, k, F32, FIXED, n);
}

namespace {
AdagradParams adagrad_params(const CpuArgs<op::ADAGRAD_STEP> & a) {
    using O = op::ADAGRAD_STEP;
    AdagradParams hp;
    hp.lr = lr_or(a.s, a.f(O::lr));
    hp.lr_decay = a.f(O::lr_decay);
    hp.weight_decay = a.f(O::weight_decay);
    hp.eps = a.f(O::eps);
    hp.maximize = a.flag(O::maximize);
    return hp;
}
} // namespace

template <> Status cpu_run<op::ADAGRAD_STEP>(const CpuArgs<op::ADAGRAD_STEP> & a) {
    using O = op::ADAGRAD_STEP;
    const AdagradParams hp = adagrad_params(a);
    float *p = a.f32(O::param), *sum = a.f32(O::sum);
    const float * g = a.f32(O::grad);
    const int64_t step = a.s.step;
    a.be.for_chunks((size_t)a.elems(O::param), [&](size_t at, size_t len) { adagrad_step(p + at, g + at, sum + at, len, hp, step); });
    const int32_t ids[] = {a.id(O::param), a.id(O::sum)};
    a.be.step_stored(ids, 2);
    return {};
}

template <> unsigned cpu_check_step<op::ADAGRAD_STEP>(const CpuArgs<op::ADAGRAD_STEP> & a, bool use_bounds) {
    using O = op::ADAGRAD_STEP;
    const AdagradParams hp = adagrad_params(a);
    const float *p = a.f32(O::param), *sum = a.f32(O::sum);
    const float * g = a.f32(O::grad);
    const int64_t step = a.s.step;
    const int32_t ids[] = {a.id(O::param), a.id(O::sum)};
    return bound_or_check(
        a, use_bounds, ids, 2, [&](StepBounds & after) { return adagrad_step_bounded(hp, step, bounds_of(a, {ids[1]}), &after); },
        [&](StepStats & st) {
            return check_chunks(a, (size_t)a.elems(O::param), st, [&](size_t at, size_t len, StepStats * out) {
                return adagrad_step_check(p + at, g + at, sum + at, len, hp, step, out);
            });
        });
}

template <> void check_op<op::GRAD_NORM_SQ>(Checker & c, const OperandsOf<op::GRAD_NORM_SQ> & a) {
    using O = op::GRAD_NORM_SQ;
    if (!c.flag(a, O::first)) return;
    c.buf(a, O::grad, F32, FIXED, c.elems_of(a.id(O::grad)));
    c.buf(a, O::norm_sq, F32, FIXED, 1);
}

template <> Status cpu_run<op::GRAD_NORM_SQ>(const CpuArgs<op::GRAD_NORM_SQ> & a) {
    using O = op::GRAD_NORM_SQ;
    float * acc = a.f32(O::norm_sq);
    const double s = sum_squares(a.f32(O::grad), (size_t)a.elems(O::grad));
    *acc = (float)((a.flag(O::first) ? 0.0 : (double)*acc) + s);
    return {};
}

template <> void check_op<op::CLIP_GRAD>(Checker & c, const OperandsOf<op::CLIP_GRAD> & a) {
    using O = op::CLIP_GRAD;
    if (!c.finite(a, O::max_norm)) return;
    c.buf(a, O::grad, F32, FIXED, c.elems_of(a.id(O::grad)));
    c.buf(a, O::norm_sq, F32, FIXED, 1);
}

template <> Status cpu_run<op::CLIP_GRAD>(const CpuArgs<op::CLIP_GRAD> & a) {
    using O = op::CLIP_GRAD;
    // torch.nn.utils.clip_grad_norm_: coef = max_norm / (total_norm + 1e-6), clamped to 1.
    const double total = std::sqrt((double)*a.f32(O::norm_sq));
    const float coef = (float)std::min(1.0, (double)a.f(O::max_norm) / (total + 1e-6));
    scale_inplace(a.f32(O::grad), (size_t)a.elems(O::grad), coef);
    return {};
}

} // namespace nl
