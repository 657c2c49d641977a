// nn.NLLLoss(weight, ignore_index, reduction) on log-probabilities (PyTorch 1.13, class-index targets).
//
//   forward:   logp [n,c], labels int32 [n], weight [c] or null (= all ones);  K = rows with y_i != ignore_index
//              total    = sum_{i in K} w[y_i] * (-logp_i,y_i)
//              D        = sum_{i in K} w[y_i]   (mean)   |   1 (sum)
//              *loss    = total / D             (mean with every row ignored: 0/0 = NaN, as torch)
//              *correct = #rows in K with argmax_j logp_ij == y_i (first index on ties, NaN wins)
//   backward:  dlogp_ij = -w[y_i] / D  at j == y_i for i in K, 0 elsewhere
//              (D == 0 with kept rows: -0 * inf = NaN at those entries, as torch)
//
// CrossEntropyParams::label_smoothing is not used: nn.NLLLoss has no such option.
// Labels outside [0, c) other than ignore_index: BAD_LABEL, nothing written.
#include "kernels.h"
#include <cmath>

namespace nl {

nl_status nll_loss_forward(const float * logp, const int32_t * labels, int64_t n, int64_t c, const CrossEntropyParams & p,
                           float * loss, int64_t * correct) {
    if (n <= 0 || c <= 0 || !logp || !labels) return NL_STATUS_INVALID_ARGUMENT;
    for (int64_t i = 0; i < n; i++)
        if (labels[i] != p.ignore_index && (labels[i] < 0 || labels[i] >= c)) return NL_STATUS_BAD_LABEL;

    double total = 0.0, denom = 0.0;
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        const int y = labels[i];
        if (y == p.ignore_index) continue;
        const float * li = logp + (size_t)i * c;
        const double wy = p.weight ? (double)p.weight[y] : 1.0;
        total -= wy * (double)li[y];
        denom += wy;
        float mx = li[0];
        int64_t arg = 0;
        for (int64_t j = 1; j < c; j++)
            if (li[j] > mx || (li[j] != li[j] && mx == mx)) { mx = li[j]; arg = j; }
        hits += arg == y;
    }
    if (loss) *loss = (float)(p.reduction == Reduction::MEAN ? total / denom : total);
    if (correct) *correct = hits;
    return NL_STATUS_OK;
}

void nll_loss_backward(const int32_t * labels, float * dlogp, int64_t n, int64_t c, const CrossEntropyParams & p, bool accumulate) {
    if (n <= 0 || c <= 0) return;
    double denom = 1.0;
    if (p.reduction == Reduction::MEAN) {
        denom = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const int y = labels[i];
            if (y != p.ignore_index && y >= 0 && y < c) denom += p.weight ? (double)p.weight[y] : 1.0;
        }
    }
    const double inv_d = 1.0 / denom;
    for (int64_t i = 0; i < n; i++) {
        float * di = dlogp + (size_t)i * c;
        if (!accumulate)
            for (int64_t j = 0; j < c; j++) di[j] = 0.f;
        const int y = labels[i];
        if (y == p.ignore_index || y < 0 || y >= c) continue;   // out of range was rejected by the forward
        const float v = (float)(-(p.weight ? (double)p.weight[y] : 1.0) * inv_d);
        di[y] += v;
    }
}

} // namespace nl
