// Softmax + cross-entropy with mean reduction: nn.CrossEntropyLoss() on raw logits.
//
//   forward:   logits [n,c], labels int32 [n]
//              probs [n,c]  = softmax(logits) per row             (kept for backward)
//              *loss        = mean_i ( log sum_j exp(l_ij) - l_i,label )
//              *correct     = #rows with argmax_j l_ij == label   (ties -> first index, as torch.argmax)
//   backward:  dlogits [n,c] = dloss * (probs - onehot(labels)) / n     (overwritten)
//
// Stability: each row is shifted by its max before exp, so logits of 1e4 give no inf/NaN, and the
// per-row loss is computed as log(sum) - (l_label - max), never as -log(prob) of an underflowed
// prob. The loss is accumulated in double. All labels are checked before anything is written,
// so a BAD_LABEL return leaves probs/loss/correct untouched.
#include "kernels.h"
#include <cmath>

namespace nl {

nl_status softmax_cross_entropy_forward(const float * logits, const int32_t * labels, float * probs,
                                        int n, int c, float * loss, int * correct) {
    if (n <= 0 || c <= 0 || !logits || !labels || !probs) return NL_STATUS_INVALID_ARGUMENT;
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= c) return NL_STATUS_BAD_LABEL;

    double total = 0.0;
    int hits = 0;
    for (int i = 0; i < n; i++) {
        const float * li = logits + (size_t)i * c;
        float * pi = probs + (size_t)i * c;
        // row max and argmax (strict > keeps the first of equal maxima)
        float mx = li[0];
        int arg = 0;
        for (int j = 1; j < c; j++)
            if (li[j] > mx) { mx = li[j]; arg = j; }
        // exp(l - max) into probs, summed in double
        double sum = 0.0;
        for (int j = 0; j < c; j++) {
            float e = std::exp(li[j] - mx);
            pi[j] = e;
            sum += e;
        }
        const float inv = (float)(1.0 / sum);
        for (int j = 0; j < c; j++) pi[j] *= inv;
        // -log softmax(l)[label] = log(sum) - (l_label - max)
        const int y = labels[i];
        total += std::log(sum) - ((double)li[y] - (double)mx);
        hits += arg == y;
    }
    if (loss) *loss = (float)(total / n);
    if (correct) *correct = hits;
    return NL_STATUS_OK;
}

void softmax_cross_entropy_backward(const float * probs, const int32_t * labels, float * dlogits,
                                    int n, int c, float dloss) {
    if (n <= 0 || c <= 0) return;
    const float scale = dloss / (float)n;
    for (int i = 0; i < n; i++) {
        const float * __restrict pi = probs + (size_t)i * c;
        float * __restrict di = dlogits + (size_t)i * c;
        for (int j = 0; j < c; j++) di[j] = pi[j] * scale;
        // Labels were validated by the forward; re-checked here so a bad one cannot write out of bounds.
        const int y = labels[i];
        if (y >= 0 && y < c) di[y] = (pi[y] - 1.f) * scale;
    }
}

} // namespace nl
