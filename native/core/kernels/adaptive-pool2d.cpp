// AdaptiveAvgPool2d (nn.AdaptiveAvgPool2d), NCHW, as PyTorch 1.13's CPU kernel
// (aten/src/ATen/native/cpu/AdaptiveAvgPoolKernel.cpp).
//
//   x [n, c, h, w] -> y [n, c, ho, wo]
//   output row oh averages input rows [floor(oh*h/ho), ceil((oh+1)*h/ho)), columns likewise;
//   y = sum / kh / kw (two divisions, as torch).
//   backward: dx [n, c, h, w] (+)= dy / kh / kw spread over each window (windows may overlap).
#include "kernels.h"
#include <cstring>

namespace nl {

static inline int64_t nl_adaptive_start(int64_t i, int64_t out, int64_t in) { return i * in / out; }
static inline int64_t nl_adaptive_end(int64_t i, int64_t out, int64_t in) { return ((i + 1) * in + out - 1) / out; }

void adaptive_avg_pool2d_forward(const float * x, float * y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t ho, int64_t wo) {
    if (n <= 0 || c <= 0 || ho <= 0 || wo <= 0 || h < 0 || w < 0) return;
    const int64_t HW = h * w, OP = ho * wo;
    for (int64_t p = 0; p < n * c; p++) {
        const float * in = x + p * HW;
        float * out = y + p * OP;
        for (int64_t oh = 0; oh < ho; oh++) {
            const int64_t ih0 = nl_adaptive_start(oh, ho, h), ih1 = nl_adaptive_end(oh, ho, h);
            const int64_t kh = ih1 - ih0;
            for (int64_t ow = 0; ow < wo; ow++) {
                const int64_t iw0 = nl_adaptive_start(ow, wo, w), iw1 = nl_adaptive_end(ow, wo, w);
                const int64_t kw = iw1 - iw0;
                float sum = 0.f;
                for (int64_t ih = ih0; ih < ih1; ih++)
                    for (int64_t iw = iw0; iw < iw1; iw++) sum += in[ih * w + iw];
                // an empty window (h == 0) gives 0/0 = NaN, as torch
                out[oh * wo + ow] = sum / kh / kw;
            }
        }
    }
}

void adaptive_avg_pool2d_backward(const float * dy, float * dx, int64_t n, int64_t c, int64_t h, int64_t w, int64_t ho, int64_t wo,
                                  bool accumulate) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return;
    const int64_t HW = h * w, OP = ho * wo;
    for (int64_t p = 0; p < n * c; p++) {
        float * g = dx + p * HW;
        const float * d = dy + p * OP;
        if (!accumulate) std::memset(g, 0, sizeof(float) * HW);
        for (int64_t oh = 0; oh < ho; oh++) {
            const int64_t ih0 = nl_adaptive_start(oh, ho, h), ih1 = nl_adaptive_end(oh, ho, h);
            const int64_t kh = ih1 - ih0;
            for (int64_t ow = 0; ow < wo; ow++) {
                const int64_t iw0 = nl_adaptive_start(ow, wo, w), iw1 = nl_adaptive_end(ow, wo, w);
                const int64_t kw = iw1 - iw0;
                const float delta = d[oh * wo + ow] / kh / kw;
                for (int64_t ih = ih0; ih < ih1; ih++)
                    for (int64_t iw = iw0; iw < iw1; iw++) g[ih * w + iw] += delta;
            }
        }
    }
}

} // namespace nl
