// Batch gathers: rows of an in-memory dataset, in the epoch's order, into the program's batch buffers.
//
// uint8 datasets (MNIST-style IDX files, image folders), scaled like torchvision ToTensor:
//   images [N, sample_size] uint8, labels [N] uint8, index [n] int32 (rows to take, in order)
//   out [n, sample_size] float = images[index[i], :] / 255      (true division, as x.div(255))
//   labels_out [n] int32 = labels[index[i]]
//
// float datasets (CSV features, regression targets), copied as they are (no scaling: the engine
// standardises tabular features itself, before the data reaches the session):
//   rows [N, width] float, index [n] int32
//   out [n, width] float = rows[index[i], :]
//   labels_out [n] int32 = labels[index[i]]
//
// The caller (the runtime) guarantees 0 <= index[i] < N; these kernels cannot see N.
// labels / labels_out may be null (unlabelled data, or a regression target gathered on its own).
#include <cstring>
#include "kernels.h"

namespace nl {

void gather_batch_u8(const uint8_t * __restrict images, const uint8_t * __restrict labels, size_t sample_size,
                     const int32_t * __restrict index, int64_t n, float * __restrict out,
                     int32_t * __restrict labels_out) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t * __restrict src = images + (size_t)index[i] * sample_size;
        float * __restrict dst = out + (size_t)i * sample_size;
        for (size_t k = 0; k < sample_size; k++) dst[k] = (float)src[k] / 255.f;
    }
    if (labels && labels_out)
        for (int64_t i = 0; i < n; i++) labels_out[i] = (int32_t)labels[index[i]];
}

void gather_batch_f32(const float * __restrict rows, const uint8_t * __restrict labels, size_t width,
                      const int32_t * __restrict index, int64_t n, float * __restrict out,
                      int32_t * __restrict labels_out) {
    for (int64_t i = 0; i < n; i++) std::memcpy(out + (size_t)i * width, rows + (size_t)index[i] * width, width * sizeof(float));
    if (labels && labels_out)
        for (int64_t i = 0; i < n; i++) labels_out[i] = (int32_t)labels[index[i]];
}

} // namespace nl
