// Losses: CrossEntropyLoss (softmax + cross-entropy), NLLLoss, the point losses (kind:
// point-loss.def) and one_hot targets (kernels/cross-entropy.cpp, nll-loss.cpp, point-loss.cpp):
// checks and CPU calls. The forward instructions write the loss scalar (and the correct count).
#include "cpu-backend.h"
#include "kernels.h"
#include "op-check.h"

namespace nl {

namespace {
template <class O> CrossEntropyParams class_loss_params(const CpuArgs<O> & a, float label_smoothing) {
    CrossEntropyParams p;
    p.weight = a.f32(O::weight);
    p.ignore_index = a.i(O::ignore_index);
    p.reduction = (Reduction)a.i(O::reduction);
    p.label_smoothing = label_smoothing;
    return p;
}
Status label_error(nl_status s, int classes) {
    return Status::error(s, s == NL_STATUS_BAD_LABEL ? "a label is outside 0.." + std::to_string(classes - 1) : "invalid loss arguments");
}
} // namespace

template <> void check_op<op::SOFTMAX_CROSS_ENTROPY_FORWARD>(Checker & c, const OperandsOf<op::SOFTMAX_CROSS_ENTROPY_FORWARD> & a) {
    using O = op::SOFTMAX_CROSS_ENTROPY_FORWARD;
    if (!c.positive(a, O::classes) || !c.reduction(a.i(O::reduction)) || !c.finite(a, O::label_smoothing)) return;
    if (a.f(O::label_smoothing) < 0 || a.f(O::label_smoothing) > 1) {
        c.fail("label_smoothing must be between 0 and 1");
        return;
    }
    const int64_t classes = a.i(O::classes);
    c.buf(a, O::logits, F32, BATCHED, classes);
    c.buf(a, O::labels, I32, BATCHED, 1);
    c.buf(a, O::probs, F32, BATCHED, classes);
    c.buf(a, O::loss, F32, FIXED, 1);
    c.buf(a, O::correct, I32, FIXED, 1, OPTIONAL);
    c.buf(a, O::weight, F32, FIXED, classes, OPTIONAL);
}

template <> Status cpu_run<op::SOFTMAX_CROSS_ENTROPY_FORWARD>(const CpuArgs<op::SOFTMAX_CROSS_ENTROPY_FORWARD> & a) {
    using O = op::SOFTMAX_CROSS_ENTROPY_FORWARD;
    float loss = 0;
    int64_t correct = 0;
    nl_status s = cross_entropy_forward(a.f32(O::logits), a.i32(O::labels), a.f32(O::probs), a.n(), a.i(O::classes),
                                        class_loss_params(a, a.f(O::label_smoothing)), &loss, &correct);
    if (s != NL_STATUS_OK) return label_error(s, a.i(O::classes));
    *a.f32(O::loss) = loss;
    if (a.has(O::correct)) *a.i32(O::correct) = (int32_t)correct;   // <= n <= max_batch
    return {};
}

template <> void check_op<op::SOFTMAX_CROSS_ENTROPY_BACKWARD>(Checker & c, const OperandsOf<op::SOFTMAX_CROSS_ENTROPY_BACKWARD> & a) {
    using O = op::SOFTMAX_CROSS_ENTROPY_BACKWARD;
    if (!c.positive(a, O::classes) || !c.flag(a, O::accumulate) || !c.reduction(a.i(O::reduction)) || !c.finite(a, O::label_smoothing))
        return;
    const int64_t classes = a.i(O::classes);
    c.buf(a, O::probs, F32, BATCHED, classes);
    c.buf(a, O::labels, I32, BATCHED, 1);
    c.buf(a, O::dlogits, F32, BATCHED, classes);
    c.buf(a, O::weight, F32, FIXED, classes, OPTIONAL);
}

template <> Status cpu_run<op::SOFTMAX_CROSS_ENTROPY_BACKWARD>(const CpuArgs<op::SOFTMAX_CROSS_ENTROPY_BACKWARD> & a) {
    using O = op::SOFTMAX_CROSS_ENTROPY_BACKWARD;
    cross_entropy_backward(a.f32(O::probs), a.i32(O::labels), a.f32(O::dlogits), a.n(), a.i(O::classes),
                           class_loss_params(a, a.f(O::label_smoothing)), a.flag(O::accumulate));
    return {};
}

template <> void check_op<op::NLL_LOSS_FORWARD>(Checker & c, const OperandsOf<op::NLL_LOSS_FORWARD> & a) {
    using O = op::NLL_LOSS_FORWARD;
    if (!c.positive(a, O::classes) || !c.reduction(a.i(O::reduction))) return;
    const int64_t classes = a.i(O::classes);
    c.buf(a, O::log_probs, F32, BATCHED, classes);
    c.buf(a, O::labels, I32, BATCHED, 1);
    c.buf(a, O::loss, F32, FIXED, 1);
    c.buf(a, O::correct, I32, FIXED, 1, OPTIONAL);
    c.buf(a, O::weight, F32, FIXED, classes, OPTIONAL);
}

template <> Status cpu_run<op::NLL_LOSS_FORWARD>(const CpuArgs<op::NLL_LOSS_FORWARD> & a) {
    using O = op::NLL_LOSS_FORWARD;
    float loss = 0;
    int64_t correct = 0;
    nl_status s = nll_loss_forward(a.f32(O::log_probs), a.i32(O::labels), a.n(), a.i(O::classes), class_loss_params(a, 0.f), &loss, &correct);
    if (s != NL_STATUS_OK) return label_error(s, a.i(O::classes));
    *a.f32(O::loss) = loss;
    if (a.has(O::correct)) *a.i32(O::correct) = (int32_t)correct;
    return {};
}

template <> void check_op<op::NLL_LOSS_BACKWARD>(Checker & c, const OperandsOf<op::NLL_LOSS_BACKWARD> & a) {
    using O = op::NLL_LOSS_BACKWARD;
    if (!c.positive(a, O::classes) || !c.reduction(a.i(O::reduction)) || !c.flag(a, O::accumulate)) return;
    c.buf(a, O::labels, I32, BATCHED, 1);
    c.buf(a, O::dlog_probs, F32, BATCHED, a.i(O::classes));
    c.buf(a, O::weight, F32, FIXED, a.i(O::classes), OPTIONAL);
}

template <> Status cpu_run<op::NLL_LOSS_BACKWARD>(const CpuArgs<op::NLL_LOSS_BACKWARD> & a) {
    using O = op::NLL_LOSS_BACKWARD;
    nll_loss_backward(a.i32(O::labels), a.f32(O::dlog_probs), a.n(), a.i(O::classes), class_loss_params(a, 0.f), a.flag(O::accumulate));
    return {};
}

namespace {
template <class O> bool check_point_loss_attrs(Checker & c, const OperandsOf<O> & a) {
    if (a.i(O::kind) < 0 || a.i(O::kind) >= POINT_LOSS_COUNT) return c.fail(fmt_str("unknown point loss kind %d", a.i(O::kind)));
    return c.positive(a, O::features) && c.reduction(a.i(O::reduction)) && c.finite(a, O::beta);
}
} // namespace

template <> void check_op<op::POINT_LOSS_FORWARD>(Checker & c, const OperandsOf<op::POINT_LOSS_FORWARD> & a) {
    using O = op::POINT_LOSS_FORWARD;
    if (!check_point_loss_attrs(c, a)) return;
    c.buf(a, O::pred, F32, BATCHED, a.i(O::features));
    c.buf(a, O::target, F32, BATCHED, a.i(O::features));
    c.buf(a, O::loss, F32, FIXED, 1);
}

template <> Status cpu_run<op::POINT_LOSS_FORWARD>(const CpuArgs<op::POINT_LOSS_FORWARD> & a) {
    using O = op::POINT_LOSS_FORWARD;
    *a.f32(O::loss) = point_loss_forward((PointLoss)a.i(O::kind), a.f32(O::pred), a.f32(O::target), (int64_t)a.n() * a.i(O::features),
                                         (Reduction)a.i(O::reduction), a.f(O::beta));
    return {};
}

template <> void check_op<op::POINT_LOSS_BACKWARD>(Checker & c, const OperandsOf<op::POINT_LOSS_BACKWARD> & a) {
    using O = op::POINT_LOSS_BACKWARD;
    if (!check_point_loss_attrs(c, a)) return;
    if (!c.flag(a.i(O::accumulate_pred), "accumulate") || !c.flag(a.i(O::accumulate_target), "accumulate")) return;
    c.buf(a, O::pred, F32, BATCHED, a.i(O::features));
    c.buf(a, O::target, F32, BATCHED, a.i(O::features));
    c.buf(a, O::dpred, F32, BATCHED, a.i(O::features), OPTIONAL);
    c.buf(a, O::dtarget, F32, BATCHED, a.i(O::features), OPTIONAL);
}

template <> Status cpu_run<op::POINT_LOSS_BACKWARD>(const CpuArgs<op::POINT_LOSS_BACKWARD> & a) {
    using O = op::POINT_LOSS_BACKWARD;
    const PointLoss kind = (PointLoss)a.i(O::kind);
    const Reduction red = (Reduction)a.i(O::reduction);
    const size_t count = (int64_t)a.n() * a.i(O::features);
    // The two gradients may need different accumulate flags: run each on its own.
    if (a.has(O::dpred))
        point_loss_backward(kind, a.f32(O::pred), a.f32(O::target), a.f32(O::dpred), nullptr, count, red, a.f(O::beta), a.flag(O::accumulate_pred));
    if (a.has(O::dtarget))
        point_loss_backward(kind, a.f32(O::pred), a.f32(O::target), nullptr, a.f32(O::dtarget), count, red, a.f(O::beta),
                            a.flag(O::accumulate_target));
    return {};
}

template <> void check_op<op::ONE_HOT>(Checker & c, const OperandsOf<op::ONE_HOT> & a) {
    using O = op::ONE_HOT;
    if (!c.positive(a, O::classes)) return;
    c.buf(a, O::labels, I32, BATCHED, 1);
    c.buf(a, O::y, F32, BATCHED, a.i(O::classes));
}

template <> Status cpu_run<op::ONE_HOT>(const CpuArgs<op::ONE_HOT> & a) {
    using O = op::ONE_HOT;
    const int32_t * lab = a.i32(O::labels);
    const int32_t classes = a.i(O::classes);
    for (int r = 0; r < a.n(); r++)
        if (lab[r] < 0 || lab[r] >= classes) return label_error(NL_STATUS_BAD_LABEL, classes);
    one_hot(lab, a.f32(O::y), a.n(), classes);
    return {};
}

} // namespace nl
