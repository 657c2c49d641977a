// CPU kernels as forward/backward pairs (llm.c style). Shapes are in the comments; every
// tensor is a dense row-major float32 array unless said otherwise. `n` is the number of rows in
// the current batch (it may be smaller than the batch size the buffers were sized for: the
// last batch of an epoch without drop_last).
//
// Gradient outputs named d* are OVERWRITTEN unless the kernel takes an `accumulate` flag, in
// which case accumulate=true adds into them (a node feeding several nodes sums its gradients).
#pragma once
#include <cstddef>
#include <cstdint>
#include "status.h"
#include "threadpool.h"

namespace nl {

// ---- linear: y = x W^T + b  (PyTorch nn.Linear layout: W is [out, in]) ------------------------
// x [n, in], w [out, in], b [out] or null  ->  y [n, out]
void linear_forward(ThreadPool * pool, const float * x, const float * w, const float * b,
                    float * y, int n, int in, int out);
// dy [n, out]  ->  dx [n, in] (null: not needed; accumulate_dx adds into it),
//                  dw [out, in] = dy^T x,  db [out] = sum over rows of dy (null if no bias)
void linear_backward(ThreadPool * pool, const float * dy, const float * x, const float * w,
                     float * dx, float * dw, float * db, int n, int in, int out, bool accumulate_dx);

// ---- bias over the last dimension ------------------------------------------------------------
// y [n, c] += b [c]
void bias_forward(float * y, const float * b, int n, int c);
// db [c] = sum over n of dy [n, c]
void bias_backward(float * db, const float * dy, int n, int c);

// ---- relu ------------------------------------------------------------------------------------
// y = max(x, 0), count elements; y may alias x.
void relu_forward(const float * x, float * y, size_t count);
// dx = dy * (y > 0); `y` is the forward OUTPUT (equivalently the input: same sign test).
void relu_backward(const float * dy, const float * y, float * dx, size_t count, bool accumulate);

// ---- softmax + cross-entropy, mean reduction (nn.CrossEntropyLoss()) --------------------------
// logits [n, c], labels int32 [n]  ->  probs [n, c] (softmax, kept for backward),
//                                      *loss = mean over rows of -log softmax(logits)[label]
//                                      *correct = rows whose argmax equals the label (ties -> first index, as torch.argmax)
// Returns NL_STATUS_BAD_LABEL (writing nothing meaningful) if a label is outside [0, c).
nl_status softmax_cross_entropy_forward(const float * logits, const int32_t * labels, float * probs,
                                        int n, int c, float * loss, int * correct);
// dlogits [n, c] = dloss * (probs - onehot(labels)) / n
void softmax_cross_entropy_backward(const float * probs, const int32_t * labels, float * dlogits,
                                    int n, int c, float dloss);

// ---- optimizers: one fused pass over a parameter, exactly torch.optim's update ----------------
struct SgdParams {
    float lr = 1e-3f, momentum = 0.f, dampening = 0.f, weight_decay = 0.f;
    bool nesterov = false, maximize = false;
};
// p, g, buf: count elements. `step` counts from 1; at step 1 the momentum buffer is initialised to
// the (weight-decayed) gradient, as torch does. buf may be null when momentum == 0.
void sgd_step(float * p, const float * g, float * buf, size_t count, const SgdParams & hp, int64_t step);

struct AdamParams {
    float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.f;
    bool amsgrad = false, maximize = false;
    bool decoupled_weight_decay = false;   // true = AdamW (p *= 1 - lr*wd), false = Adam (g += wd*p)
};
// m, v: first and second moments; vmax: running max of v (only read/written when amsgrad).
// `step` counts from 1 (bias correction uses it).
void adam_step(float * p, const float * g, float * m, float * v, float * vmax, size_t count,
               const AdamParams & hp, int64_t step);

// ---- data ------------------------------------------------------------------------------------
// Gathers rows of a uint8 dataset into a float batch, scaled like torchvision's ToTensor:
// out[i, :] = images[index[i], :] / 255,   labels_out[i] = labels[index[i]]
void gather_batch_u8(const uint8_t * images, const uint8_t * labels, size_t sample_size,
                     const int32_t * index, int n, float * out, int32_t * labels_out);

} // namespace nl
