// ReLU, elementwise over `count` floats (any shape).
//
//   forward:   y = max(x, 0)             y may alias x (in-place). NaN propagates, as in torch.relu.
//   backward:  dx = dy * (y > 0)         y is the forward output; at y == 0 the gradient is 0,
//                                        like torch's threshold_backward (`y <= 0 ? 0 : dy`).
//              accumulate: dx += ... instead of dx = ...
#include "kernels.h"

namespace nl {

void relu_forward(const float * x, float * y, size_t count) {
    // No __restrict: y may alias x. Each element is read before it is written.
    for (size_t i = 0; i < count; i++) {
        float v = x[i];
        y[i] = v < 0.f ? 0.f : v;
    }
}

void relu_backward(const float * dy, const float * y, float * dx, size_t count, bool accumulate) {
    // dy is loaded unconditionally so the select vectorizes (a masked multiply would turn
    // inf * 0 into NaN where torch gives 0).
    if (accumulate) {
        for (size_t i = 0; i < count; i++) {
            float d = dy[i];
            dx[i] += y[i] <= 0.f ? 0.f : d;
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            float d = dy[i];
            dx[i] = y[i] <= 0.f ? 0.f : d;
        }
    }
}

} // namespace nl
