// ConvTranspose2d (nn.ConvTranspose2d): the data-gradient of a Conv2d whose input is y and whose
// output is x. It runs on the im2col engine of conv2d.cpp with the two sides swapped:
// the "image side" is y [cout, ho, wo] (one group: cout/groups channels), the "column side" is
// x [cin, h, w], and the weight [cin, cout/groups, kh, kw] is, per group g, a [cin/g, (cout/g)*kh*kw]
// matrix W_g, exactly the layout the engine expects.
//
// Per sample i and group g (Kc = (cout/groups)*kh*kw, P = h*w):
//   forward:   ycol [Kc, P]  = W_g^T . x_i,g [cin/g, P]   ->  y_i,g = col2im(ycol) + b [cout]
//   backward:  col [Kc, P]   = im2col(dy_i,g)               (one im2col serves both products)
//              dx_i,g  (+)= W_g . col                      [cin/g, P]
//              dW_g     += x_i,g . col^T                   [cin/g, Kc], summed over the batch
//              db [cout] = sum over n and pixels of dy
// Output position of input pixel (ih, iw) under kernel tap (ki, kj): (ih*sh - ph + ki*dh, iw*sw - pw + kj*dw);
// taps landing outside [0, ho) x [0, wo) are dropped (that is the padding); output_padding is
// already in ho/wo.
#include "kernels.h"
#include "conv-impl.h"

namespace nl {

using namespace conv_detail;

static bool nl_convt_shape_ok(const ConvShape & s) {
    return s.groups > 0 && s.cin >= 0 && s.cout >= 0 && s.cin % s.groups == 0 && s.cout % s.groups == 0 &&
           s.h >= 0 && s.w >= 0 && s.ho >= 0 && s.wo >= 0 && s.kh > 0 && s.kw > 0 && s.sh > 0 && s.sw > 0 &&
           s.dh > 0 && s.dw > 0;
}

static Job nl_convt_job(const ConvShape & s) {
    Job j;
    j.g.C = s.cout / s.groups; // image side: y
    j.g.H = s.ho;
    j.g.W = s.wo;
    j.g.kh = s.kh;
    j.g.kw = s.kw;
    j.g.sh = s.sh;
    j.g.sw = s.sw;
    j.g.ph = s.ph0;
    j.g.pw = s.pw0;
    j.g.dh = s.dh;
    j.g.dw = s.dw;
    j.g.Ho = s.h; // column side: x
    j.g.Wo = s.w;
    j.groups = s.groups;
    j.M = s.cin / s.groups;
    return j;
}

// x [n, cin, h, w], w [cin, cout/groups, kh, kw], b [cout] or null -> y [n, cout, ho, wo]
void conv_transpose2d_forward(ThreadPool * pool, const ConvShape & s, const float * x, const float * w,
                              const float * b, float * y, int64_t n) {
    if (!nl_convt_shape_ok(s)) return;
    Job j = nl_convt_job(s);
    j.d = x;
    j.Wm = w;
    j.dimg = y;
    j.dimg_acc = false;
    j.bias_img = b;
    run(pool, j, n);
}

// dy [n, cout, ho, wo] -> dx [n, cin, h, w] (+)=, dw [cin, cout/groups, kh, kw], db [cout]
void conv_transpose2d_backward(ThreadPool * pool, const ConvShape & s, const float * dy, const float * x,
                               const float * w, float * dx, float * dw, float * db, int64_t n, bool accumulate_dx) {
    if (!nl_convt_shape_ok(s)) return;
    Job j = nl_convt_job(s);
    j.img = dy;
    j.d = dw ? x : nullptr;
    j.Wm = w;
    j.dout = dx;
    j.dout_acc = accumulate_dx;
    j.dW = dw;
    j.db_img = db;
    run(pool, j, n);
}

} // namespace nl
