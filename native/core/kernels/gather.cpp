// Batch gather for uint8 datasets (MNIST-style IDX files), scaled like torchvision ToTensor.
//
//   images [N, sample_size] uint8, labels [N] uint8, index [n] int32 (rows to take, in order)
//   out [n, sample_size] float = images[index[i], :] / 255      (true division, as x.div(255))
//   labels_out [n] int32 = labels[index[i]]
//
// The caller (the loader) guarantees 0 <= index[i] < N; this kernel cannot see N.
// labels / labels_out may be null (unlabelled data).
#include "kernels.h"

namespace nl {

void gather_batch_u8(const uint8_t * __restrict images, const uint8_t * __restrict labels, size_t sample_size,
                     const int32_t * __restrict index, int n, float * __restrict out,
                     int32_t * __restrict labels_out) {
    for (int i = 0; i < n; i++) {
        const uint8_t * __restrict src = images + (size_t)index[i] * sample_size;
        float * __restrict dst = out + (size_t)i * sample_size;
        for (size_t k = 0; k < sample_size; k++) dst[k] = (float)src[k] / 255.f;
    }
    if (labels && labels_out)
        for (int i = 0; i < n; i++) labels_out[i] = (int32_t)labels[index[i]];
}

} // namespace nl
