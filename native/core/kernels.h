// CPU kernels as forward/backward pairs (llm.c style). Shapes are in the comments; every
// tensor is a dense row-major float32 array unless said otherwise. `n` is the number of rows in
// the current batch (it may be smaller than the batch size the buffers were sized for: the
// last batch of an epoch without drop_last).
//
// Sizes are 64-bit (int64_t / size_t), and so is every offset the kernels compute: a batch of
// activations may hold more than 2^31 values (issue 10: 64 x 6028^2). The geometry of one sample
// (ConvShape, PoolShape) stays int: each of its dimensions, and the product of those that make
// one sample's tensor, is bounded by the Program's 32-bit element counts, which program_decode()
// checks; products with the batch size are formed in 64 bits.
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
                    float * y, int64_t n, int64_t in, int64_t out);
// dy [n, out]  ->  dx [n, in] (null: not needed; accumulate_dx adds into it),
//                  dw [out, in] = dy^T x,  db [out] = sum over rows of dy (null if no bias)
void linear_backward(ThreadPool * pool, const float * dy, const float * x, const float * w,
                     float * dx, float * dw, float * db, int64_t n, int64_t in, int64_t out, bool accumulate_dx);

// ---- bias over the last dimension ------------------------------------------------------------
// y [n, c] += b [c]
void bias_forward(float * y, const float * b, int64_t n, int64_t c);
// db [c] = sum over n of dy [n, c]
void bias_backward(float * db, const float * dy, int64_t n, int64_t c);

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
                                        int64_t n, int64_t c, float * loss, int64_t * correct);
// dlogits [n, c] = dloss * (probs - onehot(labels)) / n
void softmax_cross_entropy_backward(const float * probs, const int32_t * labels, float * dlogits,
                                    int64_t n, int64_t c, float dloss);

// ---- optimizers: one fused pass over a parameter, exactly torch.optim's update ----------------
struct SgdParams {
    float lr = 1e-3f, momentum = 0.f, dampening = 0.f, weight_decay = 0.f;
    bool nesterov = false, maximize = false;
};
// p, g, buf: count elements. `step` counts from 1; at step 1 the momentum buffer is initialised to
// the (weight-decayed) gradient, as torch does. buf may be null when momentum == 0.
void sgd_step(float * p, const float * g, float * buf, size_t count, const SgdParams & hp, int64_t step);

// What an optimizer step would write that is not finite: the *_step_check functions compute every
// value the matching *_step writes, with the same arithmetic (one loop body), store nothing and
// return these bits OR-ed (0 = the step leaves everything finite). The runtime checks a step this
// way before applying it, so a step never leaves a parameter or its optimizer state non-finite.
enum StepNonFinite : unsigned {
    NF_WEIGHTS = 1u,       // a parameter would become NaN or infinite
    NF_WEIGHTS_NAN = 2u,   // ... and one of them NaN
    NF_STATE = 4u,         // an optimizer state value (momentum buffer, moments, sums) would
    NF_STATE_NAN = 8u,     // ... and one of them NaN
};
unsigned sgd_step_check(const float * p, const float * g, const float * buf, size_t count, const SgdParams & hp, int64_t step);

// The cheap side of that check. From max |g| (read by the gradient check anyway) and max |p|,
// max |state| as the runtime knows them, *_step_bounded proves with a conservative bound that every
// value the step will write is finite (true), or cannot (false: run the exact *_step_check).
// Derivations beside each function. The maxima after a step come at no cost to the step itself:
// from the bound (`after`: bounds on what the step writes, with room for rounding) when it
// succeeded, or measured by the exact check (StepStats: it computes every value the step stores).
struct StepStats {
    // Slot k's largest |value| as float bits (finite iff <= 0x7f7fffff). For the slots in `raw`
    // (a state whose bound needs it non-negative) the largest of the values' own bits instead, one
    // operation cheaper: <= 0x7f7fffff says every value was a finite non-negative and gives max |x|;
    // above says some value was negative (bit 31), and then nothing is known.
    uint32_t max_bits[4] = {0, 0, 0, 0};
    unsigned written = 0;   // bit k: slot k was written (a state the step does not use is not)
    unsigned raw = 0;       // bit k: max_bits[k] is over the raw bits (see above)
    void merge(const StepStats & o) {
        written |= o.written;
        raw |= o.raw;
        for (int k = 0; k < 4; k++) max_bits[k] = max_bits[k] > o.max_bits[k] ? max_bits[k] : o.max_bits[k];
    }
};
// What a bound reads: max |value| of the gradient, the parameter and each state buffer (state[k]
// is slot k + 1 above; < 0 or NaN: unknown), and whether each state is known to hold no negative
// value. As a bound's `after`: the same for what the step leaves (grad unused; a slot the step does
// not write keeps its input).
struct StepBounds {
    double grad = -1, param = -1;
    double state[3] = {-1, -1, -1};
    bool state_nonneg[3] = {false, false, false};
};
// Optional stats of what sgd_step stored (slot 1: buf).
// With the maxima of what the step would store (slot 1: buf).
unsigned sgd_step_check(const float * p, const float * g, const float * buf, size_t count, const SgdParams & hp, int64_t step,
                        StepStats * stats);
bool sgd_step_bounded(const SgdParams & hp, bool has_buf, int64_t step, const StepBounds & b, StepBounds * after = nullptr);

struct AdamParams {
    float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.f;
    bool amsgrad = false, maximize = false;
    bool decoupled_weight_decay = false;   // true = AdamW (p *= 1 - lr*wd), false = Adam (g += wd*p)
};
// m, v: first and second moments; vmax: running max of v (only read/written when amsgrad).
// `step` counts from 1 (bias correction uses it).
void adam_step(float * p, const float * g, float * m, float * v, float * vmax, size_t count,
               const AdamParams & hp, int64_t step);
unsigned adam_step_check(const float * p, const float * g, const float * m, const float * v, const float * vmax, size_t count,
                         const AdamParams & hp, int64_t step);
// Stats slots 1, 2, 3: m, v, vmax.
unsigned adam_step_check(const float * p, const float * g, const float * m, const float * v, const float * vmax, size_t count,
                         const AdamParams & hp, int64_t step, StepStats * stats);
bool adam_step_bounded(const AdamParams & hp, bool has_vmax, int64_t step, const StepBounds & b, StepBounds * after = nullptr);

// =================================================================================================
//  The PyTorch layer set (convolution, pooling, normalization, activations, structure, losses,
//  more optimizers). Images are NCHW, row-major. `n` is the batch rows, as above.
// =================================================================================================

// ---- convolution -----------------------------------------------------------------------------
// One shape description serves Conv2d, Conv1d (h = kh = 1) and ConvTranspose2d.
// Padding may be asymmetric (padding="same" with an even kernel pads one more at the end, as torch).
struct ConvShape {
    int cin, h, w;          // input channels and spatial size
    int cout, kh, kw;       // output channels, kernel size
    int sh, sw;             // stride
    int ph0, ph1, pw0, pw1; // padding: top, bottom, left, right (ConvTranspose2d: ph0 == ph1, pw0 == pw1)
    int dh, dw;             // dilation
    int groups;
    int ho, wo;             // output size (ConvTranspose2d: includes output_padding)
};
// Conv2d: x [n, cin, h, w], w [cout, cin/groups, kh, kw], b [cout] or null -> y [n, cout, ho, wo]
void conv2d_forward(ThreadPool * pool, const ConvShape & s, const float * x, const float * w, const float * b,
                    float * y, int64_t n);
// dy [n, cout, ho, wo] -> dx [n, cin, h, w] (null: not needed; accumulate_dx adds into it),
//                          dw [cout, cin/groups, kh, kw] (overwritten), db [cout] or null (overwritten)
void conv2d_backward(ThreadPool * pool, const ConvShape & s, const float * dy, const float * x, const float * w,
                     float * dx, float * dw, float * db, int64_t n, bool accumulate_dx);
// ConvTranspose2d: x [n, cin, h, w], w [cin, cout/groups, kh, kw], b [cout] -> y [n, cout, ho, wo]
// (the gradient of a Conv2d with in/out swapped).
void conv_transpose2d_forward(ThreadPool * pool, const ConvShape & s, const float * x, const float * w,
                              const float * b, float * y, int64_t n);
void conv_transpose2d_backward(ThreadPool * pool, const ConvShape & s, const float * dy, const float * x,
                               const float * w, float * dx, float * dw, float * db, int64_t n, bool accumulate_dx);

// ---- pooling ---------------------------------------------------------------------------------
struct PoolShape {
    int c, h, w;            // channels and input size
    int kh, kw, sh, sw;     // kernel, stride
    int ph, pw;             // symmetric padding (implicit -inf for max, zeros for avg)
    int dh, dw;             // dilation (max pool only; 1 for avg)
    int ho, wo;             // output size (ceil_mode already applied by the caller)
    bool count_include_pad; // avg only
    int divisor_override;   // avg only; 0 = none
};
// x [n, c, h, w] -> y [n, c, ho, wo], indices int32 [n, c, ho, wo] = flat h*w index of each max
// (NaN wins, first max on ties, as torch)
void max_pool2d_forward(ThreadPool * pool, const PoolShape & s, const float * x, float * y, int32_t * indices, int64_t n);
void max_pool2d_backward(ThreadPool * pool, const PoolShape & s, const float * dy, const int32_t * indices, float * dx,
                         int64_t n, bool accumulate);
void avg_pool2d_forward(ThreadPool * pool, const PoolShape & s, const float * x, float * y, int64_t n);
void avg_pool2d_backward(ThreadPool * pool, const PoolShape & s, const float * dy, float * dx, int64_t n, bool accumulate);
// AdaptiveAvgPool2d: window i spans [floor(i*h/ho), ceil((i+1)*h/ho)) as torch.
void adaptive_avg_pool2d_forward(const float * x, float * y, int64_t n, int64_t c, int64_t h, int64_t w, int64_t ho, int64_t wo);
void adaptive_avg_pool2d_backward(const float * dy, float * dx, int64_t n, int64_t c, int64_t h, int64_t w, int64_t ho, int64_t wo, bool accumulate);

// ---- normalization ---------------------------------------------------------------------------
// BatchNorm1d/2d: x viewed as [n, c, inner] (inner = 1 for [N,C], L for [N,C,L], H*W for [N,C,H,W]).
// Training: normalise with the batch statistics (biased variance), save mean and 1/sqrt(var+eps)
// for backward, and update running stats with the UNBIASED variance:
//   running = (1 - m) * running + m * stat, where m = momentum, or 1/num_batches_tracked when
//   momentum < 0 (torch's momentum=None: cumulative average). *num_batches_tracked is incremented
//   first. running_* and num_batches_tracked may be null (track_running_stats=False).
// gamma/beta null = affine=False.
void batch_norm_forward_train(const float * x, const float * gamma, const float * beta, float * y,
                              float * save_mean, float * save_invstd, float * running_mean, float * running_var,
                              int32_t * num_batches_tracked, int64_t n, int64_t c, int64_t inner, float eps, float momentum);
// Evaluation: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
void batch_norm_forward_eval(const float * x, const float * gamma, const float * beta, const float * running_mean,
                             const float * running_var, float * y, int64_t n, int64_t c, int64_t inner, float eps);
// Backward of the training forward. dgamma/dbeta null when not affine (else overwritten).
void batch_norm_backward(const float * dy, const float * x, const float * gamma, const float * save_mean,
                         const float * save_invstd, float * dx, float * dgamma, float * dbeta, int64_t n, int64_t c, int64_t inner,
                         bool accumulate_dx);
// LayerNorm over the last `cols` values of each of `rows` rows: x [rows, cols], gamma/beta [cols] or null.
// mean/rstd [rows] saved for backward. Biased variance, as torch.
void layer_norm_forward(const float * x, const float * gamma, const float * beta, float * y, float * mean, float * rstd,
                        int64_t rows, int64_t cols, float eps);
void layer_norm_backward(const float * dy, const float * x, const float * gamma, const float * mean, const float * rstd,
                         float * dx, float * dgamma, float * dbeta, int64_t rows, int64_t cols, bool accumulate_dx);

// ---- dropout ---------------------------------------------------------------------------------
// Training only (the runtime skips it in eval). mask[i] = keep ? 1/(1-p) : 0, y = x * mask.
// keep is drawn from a counter-based hash of (seed, step, i): reproducible, independent of threads.
void dropout_forward(const float * x, float * y, float * mask, size_t count, float p, uint64_t seed, uint64_t step);
void dropout_backward(const float * dy, const float * mask, float * dx, size_t count, bool accumulate);

// ---- activations -----------------------------------------------------------------------------
// Kinds and codes: activation.def (each row's comment says how alpha is used).
enum class Activation : int32_t {
#define NL_ACTIVATION(e, engine_name) e,
#include "activation.def"
#undef NL_ACTIVATION
};
constexpr int ACTIVATION_COUNT = 0
#define NL_ACTIVATION(e, engine_name) + 1
#include "activation.def"
#undef NL_ACTIVATION
    ;
void activation_forward(Activation kind, float alpha, const float * x, float * y, size_t count);
// x is the forward input, y its output (each kind uses whichever gives torch's exact formula).
void activation_backward(Activation kind, float alpha, const float * dy, const float * x, const float * y, float * dx,
                         size_t count, bool accumulate);
// Softmax / LogSoftmax along one dimension of x viewed as [outer, dim, inner].
void softmax_forward(const float * x, float * y, int64_t outer, int64_t dim, int64_t inner, bool log);
void softmax_backward(const float * dy, const float * y, float * dx, int64_t outer, int64_t dim, int64_t inner, bool log, bool accumulate);

// ---- structure -------------------------------------------------------------------------------
void add_forward(const float * a, const float * b, float * y, size_t count);              // y = a + b
void copy_forward(const float * src, float * dst, size_t count, bool accumulate);          // dst (+)= src
// Concat along a dimension: x viewed as [outer, x_inner] is written into y [outer, y_inner] at
// column `offset`. slice_copy is its backward: dx [outer, x_inner] (+)= dy[:, offset:offset+x_inner].
void concat_copy(const float * x, float * y, int64_t outer, int64_t x_inner, int64_t y_inner, int64_t offset);
void slice_copy(const float * dy, float * dx, int64_t outer, int64_t x_inner, int64_t y_inner, int64_t offset, bool accumulate);

// ---- losses ----------------------------------------------------------------------------------
// codes: reduction.def
enum class Reduction : int32_t {
#define NL_REDUCTION(e, engine_name) e,
#include "reduction.def"
#undef NL_REDUCTION
};
constexpr int REDUCTION_COUNT = 0
#define NL_REDUCTION(e, engine_name) + 1
#include "reduction.def"
#undef NL_REDUCTION
    ;
// nn.CrossEntropyLoss in full: class weights [c] or null, ignore_index, label_smoothing, reduction.
// Mean reduction divides by the sum of the target weights of non-ignored rows (torch's rule);
// with label smoothing the smoothing term follows torch 1.13 exactly. probs [n, c] kept for backward.
// correct counts non-ignored rows whose argmax equals the label. BAD_LABEL for a label outside
// [0, c) that is not ignore_index.
struct CrossEntropyParams {
    const float * weight = nullptr;
    int ignore_index = -100;
    float label_smoothing = 0.f;
    Reduction reduction = Reduction::MEAN;
};
nl_status cross_entropy_forward(const float * logits, const int32_t * labels, float * probs, int64_t n, int64_t c,
                                const CrossEntropyParams & p, float * loss, int64_t * correct);
void cross_entropy_backward(const float * probs, const int32_t * labels, float * dlogits, int64_t n, int64_t c,
                            const CrossEntropyParams & p, bool accumulate);
// nn.NLLLoss on log-probabilities logp [n, c]: loss = -logp[label] (weighted), same rules.
nl_status nll_loss_forward(const float * logp, const int32_t * labels, int64_t n, int64_t c, const CrossEntropyParams & p,
                           float * loss, int64_t * correct);
void nll_loss_backward(const int32_t * labels, float * dlogp, int64_t n, int64_t c, const CrossEntropyParams & p, bool accumulate);
// Elementwise losses between pred and target (count values): MSELoss, L1Loss, SmoothL1Loss(beta),
// BCEWithLogitsLoss (pred = logits, stable log-sum-exp form). Mean divides by count.
// codes: point-loss.def
enum class PointLoss : int32_t {
#define NL_POINT_LOSS(e, engine_name) e,
#include "point-loss.def"
#undef NL_POINT_LOSS
};
constexpr int POINT_LOSS_COUNT = 0
#define NL_POINT_LOSS(e, engine_name) + 1
#include "point-loss.def"
#undef NL_POINT_LOSS
    ;
float point_loss_forward(PointLoss kind, const float * pred, const float * target, size_t count, Reduction r, float beta);
// dpred / dtarget may be null (not needed).
void point_loss_backward(PointLoss kind, const float * pred, const float * target, float * dpred, float * dtarget,
                         size_t count, Reduction r, float beta, bool accumulate);
// y [n, c] = one_hot(labels, c) as float (targets for point losses fed from class labels)
void one_hot(const int32_t * labels, float * y, int64_t n, int64_t c);

// ---- more optimizers -------------------------------------------------------------------------
struct RmspropParams {
    float lr = 1e-2f, alpha = 0.99f, eps = 1e-8f, weight_decay = 0.f, momentum = 0.f;
    bool centered = false, maximize = false;
};
// square_avg always; momentum_buffer when momentum > 0; grad_avg when centered (others may be null).
void rmsprop_step(float * p, const float * g, float * square_avg, float * momentum_buffer, float * grad_avg, size_t count,
                  const RmspropParams & hp, int64_t step);
unsigned rmsprop_step_check(const float * p, const float * g, const float * square_avg, const float * momentum_buffer,
                            const float * grad_avg, size_t count, const RmspropParams & hp, int64_t step);
// Stats slots 1, 2, 3: square_avg, momentum_buffer, grad_avg.
unsigned rmsprop_step_check(const float * p, const float * g, const float * square_avg, const float * momentum_buffer,
                            const float * grad_avg, size_t count, const RmspropParams & hp, int64_t step, StepStats * stats);
bool rmsprop_step_bounded(const RmspropParams & hp, bool has_momentum_buffer, bool has_grad_avg, int64_t step, const StepBounds & b,
                          StepBounds * after = nullptr);
struct AdagradParams {
    float lr = 1e-2f, lr_decay = 0.f, weight_decay = 0.f, eps = 1e-10f;
    bool maximize = false;
};
// state_sum starts at initial_accumulator_value (set by the engine when the state is created).
void adagrad_step(float * p, const float * g, float * state_sum, size_t count, const AdagradParams & hp, int64_t step);
unsigned adagrad_step_check(const float * p, const float * g, const float * state_sum, size_t count, const AdagradParams & hp,
                            int64_t step);
// Stats slot 1: state_sum.
unsigned adagrad_step_check(const float * p, const float * g, const float * state_sum, size_t count, const AdagradParams & hp,
                            int64_t step, StepStats * stats);
bool adagrad_step_bounded(const AdagradParams & hp, int64_t step, const StepBounds & b, StepBounds * after = nullptr);
// Sum of squares of g (accumulated in double), for clip_grad_norm_.
double sum_squares(const float * g, size_t count);
// g *= s
void scale_inplace(float * g, size_t count, float s);
// true when no x[i] is NaN or +-inf (the runtime's check of the gradients before a step)
bool all_finite(const float * x, size_t count);
// The largest |x[i]| as float bits (positive floats order as their bits): finite iff <= 0x7f7fffff
// (FLT_MAX); inf is 0x7f800000, a NaN more. 0 for count 0.
uint32_t max_abs_bits(const float * x, size_t count);

// ---- predictions -----------------------------------------------------------------------------
// out[r] = argmax_c x[r, c] for x [n, c]: the first maximum on ties, as torch.argmax; a row
// holding NaN predicts the first NaN's class (torch treats NaN as the maximum).
void argmax_rows(const float * x, int32_t * out, int64_t n, int64_t c);

// ---- data ------------------------------------------------------------------------------------
// Gathers rows of a uint8 dataset into a float batch, scaled like torchvision's ToTensor:
// out[i, :] = images[index[i], :] / 255,   labels_out[i] = labels[index[i]]
void gather_batch_u8(const uint8_t * images, const uint8_t * labels, size_t sample_size,
                     const int32_t * index, int64_t n, float * out, int32_t * labels_out);
// Gathers rows of a float dataset (CSV features, regression targets) as they are:
// out[i, :] = rows[index[i], :] (width values),   labels_out[i] = labels[index[i]] (both optional)
void gather_batch_f32(const float * rows, const uint8_t * labels, size_t width,
                      const int32_t * index, int64_t n, float * out, int32_t * labels_out);

} // namespace nl
