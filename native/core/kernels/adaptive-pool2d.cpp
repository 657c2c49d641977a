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

static inline int nl_adaptive_start(int i, int out, int in) { return (int)((long)i * in / out); }
static inline int nl_adaptive_end(int i, int out, int in) { return (int)(((long)(i + 1) * in + out - 1) / out); }

void adaptive_avg_pool2d_forward(const float * x, float * y, int n, int c, int h, int w, int ho, int wo) {
    if (n <= 0 || c <= 0 || ho <= 0 || wo <= 0 || h < 0 || w < 0) return;
    const long HW = (long)h * w, OP = (long)ho * wo;
    for (long p = 0; p < (long)n * c; p++) {
        const float * in = x + p * HW;
        float * out = y + p * OP;
        for (int oh = 0; oh < ho; oh++) {
            const int ih0 = nl_adaptive_start(oh, ho, h), ih1 = nl_adaptive_end(oh, ho, h);
            const int kh = ih1 - ih0;
            for (int ow = 0; ow < wo; ow++) {
                const int iw0 = nl_adaptive_start(ow, wo, w), iw1 = nl_adaptive_end(ow, wo, w);
                const int kw = iw1 - iw0;
                float sum = 0.f;
                for (int ih = ih0; ih < ih1; ih++)
                    for (int iw = iw0; iw < iw1; iw++) sum += in[(long)ih * w + iw];
                // an empty window (h == 0) gives 0/0 = NaN, as torch
                out[oh * wo + ow] = sum / kh / kw;
            }
        }
    }
}

void adaptive_avg_pool2d_backward(const float * dy, float * dx, int n, int c, int h, int w, int ho, int wo,
                                  bool accumulate) {
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0) return;
    const long HW = (long)h * w, OP = (long)ho * wo;
    for (long p = 0; p < (long)n * c; p++) {
        float * g = dx + p * HW;
        const float * d = dy + p * OP;
        if (!accumulate) std::memset(g, 0, sizeof(float) * HW);
        for (int oh = 0; oh < ho; oh++) {
            const int ih0 = nl_adaptive_start(oh, ho, h), ih1 = nl_adaptive_end(oh, ho, h);
            const int kh = ih1 - ih0;
            for (int ow = 0; ow < wo; ow++) {
                const int iw0 = nl_adaptive_start(ow, wo, w), iw1 = nl_adaptive_end(ow, wo, w);
                const int kw = iw1 - iw0;
                const float delta = d[oh * wo + ow] / kh / kw;
                for (int ih = ih0; ih < ih1; ih++)
                    for (int iw = iw0; iw < iw1; iw++) g[(long)ih * w + iw] += delta;
            }
        }
    }
}

} // namespace nl
