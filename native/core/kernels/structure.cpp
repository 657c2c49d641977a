// Structural ops: elementwise add, copy (identity / gradient fan-in), concat and its backward.
//
//   add_forward:   y = a + b                  (count values; y may alias a or b)
//                  backward is the identity into both inputs: copy_forward(dy, da/db, accumulate)
//   copy_forward:  dst = src, or dst += src with accumulate
//   concat_copy:   x [outer, x_inner] -> y [outer, y_inner] at columns [offset, offset + x_inner)
//                  (torch.cat along a dim: outer = product of the dims before it, *_inner = the
//                  concatenated dim times everything after it)
//   slice_copy:    the backward of concat_copy: dx [outer, x_inner] (+)= dy [outer, y_inner][:, offset:offset+x_inner]
#include "kernels.h"
#include <cstring>

namespace nl {

void add_forward(const float * a, const float * b, float * y, size_t count) {
    for (size_t i = 0; i < count; i++) y[i] = a[i] + b[i];
}

void copy_forward(const float * src, float * dst, size_t count, bool accumulate) {
    if (accumulate) {
        for (size_t i = 0; i < count; i++) dst[i] += src[i];
    } else if (src != dst && count) {
        std::memmove(dst, src, count * sizeof(float));
    }
}

void concat_copy(const float * x, float * y, int64_t outer, int64_t x_inner, int64_t y_inner, int64_t offset) {
    if (outer <= 0 || x_inner <= 0) return;
    for (int64_t o = 0; o < outer; o++)
        std::memcpy(y + (size_t)o * y_inner + offset, x + (size_t)o * x_inner, (size_t)x_inner * sizeof(float));
}

void slice_copy(const float * dy, float * dx, int64_t outer, int64_t x_inner, int64_t y_inner, int64_t offset, bool accumulate) {
    if (outer <= 0 || x_inner <= 0) return;
    for (int64_t o = 0; o < outer; o++) {
        const float * __restrict src = dy + (size_t)o * y_inner + offset;
        float * __restrict dst = dx + (size_t)o * x_inner;
        if (accumulate)
            for (int64_t j = 0; j < x_inner; j++) dst[j] += src[j];
        else
            std::memcpy(dst, src, (size_t)x_inner * sizeof(float));
    }
}

} // namespace nl
