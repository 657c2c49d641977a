// The im2col convolution engine shared by conv2d.cpp (which defines it) and conv-transpose2d.cpp
// (which drives it with the image and column sides swapped). Internal to the kernels.
#pragma once
#include <cstdint>
#include "threadpool.h"

namespace nl {
namespace conv_detail {

// Image side [C, H, W] of ONE group; column side [M, Ho, Wo]; kernel, stride, padding (top/left:
// the bottom/right padding only matters through Ho/Wo), dilation.
// 64-bit like every size in the kernels, so that index arithmetic (oh*sh - ph + ki*dh, ...) can
// never overflow, whatever the padding.
struct Geom {
    int64_t C, H, W;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    int64_t Ho, Wo;
};

// What one pass over the batch computes (null pointers: not wanted). Shapes, n samples:
//   img   [n, groups*C, H, W]     read by im2col (dout, dW, db_img)
//   d     [n, groups*M, Ho*Wo]    column-side input (dW, dimg, db_d)
//   Wm    [groups, M, C*kh*kw]
//   dout  [n, groups*M, Ho*Wo]    (+)= Wm . col(img) + bias_out          (dout_acc: add)
//   dimg  [n, groups*C, H, W]     (+)= col2im(Wm^T . d) + bias_img       (dimg_acc: add)
//   dW    [groups, M, C*kh*kw]    = sum over samples of d . col(img)^T   (overwritten)
//   db_d  [groups*M]              = sum of d over samples and pixels     (overwritten)
//   db_img[groups*C]              = sum of img over samples and pixels   (overwritten)
struct Job {
    Geom g;
    int64_t groups, M;
    const float * img = nullptr;
    const float * d = nullptr;
    const float * Wm = nullptr;
    float * dout = nullptr;
    bool dout_acc = false;
    const float * bias_out = nullptr;
    float * dimg = nullptr;
    bool dimg_acc = false;
    const float * bias_img = nullptr;
    float * dW = nullptr;
    float * db_d = nullptr;
    float * db_img = nullptr;
};

void run(ThreadPool * pool, const Job & job, int64_t n);

// The output rows [*a, *b) of the chunk [oh0, oh1) whose input row oh*sh - ph + ki*dh (kernel row
// ki) lies inside the image, i.e. the rows im2col copies; the chunk's other rows are zero padding.
// Always oh0 <= *a <= *b <= oh1, also for a chunk that lies wholly in the top or bottom padding.
void out_rows_in_image(const Geom & g, int64_t ki, int64_t oh0, int64_t oh1, int64_t * a, int64_t * b);

} // namespace conv_detail
} // namespace nl
