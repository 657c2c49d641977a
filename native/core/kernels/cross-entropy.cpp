// Softmax + cross-entropy: nn.CrossEntropyLoss(weight, ignore_index, reduction, label_smoothing)
// on raw logits (PyTorch 1.13, class-index targets), plus the original mean-only pair
// softmax_cross_entropy_* kept as thin wrappers for existing callers.
//
//   forward:   logits [n,c], labels int32 [n], weight [c] or null (= all ones)
//              probs [n,c] = softmax(logits) per row, every row (kept for backward)
//              logp_ij     = log softmax(logits)_ij,   eps = label_smoothing,   K = the rows with y_i != ignore_index
//              total       = sum_{i in K} [ (1 - eps) * w[y_i] * (-logp_i,y_i) + (eps / c) * sum_j w[j] * (-logp_ij) ]
//              D           = sum_{i in K} w[y_i]            (mean)   |   1 (sum)
//              *loss       = total / D
//              *correct    = #rows in K with argmax_j logits_ij == y_i (first index on ties, NaN wins, as torch.argmax)
//   backward:  for i in K:  a = (1 - eps) * w[y_i],  b = eps / c,  W = sum_j w[j]
//                           dlogits_ij = (probs_ij * (a + b * W) - b * w[j] - a * [j == y_i]) / D
//              rows not in K: 0
//
// This is torch's cross_entropy_loss_label_smoothing (ATen LossNLL.cpp): (1 - eps) * nll_loss(log_softmax)
// + (eps / c) * smooth, where the smoothing sum is masked on ignored rows and, for mean reduction, divided by
// the same sum of target weights as nll_loss (the count of kept rows when unweighted). Verified against torch
// 1.13 for every combination of weight / ignore hit / eps / reduction. Edge cases follow torch too: mean with
// every row ignored gives 0/0 = NaN and an all-zero gradient; mean with kept rows whose weights sum to 0 gives
// NaN loss and NaN gradient rows (0 * inf), zeros on ignored rows.
//
// Stability: each row is shifted by its max before exp, so logits of 1e4 give no inf/NaN, and log
// probabilities are formed as (l - max) - log(sum), never as log of an underflowed prob. Sums are in
// double. All labels are checked before anything is written, so a BAD_LABEL return leaves
// probs/loss/correct untouched.
#include "kernels.h"
#include "optim-scalar.h"
#include <cmath>

namespace nl {

using optim_detail::hyper_double;

namespace {

inline bool kept(int32_t y, int ignore_index) { return y != ignore_index; }

// D of the header comment: sum of the target weights (or count) of kept rows; 1 for sum reduction.
double ce_denominator(const int32_t * labels, int64_t n, int64_t c, const CrossEntropyParams & p) {
    if (p.reduction != Reduction::MEAN) return 1.0;
    double d = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const int y = labels[i];
        if (!kept(y, p.ignore_index) || y < 0 || y >= c) continue;
        d += p.weight ? (double)p.weight[y] : 1.0;
    }
    return d;
}

// Shared backward with an upstream scale (the old wrapper takes dloss; the general API is dloss = 1).
void ce_backward_scaled(const float * probs, const int32_t * labels, float * dlogits, int64_t n, int64_t c,
                        const CrossEntropyParams & p, double dloss, bool accumulate) {
    if (n <= 0 || c <= 0) return;
    const double eps = hyper_double(p.label_smoothing);
    const double inv_d = dloss / ce_denominator(labels, n, c, p);   // inf when D == 0: NaN rows, as torch
    const double b = eps / c;
    double wsum = c;
    if (p.weight) {
        wsum = 0.0;
        for (int64_t j = 0; j < c; j++) wsum += p.weight[j];
    }
    for (int64_t i = 0; i < n; i++) {
        const float * __restrict pi = probs + (size_t)i * c;
        float * __restrict di = dlogits + (size_t)i * c;
        const int y = labels[i];
        // Ignored rows get no gradient. A label outside [0, c) was rejected by the forward; it is
        // treated like an ignored row here so it cannot write out of bounds.
        if (!kept(y, p.ignore_index) || y < 0 || y >= c) {
            if (!accumulate)
                for (int64_t j = 0; j < c; j++) di[j] = 0.f;
            continue;
        }
        const double a = (1.0 - eps) * (p.weight ? (double)p.weight[y] : 1.0);
        const double s = a + b * wsum;
        for (int64_t j = 0; j < c; j++) {
            double t = (double)pi[j] * s;
            if (b != 0.0) t -= b * (p.weight ? (double)p.weight[j] : 1.0);
            if (j == y) t -= a;
            const float v = (float)(t * inv_d);
            di[j] = accumulate ? di[j] + v : v;
        }
    }
}

} // namespace

nl_status cross_entropy_forward(const float * logits, const int32_t * labels, float * probs, int64_t n, int64_t c,
                                const CrossEntropyParams & p, float * loss, int64_t * correct) {
    if (n <= 0 || c <= 0 || !logits || !labels || !probs) return NL_STATUS_INVALID_ARGUMENT;
    for (int64_t i = 0; i < n; i++)
        if (kept(labels[i], p.ignore_index) && (labels[i] < 0 || labels[i] >= c)) return NL_STATUS_BAD_LABEL;

    const double eps = hyper_double(p.label_smoothing);
    const bool smooth = eps != 0.0;
    double total = 0.0, denom = 0.0;
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        const float * li = logits + (size_t)i * c;
        float * pi = probs + (size_t)i * c;
        // row max and argmax (strict > keeps the first of equal maxima; the first NaN wins, as torch.argmax)
        float mx = li[0];
        int64_t arg = 0;
        for (int64_t j = 1; j < c; j++)
            if (li[j] > mx || (li[j] != li[j] && mx == mx)) { mx = li[j]; arg = j; }
        // exp(l - max) into probs, summed in double
        double sum = 0.0;
        for (int64_t j = 0; j < c; j++) {
            float e = std::exp(li[j] - mx);
            pi[j] = e;
            sum += e;
        }
        const float inv = (float)(1.0 / sum);
        for (int64_t j = 0; j < c; j++) pi[j] *= inv;

        const int y = labels[i];
        if (!kept(y, p.ignore_index)) continue;
        const double lse = std::log(sum);
        const double wy = p.weight ? (double)p.weight[y] : 1.0;
        // -logp_y = log(sum) - (l_y - max)
        double row = (1.0 - eps) * wy * (lse - ((double)li[y] - (double)mx));
        if (smooth) {
            double sm = 0.0;   // sum_j w_j * (-logp_j)
            for (int64_t j = 0; j < c; j++) {
                const double nlp = lse - ((double)li[j] - (double)mx);
                sm += p.weight ? (double)p.weight[j] * nlp : nlp;
            }
            row += eps / c * sm;
        }
        total += row;
        denom += wy;
        hits += arg == y;
    }
    if (loss) *loss = (float)(p.reduction == Reduction::MEAN ? total / denom : total);   // 0/0 -> NaN, as torch
    if (correct) *correct = hits;
    return NL_STATUS_OK;
}

void cross_entropy_backward(const float * probs, const int32_t * labels, float * dlogits, int64_t n, int64_t c,
                            const CrossEntropyParams & p, bool accumulate) {
    ce_backward_scaled(probs, labels, dlogits, n, c, p, 1.0, accumulate);
}

// ---- the original mean-only pair: no weights, no smoothing, every label must be in [0, c) ------

nl_status softmax_cross_entropy_forward(const float * logits, const int32_t * labels, float * probs,
                                        int64_t n, int64_t c, float * loss, int64_t * correct) {
    if (n <= 0 || c <= 0 || !logits || !labels || !probs) return NL_STATUS_INVALID_ARGUMENT;
    // No ignore_index here: -100 is a bad label like any other.
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= c) return NL_STATUS_BAD_LABEL;
    CrossEntropyParams p;
    p.ignore_index = -1;   // cannot match a label that passed the check above
    return cross_entropy_forward(logits, labels, probs, n, c, p, loss, correct);
}

// dlogits [n,c] = dloss * (probs - onehot(labels)) / n   (overwritten)
void softmax_cross_entropy_backward(const float * probs, const int32_t * labels, float * dlogits,
                                    int64_t n, int64_t c, float dloss) {
    CrossEntropyParams p;
    p.ignore_index = -1;
    ce_backward_scaled(probs, labels, dlogits, n, c, p, dloss, false);
}

} // namespace nl
