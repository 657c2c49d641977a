// Tests for the convolution and pooling kernels (conv2d, conv-transpose2d, pool2d, adaptive-pool2d).
// Plain program: one line per check, a final "N passed, N failed" line, non-zero exit on failure.
//
// Every kernel is compared with naive direct loops in double precision (the reference), over many
// shapes: batch 1 and 3, non-square kernels, stride, symmetric and asymmetric padding, dilation,
// groups (incl. depthwise), no bias, Conv1d shapes, 1x1 (the no-im2col path), column chunking,
// ConvTranspose2d with stride + output_padding + groups; pools with padding, ceil_mode output sizes,
// count_include_pad both ways, divisor_override, max-pool dilation, ties and NaN. Gradients are also
// checked against central finite differences of the double reference forward, accumulate flags are
// checked, and thread pools of 1 and 2 threads must agree. A few values are torch 1.13 goldens
// (test/parity/gen_native_goldens.py prints them, native-goldens.test.ts compares).
#include "kernels.h"
#include "kernels/conv-impl.h"
#include "threadpool.h"
#include "test-util.h"
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace nltest;

static XorShift g_rng(0x9E3779B97F4A7C15ull);
static float frand() { return g_rng.uniform(); } // uniform in [-1, 1)
static std::vector<float> randv(size_t n) { return nltest::randv(g_rng, n); }

// max |got - ref| / (1 + max |ref|)   (NaN -> inf)
static double rel_err(const float * got, const std::vector<double> & ref) {
    double mref = 0, merr = 0;
    for (size_t i = 0; i < ref.size(); i++) mref = std::fmax(mref, std::fabs(ref[i]));
    for (size_t i = 0; i < ref.size(); i++) {
        double e = std::fabs((double)got[i] - ref[i]);
        if (std::isnan(e)) return INFINITY;
        merr = std::fmax(merr, e);
    }
    return merr / (1.0 + mref);
}
static double rel_err(const std::vector<float> & got, const std::vector<double> & ref) { return rel_err(got.data(), ref); }
static double rel_err_f(const std::vector<float> & a, const std::vector<float> & b) {
    std::vector<double> r(b.begin(), b.end());
    return rel_err(a.data(), r);
}


// =====================================================================================================
//  Convolution
// =====================================================================================================

struct ConvCase {
    const char * name;
    int n, cin, h, w, cout, kh, kw, sh, sw, ph0, ph1, pw0, pw1, dh, dw, groups;
    bool bias;
    int oph, opw; // ConvTranspose2d output_padding (ignored for Conv2d)
};

static nl::ConvShape conv_shape(const ConvCase & c, bool transpose) {
    nl::ConvShape s;
    s.cin = c.cin; s.h = c.h; s.w = c.w; s.cout = c.cout; s.kh = c.kh; s.kw = c.kw;
    s.sh = c.sh; s.sw = c.sw; s.ph0 = c.ph0; s.ph1 = c.ph1; s.pw0 = c.pw0; s.pw1 = c.pw1;
    s.dh = c.dh; s.dw = c.dw; s.groups = c.groups;
    if (!transpose) {
        s.ho = (c.h + c.ph0 + c.ph1 - c.dh * (c.kh - 1) - 1) / c.sh + 1;
        s.wo = (c.w + c.pw0 + c.pw1 - c.dw * (c.kw - 1) - 1) / c.sw + 1;
    } else {
        s.ho = (c.h - 1) * c.sh - c.ph0 - c.ph1 + c.dh * (c.kh - 1) + c.oph + 1;
        s.wo = (c.w - 1) * c.sw - c.pw0 - c.pw1 + c.dw * (c.kw - 1) + c.opw + 1;
    }
    return s;
}

// Visits every (input element, weight element, output element) triple of the convolution:
// f(xi, wi, yi) with flat indices into x [n,cin,h,w], w, y [n,cout,ho,wo].
// Conv2d: w [cout, cin/g, kh, kw]; ConvTranspose2d: w [cin, cout/g, kh, kw] and the roles of the
// positions are swapped (output position = input position * stride - pad + tap * dilation).
template <class F> static void conv_visit(const nl::ConvShape & s, int n, bool transpose, F && f) {
    const int G = s.groups, cig = s.cin / G, cog = s.cout / G;
    for (int i = 0; i < n; i++)
        for (int g = 0; g < G; g++)
            for (int ci = 0; ci < cig; ci++)
                for (int co = 0; co < cog; co++)
                    for (int ki = 0; ki < s.kh; ki++)
                        for (int kj = 0; kj < s.kw; kj++) {
                            const int C = g * cig + ci, O = g * cog + co;
                            const long wi = transpose ? (((long)C * cog + co) * s.kh + ki) * s.kw + kj
                                                      : (((long)O * cig + ci) * s.kh + ki) * s.kw + kj;
                            if (!transpose) {
                                for (int oh = 0; oh < s.ho; oh++) {
                                    const int ih = oh * s.sh - s.ph0 + ki * s.dh;
                                    if (ih < 0 || ih >= s.h) continue;
                                    for (int ow = 0; ow < s.wo; ow++) {
                                        const int iw = ow * s.sw - s.pw0 + kj * s.dw;
                                        if (iw < 0 || iw >= s.w) continue;
                                        f((((long)i * s.cin + C) * s.h + ih) * s.w + iw, wi,
                                          (((long)i * s.cout + O) * s.ho + oh) * s.wo + ow);
                                    }
                                }
                            } else {
                                for (int ih = 0; ih < s.h; ih++) {
                                    const int oh = ih * s.sh - s.ph0 + ki * s.dh;
                                    if (oh < 0 || oh >= s.ho) continue;
                                    for (int iw = 0; iw < s.w; iw++) {
                                        const int ow = iw * s.sw - s.pw0 + kj * s.dw;
                                        if (ow < 0 || ow >= s.wo) continue;
                                        f((((long)i * s.cin + C) * s.h + ih) * s.w + iw, wi,
                                          (((long)i * s.cout + O) * s.ho + oh) * s.wo + ow);
                                    }
                                }
                            }
                        }
}

struct ConvRef {
    std::vector<double> y, dx, dw, db;
};

static void conv_reference(const nl::ConvShape & s, int n, bool transpose, const std::vector<float> & x,
                           const std::vector<float> & w, const float * b, const std::vector<float> & dy, ConvRef & r) {
    const long P = (long)s.ho * s.wo;
    r.y.assign((size_t)n * s.cout * P, 0.0);
    r.dx.assign(x.size(), 0.0);
    r.dw.assign(w.size(), 0.0);
    r.db.assign(s.cout, 0.0);
    conv_visit(s, n, transpose, [&](long xi, long wi, long yi) {
        r.y[yi] += (double)w[wi] * x[xi];
        r.dx[xi] += (double)w[wi] * dy[yi];
        r.dw[wi] += (double)x[xi] * dy[yi];
    });
    for (int i = 0; i < n; i++)
        for (int c = 0; c < s.cout; c++)
            for (long p = 0; p < P; p++) {
                const size_t k = ((size_t)i * s.cout + c) * P + p;
                if (b) r.y[k] += b[c];
                r.db[c] += dy[k];
            }
}

// sum(y * dy) of the double reference forward: the loss whose gradients the backward computes
static double conv_loss(const nl::ConvShape & s, int n, bool transpose, const std::vector<float> & x,
                        const std::vector<float> & w, const std::vector<float> & b, bool bias, const std::vector<float> & dy,
                        double dx_eps, long xk, double dw_eps, long wk, double db_eps, int bk) {
    double L = 0;
    conv_visit(s, n, transpose, [&](long xi, long wi, long yi) {
        const double xv = x[xi] + (xi == xk ? dx_eps : 0.0), wv = w[wi] + (wi == wk ? dw_eps : 0.0);
        L += xv * wv * dy[yi];
    });
    if (bias) {
        const long P = (long)s.ho * s.wo;
        for (int i = 0; i < n; i++)
            for (int c = 0; c < s.cout; c++)
                for (long p = 0; p < P; p++)
                    L += (b[c] + (c == bk ? db_eps : 0.0)) * dy[((size_t)i * s.cout + c) * P + p];
    }
    return L;
}

static void run_conv(nl::ThreadPool * pool1, nl::ThreadPool * pool2, const ConvCase & c, bool transpose) {
    const nl::ConvShape s = conv_shape(c, transpose);
    const int n = c.n;
    const char * kind = transpose ? "conv_transpose2d" : "conv2d";
    const size_t wcount = transpose ? (size_t)c.cin * (c.cout / c.groups) * c.kh * c.kw
                                    : (size_t)c.cout * (c.cin / c.groups) * c.kh * c.kw;
    std::vector<float> x = randv((size_t)n * c.cin * c.h * c.w), w = randv(wcount), b = randv(c.cout);
    std::vector<float> dy = randv((size_t)n * c.cout * s.ho * s.wo);
    const float * bp = c.bias ? b.data() : nullptr;
    ConvRef r;
    conv_reference(s, n, transpose, x, w, bp, dy, r);
    const double tol = 1e-5;

    auto fwd = [&](nl::ThreadPool * p, std::vector<float> & y) {
        y.assign(r.y.size(), NAN); // garbage in the output must not leak
        if (transpose) nl::conv_transpose2d_forward(p, s, x.data(), w.data(), bp, y.data(), n);
        else nl::conv2d_forward(p, s, x.data(), w.data(), bp, y.data(), n);
    };
    auto bwd = [&](nl::ThreadPool * p, std::vector<float> & dx, std::vector<float> & dw, std::vector<float> & db,
                   bool acc, float * dxp) {
        dw.assign(w.size(), NAN);
        db.assign(c.cout, NAN);
        if (transpose)
            nl::conv_transpose2d_backward(p, s, dy.data(), x.data(), w.data(), dxp, dw.data(), c.bias ? db.data() : nullptr,
                                          n, acc);
        else
            nl::conv2d_backward(p, s, dy.data(), x.data(), w.data(), dxp, dw.data(), c.bias ? db.data() : nullptr, n, acc);
        (void)dx;
    };

    std::vector<float> y1, y2, dx1, dx2, dw1, dw2, db1, db2;
    fwd(pool1, y1);
    fwd(pool2, y2);
    double e = rel_err(y1, r.y);
    check(e < tol, format("%s %s forward vs reference (err %.2e)", kind, c.name, e));
    e = rel_err_f(y2, y1);
    check(e < tol, format("%s %s forward 2 threads vs 1 (err %.2e)", kind, c.name, e));

    dx1.assign(x.size(), NAN);
    bwd(pool1, dx1, dw1, db1, false, dx1.data());
    dx2.assign(x.size(), NAN);
    bwd(pool2, dx2, dw2, db2, false, dx2.data());
    double edx = rel_err(dx1, r.dx), edw = rel_err(dw1, r.dw);
    check(edx < tol, format("%s %s dx vs reference (err %.2e)", kind, c.name, edx));
    check(edw < tol, format("%s %s dw vs reference (err %.2e)", kind, c.name, edw));
    if (c.bias) {
        // db sums n*ho*wo values in float: allow the rounding of long sums (the padding cases sum 10^5+)
        const double tol_db = tol * std::fmax(1.0, (double)n * s.ho * s.wo / 65536.0);
        double edb = rel_err(db1, r.db);
        check(edb < tol_db, format("%s %s db vs reference (err %.2e)", kind, c.name, edb));
    }
    e = std::fmax(rel_err_f(dx2, dx1), rel_err_f(dw2, dw1));
    if (c.bias) e = std::fmax(e, rel_err_f(db2, db1));
    check(e < tol, format("%s %s backward 2 threads vs 1 (err %.2e)", kind, c.name, e));

    // accumulate_dx: dx = pre + grad; and dx = null (weights only)
    std::vector<float> pre = randv(x.size()), dxa = pre, dwn, dbn, unused;
    bwd(pool2, unused, dwn, dbn, true, dxa.data());
    std::vector<double> want(x.size());
    for (size_t i = 0; i < x.size(); i++) want[i] = pre[i] + r.dx[i];
    e = rel_err(dxa, want);
    check(e < tol, format("%s %s accumulate_dx (err %.2e)", kind, c.name, e));
    bwd(pool2, unused, dwn, dbn, false, nullptr);
    e = rel_err(dwn, r.dw);
    check(e < tol, format("%s %s dx = null, dw still right (err %.2e)", kind, c.name, e));

    // central finite differences of the double reference forward at a few points
    double worst = 0;
    const double h = 1e-3;
    for (int t = 0; t < 6; t++) {
        long xk = (long)((frand() * 0.5 + 0.5) * x.size()) % (long)x.size();
        long wk = (long)((frand() * 0.5 + 0.5) * w.size()) % (long)w.size();
        double gx = (conv_loss(s, n, transpose, x, w, b, c.bias, dy, h, xk, 0, -1, 0, -1) -
                     conv_loss(s, n, transpose, x, w, b, c.bias, dy, -h, xk, 0, -1, 0, -1)) / (2 * h);
        double gw = (conv_loss(s, n, transpose, x, w, b, c.bias, dy, 0, -1, h, wk, 0, -1) -
                     conv_loss(s, n, transpose, x, w, b, c.bias, dy, 0, -1, -h, wk, 0, -1)) / (2 * h);
        worst = std::fmax(worst, std::fabs(gx - dx1[xk]) / (1 + std::fabs(gx)));
        worst = std::fmax(worst, std::fabs(gw - dw1[wk]) / (1 + std::fabs(gw)));
        if (c.bias) {
            int bk = t % c.cout;
            double gb = (conv_loss(s, n, transpose, x, w, b, c.bias, dy, 0, -1, 0, -1, h, bk) -
                         conv_loss(s, n, transpose, x, w, b, c.bias, dy, 0, -1, 0, -1, -h, bk)) / (2 * h);
            worst = std::fmax(worst, std::fabs(gb - db1[bk]) / (1 + std::fabs(gb)));
        }
    }
    check(worst < 1e-4, format("%s %s gradients vs finite differences (err %.2e)", kind, c.name, worst));
}

// im2col fills a chunk of output rows [oh0, oh1): rows whose input row lies in the image are
// copied, the others zeroed. The copied range must lie inside the chunk, whatever the padding:
// issue 10's Conv2d(kernel 1, padding 3000) on 28x28 had a chunk wholly in the bottom padding, the
// range came back as [28+3000, 28+3000) < oh0, and im2col zeroed rows before its scratch buffer
// (a heap overwrite; the process died with SIGSEGV).
static void test_chunk_rows() {
    struct G { int H, kh, sh, ph0, ph1, dh; };
    const G geoms[] = {{28, 1, 1, 3000, 3000, 1}, {28, 3, 1, 500, 500, 2}, {5, 3, 2, 40, 41, 1}, {7, 1, 3, 0, 60, 1}, {9, 5, 1, 2, 2, 3}};
    int bad = 0, cases = 0;
    for (const G & t : geoms) {
        nl::conv_detail::Geom g{};
        g.C = 1; g.H = t.H; g.W = 1; g.kh = t.kh; g.kw = 1; g.sh = t.sh; g.sw = 1; g.ph = t.ph0; g.pw = 0; g.dh = t.dh; g.dw = 1;
        g.Ho = (t.H + t.ph0 + t.ph1 - t.dh * (t.kh - 1) - 1) / t.sh + 1;
        g.Wo = 1;
        for (int rows : {1, 7, 86, 1000000})
            for (int64_t oh0 = 0; oh0 < g.Ho; oh0 += rows) {
                const int64_t oh1 = std::min<int64_t>(oh0 + rows, g.Ho);
                for (int64_t ki = 0; ki < g.kh; ki++) {
                    int64_t a = -1, b = -1;
                    nl::conv_detail::out_rows_in_image(g, ki, oh0, oh1, &a, &b);
                    // the rows it names are exactly those of the chunk whose input row is inside the image
                    bool ok = oh0 <= a && a <= b && b <= oh1;
                    for (int64_t oh = oh0; ok && oh < oh1; oh++) {
                        const int64_t ih = oh * g.sh - g.ph + ki * g.dh;
                        ok = (ih >= 0 && ih < g.H) == (oh >= a && oh < b);
                    }
                    bad += !ok;
                    cases++;
                }
            }
    }
    check(bad == 0, "im2col row ranges lie inside their chunk, also for chunks wholly in the padding (%d of %d wrong)", bad, cases);
}

static void test_conv(nl::ThreadPool * p1, nl::ThreadPool * p2) {
    //   name                         n cin  h   w cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw  g  bias oph opw
    const ConvCase convs[] = {
        {"basic 1x2x5x5 k3",          1, 1,  5,  5, 2,  3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"batch3 k3x5",               3, 3,  7,  9, 4,  3, 5, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"stride2 pad1",              3, 4,  9,  8, 6,  3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, true, 0, 0},
        {"asymmetric pad k2",         3, 3,  6,  7, 5,  2, 2, 1, 1, 0, 1, 1, 0, 1, 1, 1, true, 0, 0},
        {"same k4 (pad 1,2)",         2, 2,  6,  6, 3,  4, 4, 1, 1, 1, 2, 1, 2, 1, 1, 1, true, 0, 0},
        {"dilation2 pad2",            3, 2,  9, 10, 3,  3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1, true, 0, 0},
        {"dilation(2,1) stride(1,3)", 3, 2,  8, 11, 3,  3, 2, 1, 3, 1, 0, 2, 1, 2, 1, 1, true, 0, 0},
        {"groups2",                   3, 4,  6,  6, 6,  3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, true, 0, 0},
        {"depthwise x2 stride2",      2, 4,  7,  7, 8,  3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4, true, 0, 0},
        {"no bias",                   3, 2,  5,  5, 3,  3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, false, 0, 0},
        {"conv1d k5 s2 p2",           3, 3,  1, 20, 4,  1, 5, 1, 2, 0, 0, 2, 2, 1, 1, 1, true, 0, 0},
        {"conv1d dilation3 groups3",  2, 6,  1, 17, 3,  1, 3, 1, 1, 0, 0, 1, 1, 1, 3, 3, false, 0, 0},
        {"1x1",                       3, 8,  5,  6, 4,  1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"1x1 groups2 no bias",       3, 8,  5,  6, 4,  1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, false, 0, 0},
        {"1x1 stride2",               3, 4,  7,  6, 5,  1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"1x1 pad1",                  1, 3,  4,  4, 2,  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, 0, 0},
        {"kernel > input, pad2",      1, 2,  3,  3, 2,  5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 1, true, 0, 0},
        {"bench conv1 1->32",         3, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"bench conv2 32->64",        3, 32, 26, 26, 64, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"chunked columns 16x66x66",  2, 16, 66, 66, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"batch 5 (uneven split)",    5, 3,  6,  5, 4,  3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true, 0, 0},
        // issue 10: a 1028-wide output is cut into chunks of 510 rows, and the last chunk lies
        // wholly in the bottom padding (the image covers output rows 500..527 only)
        {"pad 500: a chunk of padding rows", 1, 1, 28, 28, 1, 1, 1, 1, 1, 500, 500, 500, 500, 1, 1, 1, true, 0, 0},
        {"pad 200 k3 2 samples",      2, 1, 12, 12, 1, 3, 3, 1, 1, 200, 200, 200, 200, 1, 1, 1, true, 0, 0},
    };
    for (const ConvCase & c : convs) run_conv(p1, p2, c, false);

    //   name                           n cin h  w cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw g bias oph opw
    const ConvCase convts[] = {
        {"basic k3",                    1, 2, 3, 3, 3, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1, true, 0, 0},
        {"stride2 pad1 outpad1 groups2", 3, 4, 4, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2, true, 1, 1},
        {"k3x5 stride(2,1) pad(1,2)",   2, 3, 5, 4, 2, 3, 5, 2, 1, 1, 1, 2, 2, 1, 1, 1, true, 1, 0},
        {"dilation2 stride2 groups2",   2, 2, 4, 4, 4, 3, 3, 2, 2, 1, 1, 1, 1, 2, 2, 2, true, 1, 1},
        {"1x1 groups2",                 3, 6, 4, 4, 4, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, true, 0, 0},
        {"depthwise k4 s2 p1",          3, 4, 5, 5, 4, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 4, true, 0, 0},
        {"no bias stride3",             3, 3, 4, 3, 2, 2, 3, 3, 3, 0, 0, 1, 1, 1, 1, 1, false, 2, 1},
        {"1d k4 s2",                    3, 2, 1, 9, 3, 1, 4, 1, 2, 0, 0, 1, 1, 1, 1, 1, true, 0, 1},
    };
    for (const ConvCase & c : convts) run_conv(p1, p2, c, true);

    // the pool argument may be null (single-threaded)
    {
        const ConvCase c = convs[2];
        const nl::ConvShape s = conv_shape(c, false);
        std::vector<float> x = randv((size_t)c.n * c.cin * c.h * c.w), w = randv((size_t)c.cout * c.cin * 9), b = randv(c.cout);
        std::vector<float> y0((size_t)c.n * c.cout * s.ho * s.wo), y1(y0.size());
        nl::conv2d_forward(nullptr, s, x.data(), w.data(), b.data(), y0.data(), c.n);
        nl::conv2d_forward(p2, s, x.data(), w.data(), b.data(), y1.data(), c.n);
        check(rel_err_f(y0, y1) < 1e-5, "conv2d forward with pool = null");
    }
}

// =====================================================================================================
//  Pooling
// =====================================================================================================

struct PoolCase {
    const char * name;
    int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw;
    bool ceil_mode, count_include_pad;
    int divisor_override;
};

// torch's pooling_output_shape
static int pool_out(int in, int k, int s, int p, int d, bool ceil_mode) {
    int num = in + 2 * p - d * (k - 1) - 1 + (ceil_mode ? s - 1 : 0);
    int o = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--;
    return o;
}

static nl::PoolShape pool_shape(const PoolCase & c) {
    nl::PoolShape s;
    s.c = c.c; s.h = c.h; s.w = c.w; s.kh = c.kh; s.kw = c.kw; s.sh = c.sh; s.sw = c.sw;
    s.ph = c.ph; s.pw = c.pw; s.dh = c.dh; s.dw = c.dw;
    s.ho = pool_out(c.h, c.kh, c.sh, c.ph, c.dh, c.ceil_mode);
    s.wo = pool_out(c.w, c.kw, c.sw, c.pw, c.dw, c.ceil_mode);
    s.count_include_pad = c.count_include_pad;
    s.divisor_override = c.divisor_override;
    return s;
}

// Reference max pool in double: window taps ih = oh*sh - ph + ki*dh inside the image, first max wins,
// NaN wins (the last NaN), empty window -> -inf with the first clipped tap's index.
static void max_reference(const nl::PoolShape & s, int n, const std::vector<float> & x, std::vector<double> & y,
                          std::vector<int32_t> & idx) {
    const long OP = (long)s.ho * s.wo, HW = (long)s.h * s.w;
    y.assign((size_t)n * s.c * OP, 0);
    idx.assign(y.size(), -1);
    for (long p = 0; p < (long)n * s.c; p++)
        for (int oh = 0; oh < s.ho; oh++)
            for (int ow = 0; ow < s.wo; ow++) {
                double m = -INFINITY;
                int best = -1, first = -1;
                for (int ki = 0; ki < s.kh; ki++)
                    for (int kj = 0; kj < s.kw; kj++) {
                        const int ih = oh * s.sh - s.ph + ki * s.dh, iw = ow * s.sw - s.pw + kj * s.dw;
                        if (ih < 0 || ih >= s.h || iw < 0 || iw >= s.w) continue;
                        const double v = x[p * HW + ih * s.w + iw];
                        if (first < 0) first = ih * s.w + iw;
                        if (v > m || std::isnan(v)) {
                            m = v;
                            best = ih * s.w + iw;
                        }
                    }
                y[p * OP + oh * s.wo + ow] = m;
                idx[p * OP + oh * s.wo + ow] = best >= 0 ? best : first;
            }
}

// Reference avg pool in double, written from the rule: the window [start, start + k) is first cut at
// in + pad (that area is pool_size), then clipped to the image.
static void avg_reference(const nl::PoolShape & s, int n, const std::vector<float> & x, const std::vector<float> & dy,
                          std::vector<double> & y, std::vector<double> & dx) {
    const long OP = (long)s.ho * s.wo, HW = (long)s.h * s.w;
    y.assign((size_t)n * s.c * OP, 0);
    dx.assign(x.size(), 0);
    for (long p = 0; p < (long)n * s.c; p++)
        for (int oh = 0; oh < s.ho; oh++)
            for (int ow = 0; ow < s.wo; ow++) {
                const int hs = oh * s.sh - s.ph, ws = ow * s.sw - s.pw;
                const int he = std::min(hs + s.kh, s.h + s.ph), we = std::min(ws + s.kw, s.w + s.pw);
                const int pool_size = (he - hs) * (we - ws);
                int cnt = 0;
                double sum = 0;
                for (int ih = std::max(hs, 0); ih < std::min(he, s.h); ih++)
                    for (int iw = std::max(ws, 0); iw < std::min(we, s.w); iw++) {
                        sum += x[p * HW + ih * s.w + iw];
                        cnt++;
                    }
                if (cnt == 0) continue;
                const double div = s.divisor_override ? s.divisor_override : s.count_include_pad ? pool_size : cnt;
                y[p * OP + oh * s.wo + ow] = sum / div;
                for (int ih = std::max(hs, 0); ih < std::min(he, s.h); ih++)
                    for (int iw = std::max(ws, 0); iw < std::min(we, s.w); iw++)
                        dx[p * HW + ih * s.w + iw] += dy[p * OP + oh * s.wo + ow] / div;
            }
}

static void run_max(nl::ThreadPool * p1, nl::ThreadPool * p2, const PoolCase & c, bool ties, int nans) {
    const nl::PoolShape s = pool_shape(c);
    const int n = c.n;
    std::vector<float> x = randv((size_t)n * c.c * c.h * c.w);
    if (ties)
        for (auto & v : x) v = std::floor(v * 2.f); // values in {-2,-1,0,1}: many ties
    for (int k = 0; k < nans; k++) x[(size_t)((frand() * 0.5 + 0.5) * x.size()) % x.size()] = NAN;
    std::vector<double> ry;
    std::vector<int32_t> ridx;
    max_reference(s, n, x, ry, ridx);
    const long OP = (long)s.ho * s.wo, HW = (long)s.h * s.w;
    std::vector<float> y1(ry.size(), 7.f), y2(ry.size(), 7.f);
    std::vector<int32_t> i1(ry.size(), -7), i2(ry.size(), -7);
    nl::max_pool2d_forward(p1, s, x.data(), y1.data(), i1.data(), n);
    nl::max_pool2d_forward(p2, s, x.data(), y2.data(), i2.data(), n);
    bool same = true, same12 = true;
    for (size_t k = 0; k < ry.size(); k++) {
        const bool eq = (std::isnan(ry[k]) && std::isnan(y1[k])) || (double)y1[k] == ry[k];
        if (!eq || i1[k] != ridx[k]) same = false;
        if (!((std::isnan(y1[k]) && std::isnan(y2[k])) || y1[k] == y2[k]) || i1[k] != i2[k]) same12 = false;
    }
    check(same, format("max_pool2d %s (%dx%d -> %dx%d) values and indices vs reference", c.name, c.h, c.w, s.ho, s.wo));
    check(same12, format("max_pool2d %s forward 2 threads vs 1", c.name));

    // backward: scatter-add at the indices; accumulate adds into what is there
    std::vector<float> dy = randv(ry.size());
    std::vector<double> rdx(x.size(), 0.0);
    for (long p = 0; p < (long)n * c.c; p++)
        for (long o = 0; o < OP; o++) rdx[p * HW + ridx[p * OP + o]] += dy[p * OP + o];
    std::vector<float> dx1(x.size(), NAN), dx2(x.size(), NAN);
    nl::max_pool2d_backward(p1, s, dy.data(), i1.data(), dx1.data(), n, false);
    nl::max_pool2d_backward(p2, s, dy.data(), i1.data(), dx2.data(), n, false);
    double e = std::fmax(rel_err(dx1, rdx), rel_err(dx2, rdx));
    check(e < 1e-6, format("max_pool2d %s backward (err %.2e)", c.name, e));
    std::vector<float> pre = randv(x.size()), dxa = pre;
    nl::max_pool2d_backward(p2, s, dy.data(), i1.data(), dxa.data(), n, true);
    for (size_t k = 0; k < x.size(); k++) rdx[k] += pre[k];
    e = rel_err(dxa, rdx);
    check(e < 1e-6, format("max_pool2d %s backward accumulate (err %.2e)", c.name, e));
}

static void run_avg(nl::ThreadPool * p1, nl::ThreadPool * p2, const PoolCase & c) {
    const nl::PoolShape s = pool_shape(c);
    const int n = c.n;
    std::vector<float> x = randv((size_t)n * c.c * c.h * c.w);
    const long OP = (long)s.ho * s.wo;
    std::vector<float> dy = randv((size_t)n * c.c * OP);
    std::vector<double> ry, rdx;
    avg_reference(s, n, x, dy, ry, rdx);
    std::vector<float> y1(ry.size(), NAN), y2(ry.size(), NAN);
    nl::avg_pool2d_forward(p1, s, x.data(), y1.data(), n);
    nl::avg_pool2d_forward(p2, s, x.data(), y2.data(), n);
    const char * cip = c.count_include_pad ? "include_pad" : "exclude_pad";
    double e = std::fmax(rel_err(y1, ry), rel_err(y2, ry));
    check(e < 1e-6, format("avg_pool2d %s %s div=%d (%dx%d -> %dx%d) forward (err %.2e)", c.name, cip, c.divisor_override,
                        c.h, c.w, s.ho, s.wo, e));
    std::vector<float> dx1(x.size(), NAN), dx2(x.size(), NAN);
    nl::avg_pool2d_backward(p1, s, dy.data(), dx1.data(), n, false);
    nl::avg_pool2d_backward(p2, s, dy.data(), dx2.data(), n, false);
    e = std::fmax(rel_err(dx1, rdx), rel_err(dx2, rdx));
    check(e < 1e-6, format("avg_pool2d %s %s div=%d backward (err %.2e)", c.name, cip, c.divisor_override, e));
    std::vector<float> pre = randv(x.size()), dxa = pre;
    nl::avg_pool2d_backward(p2, s, dy.data(), dxa.data(), n, true);
    for (size_t k = 0; k < x.size(); k++) rdx[k] += pre[k];
    e = rel_err(dxa, rdx);
    check(e < 1e-6, format("avg_pool2d %s %s backward accumulate (err %.2e)", c.name, cip, e));
    // finite differences of sum(y * dy) (the pool is linear: exact up to rounding)
    double worst = 0;
    for (int t = 0; t < 5; t++) {
        const size_t k = (size_t)((frand() * 0.5 + 0.5) * x.size()) % x.size();
        std::vector<float> xp = x, xm = x;
        xp[k] += 0.25f;
        xm[k] -= 0.25f;
        std::vector<float> yp(ry.size()), ym(ry.size());
        nl::avg_pool2d_forward(p1, s, xp.data(), yp.data(), n);
        nl::avg_pool2d_forward(p1, s, xm.data(), ym.data(), n);
        double lp = 0, lm = 0;
        for (size_t q = 0; q < yp.size(); q++) {
            lp += (double)yp[q] * dy[q];
            lm += (double)ym[q] * dy[q];
        }
        worst = std::fmax(worst, std::fabs((lp - lm) / 0.5 - dx1[k]));
    }
    check(worst < 1e-4, format("avg_pool2d %s %s gradient vs finite differences (err %.2e)", c.name, cip, worst));
}

static void test_pool(nl::ThreadPool * p1, nl::ThreadPool * p2) {
    //   name                      n  c   h   w  kh kw sh sw ph pw dh dw ceil   cip   div
    const PoolCase maxes[] = {
        {"k2 (bench)",             3, 4, 24, 24, 2, 2, 2, 2, 0, 0, 1, 1, false, true, 0},
        {"k2 odd size",            2, 3,  7,  9, 2, 2, 2, 2, 0, 0, 1, 1, false, true, 0},
        {"k2 odd size ceil",       2, 3,  7,  9, 2, 2, 2, 2, 0, 0, 1, 1, true,  true, 0},
        {"k3 s2 p1",               2, 3,  7,  7, 3, 3, 2, 2, 1, 1, 1, 1, false, true, 0},
        {"k3 s2 p1 ceil",          2, 3,  8,  8, 3, 3, 2, 2, 1, 1, 1, 1, true,  true, 0},
        {"k3 s2 p1 dilation2",     2, 3,  9,  9, 3, 3, 2, 2, 1, 1, 2, 2, false, true, 0},
        {"k(2,3) s(1,2) p1 d(1,2) ceil", 1, 2, 6, 11, 2, 3, 1, 2, 1, 1, 1, 2, true, true, 0},
        {"k3 s1 p1",               3, 2,  5,  6, 3, 3, 1, 1, 1, 1, 1, 1, false, true, 0},
        {"k1 s2",                  1, 2,  5,  5, 1, 1, 2, 2, 0, 0, 1, 1, false, true, 0},
    };
    for (const PoolCase & c : maxes) run_max(p1, p2, c, false, 0);
    run_max(p1, p2, maxes[3], true, 0);
    run_max(p1, p2, maxes[0], false, 20);
    run_max(p1, p2, maxes[5], true, 9);

    const PoolCase avgs[] = {
        {"k2",                     3, 4, 24, 24, 2, 2, 2, 2, 0, 0, 1, 1, false, true, 0},
        {"k3 s2 p1",               2, 3,  7,  7, 3, 3, 2, 2, 1, 1, 1, 1, false, true, 0},
        {"k3 s2 p1",               2, 3,  7,  7, 3, 3, 2, 2, 1, 1, 1, 1, false, false, 0},
        {"k3 s2 p1 ceil",          2, 3,  8,  8, 3, 3, 2, 2, 1, 1, 1, 1, true,  true, 0},
        {"k3 s2 p1 ceil",          2, 3,  8,  8, 3, 3, 2, 2, 1, 1, 1, 1, true,  false, 0},
        {"k2 s2 ceil",             1, 2,  5,  5, 2, 2, 2, 2, 0, 0, 1, 1, true,  true, 0},
        {"k(3,2) s(2,1) p(1,0)",   2, 2,  6,  5, 3, 2, 2, 1, 1, 0, 1, 1, false, true, 0},
        {"k(3,2) s(2,1) p(1,0) ceil", 2, 2, 6, 5, 3, 2, 2, 1, 1, 0, 1, 1, true, false, 0},
        {"k3 s2 p1 override3",     2, 3,  7,  7, 3, 3, 2, 2, 1, 1, 1, 1, false, true, 3},
        {"k3 s2 p1 ceil override5", 2, 3, 8,  8, 3, 3, 2, 2, 1, 1, 1, 1, true,  false, 5},
    };
    for (const PoolCase & c : avgs) run_avg(p1, p2, c);

    // torch 1.13 goldens:
    //   F.avg_pool2d(torch.arange(25.).view(1,1,5,5), 2, 2, ceil_mode=True)
    //     -> [[3, 5, 6.5], [13, 15, 16.5], [20.5, 22.5, 24]]
    //   F.avg_pool2d(torch.arange(1., 5.).view(1,1,2,2), 2, 1, 1) -> [[.25,.75,.5],[1,2.5,1.5],[.75,1.75,1]]
    //   same with count_include_pad=False -> [[1,1.5,2],[2,2.5,3],[3,3.5,4]]
    //   F.avg_pool2d(torch.arange(36.).view(1,1,6,6), 3, 2, 1, ceil_mode=True) (out 4x4) row 3:
    //     [10.166667, 16, 17, 8.75]
    {
        std::vector<float> x(25), y(9);
        for (int i = 0; i < 25; i++) x[i] = (float)i;
        PoolCase c = {"", 1, 1, 5, 5, 2, 2, 2, 2, 0, 0, 1, 1, true, true, 0};
        nl::PoolShape s = pool_shape(c);
        nl::avg_pool2d_forward(p1, s, x.data(), y.data(), 1);
        const float want[9] = {3, 5, 6.5f, 13, 15, 16.5f, 20.5f, 22.5f, 24};
        bool ok = s.ho == 3 && s.wo == 3;
        for (int i = 0; i < 9 && ok; i++) ok = std::fabs(y[i] - want[i]) < 1e-6f;
        check(ok, "avg_pool2d torch golden: 5x5 k2 s2 ceil_mode");
    }
    for (int cip = 1; cip >= 0; cip--) {
        std::vector<float> x = {1, 2, 3, 4}, y(9);
        PoolCase c = {"", 1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, false, cip != 0, 0};
        nl::PoolShape s = pool_shape(c);
        nl::avg_pool2d_forward(p1, s, x.data(), y.data(), 1);
        const float w1[9] = {.25f, .75f, .5f, 1, 2.5f, 1.5f, .75f, 1.75f, 1};
        const float w0[9] = {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4};
        bool ok = s.ho == 3 && s.wo == 3;
        for (int i = 0; i < 9 && ok; i++) ok = std::fabs(y[i] - (cip ? w1[i] : w0[i])) < 1e-6f;
        check(ok, format("avg_pool2d torch golden: 2x2 k2 s1 p1 count_include_pad=%d", cip));
    }
    {
        std::vector<float> x(36), y(16);
        for (int i = 0; i < 36; i++) x[i] = (float)i;
        PoolCase c = {"", 1, 1, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, true, true, 0};
        nl::PoolShape s = pool_shape(c);
        nl::avg_pool2d_forward(p1, s, x.data(), y.data(), 1);
        const float want[4] = {10.166667f, 16.f, 17.f, 8.75f};
        bool ok = s.ho == 4 && s.wo == 4;
        for (int i = 0; i < 4 && ok; i++) ok = std::fabs(y[12 + i] - want[i]) < 1e-5f;
        check(ok, "avg_pool2d torch golden: 6x6 k3 s2 p1 ceil_mode (window cut at h + pad)");
    }
}

// =====================================================================================================
//  Adaptive average pooling
// =====================================================================================================

static void test_adaptive() {
    const int cfg[][6] = {
        // n c h w ho wo
        {3, 2, 5, 7, 3, 4},
        {2, 3, 8, 8, 1, 1},
        {2, 2, 6, 6, 6, 6},
        {1, 2, 4, 5, 7, 3}, // upsampling: windows overlap / repeat
        {2, 3, 7, 7, 2, 2},
    };
    for (const auto & q : cfg) {
        const int n = q[0], c = q[1], h = q[2], w = q[3], ho = q[4], wo = q[5];
        std::vector<float> x = randv((size_t)n * c * h * w), dy = randv((size_t)n * c * ho * wo);
        std::vector<double> ry((size_t)n * c * ho * wo, 0), rdx(x.size(), 0);
        for (int p = 0; p < n * c; p++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++) {
                    const int h0 = (int)std::floor((double)oh * h / ho), h1 = (int)std::ceil((double)(oh + 1) * h / ho);
                    const int w0 = (int)std::floor((double)ow * w / wo), w1 = (int)std::ceil((double)(ow + 1) * w / wo);
                    double s = 0;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) s += x[((size_t)p * h + ih) * w + iw];
                    const double area = (double)(h1 - h0) * (w1 - w0);
                    ry[((size_t)p * ho + oh) * wo + ow] = s / area;
                    for (int ih = h0; ih < h1; ih++)
                        for (int iw = w0; iw < w1; iw++) rdx[((size_t)p * h + ih) * w + iw] += dy[((size_t)p * ho + oh) * wo + ow] / area;
                }
        std::vector<float> y(ry.size(), NAN), dx(x.size(), NAN);
        nl::adaptive_avg_pool2d_forward(x.data(), y.data(), n, c, h, w, ho, wo);
        double e = rel_err(y, ry);
        check(e < 1e-6, format("adaptive_avg_pool2d %dx%d -> %dx%d forward (err %.2e)", h, w, ho, wo, e));
        nl::adaptive_avg_pool2d_backward(dy.data(), dx.data(), n, c, h, w, ho, wo, false);
        e = rel_err(dx, rdx);
        check(e < 1e-6, format("adaptive_avg_pool2d %dx%d -> %dx%d backward (err %.2e)", h, w, ho, wo, e));
        std::vector<float> pre = randv(x.size()), dxa = pre;
        nl::adaptive_avg_pool2d_backward(dy.data(), dxa.data(), n, c, h, w, ho, wo, true);
        for (size_t k = 0; k < x.size(); k++) rdx[k] += pre[k];
        e = rel_err(dxa, rdx);
        check(e < 1e-6, format("adaptive_avg_pool2d %dx%d -> %dx%d backward accumulate (err %.2e)", h, w, ho, wo, e));
    }
    // torch 1.13 golden: F.adaptive_avg_pool2d(torch.arange(35.).view(1,1,5,7), (3,4))
    {
        std::vector<float> x(35), y(12);
        for (int i = 0; i < 35; i++) x[i] = (float)i;
        nl::adaptive_avg_pool2d_forward(x.data(), y.data(), 1, 1, 5, 7, 3, 4);
        const float want[12] = {4.f, 5.5f, 7.5f, 9.f, 14.5f, 16.f, 18.f, 19.5f, 25.f, 26.5f, 28.5f, 30.f};
        bool ok = true;
        for (int i = 0; i < 12; i++) ok = ok && std::fabs(y[i] - want[i]) < 1e-5f;
        check(ok, "adaptive_avg_pool2d torch golden: 5x7 -> 3x4");
    }
}

int main() {
    nl::ThreadPool p1(1), p2(2);
    test_chunk_rows();
    test_conv(&p1, &p2);
    test_pool(&p1, &p2);
    test_adaptive();
    return finish();
}
