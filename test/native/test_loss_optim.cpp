// Loss and optimizer kernel tests (native/core/kernels.h, sections "losses" and "more optimizers"):
//   - CrossEntropyLoss / NLLLoss in every combination of class weights, ignore_index (hit or not),
//     label smoothing (0 / 0.1) and reduction (mean / sum): forward and backward against a naive
//     double-precision reference written here (the backward by an explicit O(c^2) chain rule through
//     log_softmax), backward against central finite differences, the accumulate flag, BAD_LABEL and
//     torch's NaN edge cases; plus losses recorded from PyTorch 1.13.
//   - MSE / L1 / SmoothL1 / BCEWithLogits: forward, dpred and dtarget against the naive loop and finite
//     differences, both reductions; plus values recorded from PyTorch 1.13.
//   - RMSprop / Adagrad: several steps against a double transcription of torch.optim (1.13,
//     single-tensor), and five steps recorded from PyTorch 1.13 that must match bit for bit.
//   - sum_squares / scale_inplace composed into clip_grad_norm_, against PyTorch.
//   - the optimizers' check modes (*_step_check): they predict exactly which non-finite values the
//     step would write, and write nothing; and their bounds (*_step_bounded): a step they call safe
//     writes only finite values, which its exact check confirms.
// The values recorded from PyTorch are printed again by test/parity/gen_native_goldens.py and compared
// with these sources by test/parity/native-goldens.test.ts.
//
// Plain program, no framework: one line per check, a final "N passed, M failed" line, and a
// non-zero exit status on any failure. Inputs come from a fixed-seed generator.
#include "kernels.h"
#include "test-util.h"
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

using namespace nl;
using namespace nltest;

static bool all_nan(const float * v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!std::isnan(v[i])) return false;
    return true;
}

// ---- cross-entropy / NLL reference -------------------------------------------------------------
// Straight from the definition: logp = log_softmax in double, per-row loss
//   (1 - eps) * w[y] * (-logp_y) + eps / c * sum_j w_j * (-logp_j),
// divided by the sum of w[y] over kept rows for mean. The gradient goes through an explicit chain
// rule: dL/dlogp_j = -((1 - eps) w[y] [j == y] + eps/c w_j) / D, dlogits_k = sum_j dL/dlogp_j (d_jk - p_k).
// `mag` bounds the size of the terms that make up each gradient entry (for tolerances).

struct CeRef {
    double loss = 0;
    int64_t correct = 0;
    std::vector<double> probs, grad, mag;
};

static CeRef ce_ref(const float * l, const int32_t * lab, int n, int c, const float * w, int ignore, double eps,
                    Reduction red, bool from_logp) {
    CeRef r;
    r.probs.assign((size_t)n * c, 0);
    r.grad.assign((size_t)n * c, 0);
    r.mag.assign((size_t)n * c, 0);
    std::vector<double> logp((size_t)n * c), dlogp((size_t)n * c, 0);
    double total = 0, denom = 0;
    for (int i = 0; i < n; i++) {
        const float * li = l + (size_t)i * c;
        int arg = 0;
        for (int j = 1; j < c; j++)
            if (li[j] > li[arg]) arg = j;
        if (from_logp) {
            for (int j = 0; j < c; j++) logp[(size_t)i * c + j] = li[j];
        } else {
            double mx = li[arg], s = 0;
            for (int j = 0; j < c; j++) s += std::exp((double)li[j] - mx);
            for (int j = 0; j < c; j++) logp[(size_t)i * c + j] = (double)li[j] - mx - std::log(s);
        }
        for (int j = 0; j < c; j++) r.probs[(size_t)i * c + j] = std::exp(logp[(size_t)i * c + j]);
        const int y = lab[i];
        if (y == ignore) continue;
        const double wy = w ? w[y] : 1.0;
        total += (1 - eps) * wy * -logp[(size_t)i * c + y];
        for (int j = 0; j < c; j++) total += eps / c * (w ? w[j] : 1.0) * -logp[(size_t)i * c + j];
        denom += wy;
        r.correct += arg == y;
        for (int j = 0; j < c; j++) dlogp[(size_t)i * c + j] = -(eps / c * (w ? w[j] : 1.0) + (j == y ? (1 - eps) * wy : 0));
    }
    const double D = red == Reduction::MEAN ? denom : 1.0;
    r.loss = total / D;
    for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < c; k++) {
            double g = 0, m = 0;
            if (from_logp) {
                g = dlogp[(size_t)i * c + k];
                m = std::fabs(g);
            } else {
                for (int j = 0; j < c; j++) {
                    const double t = dlogp[(size_t)i * c + j] * ((j == k ? 1.0 : 0.0) - r.probs[(size_t)i * c + k]);
                    g += t;
                    m += std::fabs(t);
                }
            }
            r.grad[(size_t)i * c + k] = g / D;
            r.mag[(size_t)i * c + k] = m / std::fabs(D);
        }
    return r;
}

struct CeCase {
    bool weighted;
    bool ignore_hit;     // some labels equal ignore_index
    int ignore_index;
    float eps;
    Reduction red;
};

static std::string ce_tag(const char * what, int n, int c, const CeCase & k) {
    char t[200];
    std::snprintf(t, sizeof t, "%s n=%d c=%d weight=%s ignore_index=%d%s smoothing=%g %s", what, n, c,
                  k.weighted ? "yes" : "no", k.ignore_index, k.ignore_hit ? "(hit)" : "", k.eps,
                  k.red == Reduction::MEAN ? "mean" : "sum");
    return t;
}

static void test_ce_case(Rng & r, int n, int c, const CeCase & k, bool nll) {
    const std::string tag = ce_tag(nll ? "nll" : "cross-entropy", n, c, k);
    std::vector<float> w = randv(r, c, 1.f);
    for (auto & x : w) x = 0.25f + std::fabs(x) * 2.f;   // class weights in [0.25, 2.25)
    std::vector<int32_t> lab(n);
    for (auto & y : lab) y = r.below(c);
    if (k.ignore_hit) {
        lab[1 % n] = k.ignore_index;
        if (n > 4) lab[n - 2] = k.ignore_index;
    }
    std::vector<float> x = randv(r, (size_t)n * c, 3.f);
    if (nll) {   // log-probabilities as NLLLoss expects
        for (int i = 0; i < n; i++) {
            double mx = -1e30, s = 0;
            for (int j = 0; j < c; j++) mx = std::fmax(mx, x[(size_t)i * c + j]);
            for (int j = 0; j < c; j++) s += std::exp(x[(size_t)i * c + j] - mx);
            for (int j = 0; j < c; j++) x[(size_t)i * c + j] = (float)(x[(size_t)i * c + j] - mx - std::log(s));
        }
    }
    CrossEntropyParams p;
    p.weight = k.weighted ? w.data() : nullptr;
    p.ignore_index = k.ignore_index;
    p.label_smoothing = nll ? 0.f : k.eps;
    p.reduction = k.red;

    std::vector<float> probs((size_t)n * c, NaN);
    float loss = NaN;
    int64_t correct = -1;
    nl_status st = nll ? nll_loss_forward(x.data(), lab.data(), n, c, p, &loss, &correct)
                       : cross_entropy_forward(x.data(), lab.data(), probs.data(), n, c, p, &loss, &correct);
    const CeRef ref = ce_ref(x.data(), lab.data(), n, c, p.weight, k.ignore_index, nll ? 0.0 : (double)k.eps, k.red, nll);
    Cmp cp;
    if (!nll)
        for (size_t i = 0; i < probs.size(); i++) cp.add(probs[i], ref.probs[i], 4 * FLT_EPSILON * ref.probs[i] + 1e-38);
    check(st == NL_STATUS_OK && std::fabs(loss - ref.loss) <= 4 * FLT_EPSILON * std::fabs(ref.loss) + 1e-7 && cp.ok &&
              correct == ref.correct,
          "%s: forward vs naive: status %s, loss %.9g (ref %.9g), correct %lld (ref %lld), probs max err %.3g", tag.c_str(),
          nl_status_code(st), loss, ref.loss, (long long)correct, (long long)ref.correct, cp.max_err);

    // backward, overwrite and accumulate
    std::vector<float> dx((size_t)n * c, NaN), dacc((size_t)n * c);
    for (size_t i = 0; i < dacc.size(); i++) dacc[i] = 0.5f + 0.25f * (float)(i % 3);
    std::vector<float> base = dacc;
    if (nll) {
        nll_loss_backward(lab.data(), dx.data(), n, c, p, false);
        nll_loss_backward(lab.data(), dacc.data(), n, c, p, true);
    } else {
        cross_entropy_backward(probs.data(), lab.data(), dx.data(), n, c, p, false);
        cross_entropy_backward(probs.data(), lab.data(), dacc.data(), n, c, p, true);
    }
    Cmp cd, ca;
    bool ignored_zero = true;
    for (size_t i = 0; i < dx.size(); i++) {
        cd.add(dx[i], ref.grad[i], 8 * FLT_EPSILON * ref.mag[i] + 1e-30);
        ca.add(dacc[i], (double)base[i] + dx[i], FLT_EPSILON * std::fabs((double)base[i] + dx[i]));
        if (lab[i / c] == k.ignore_index) ignored_zero = ignored_zero && dx[i] == 0.f;
    }
    check(cd.ok && ignored_zero, "%s: backward vs chain rule, max abs err %.3g; ignored rows exactly 0: %s", tag.c_str(),
          cd.max_err, ignored_zero ? "yes" : "no");
    check(ca.ok, "%s: backward accumulate=true adds into the buffer (max err %.3g)", tag.c_str(), ca.max_err);

    // finite differences of the kernel's own forward (small n keeps the float loss's rounding noise small)
    std::vector<float> pp((size_t)n * c);
    auto lossfn = [&]() {
        float l = 0.f;
        int64_t kk = 0;
        if (nll)
            nll_loss_forward(x.data(), lab.data(), n, c, p, &l, &kk);
        else
            cross_entropy_forward(x.data(), lab.data(), pp.data(), n, c, p, &l, &kk);
        return (double)l;
    };
    check_fd(tag + ": dx", x.data(), dx.data(), x.size(), {}, lossfn, 1e-2f);
}

static void test_cross_entropy_combos(Rng & r) {
    for (bool nll : {false, true})
        for (bool weighted : {false, true})
            for (int ig : {0, 1, 2})   // 0: ignore_index -100 unused, 1: -100 hit, 2: ignore_index = class 2, hit
                for (float eps : {0.f, 0.1f})
                    for (Reduction red : {Reduction::MEAN, Reduction::SUM}) {
                        if (nll && eps != 0.f) continue;
                        CeCase k{weighted, ig != 0, ig == 2 ? 2 : -100, eps, red};
                        test_ce_case(r, 6, 5, k, nll);
                    }
    // bigger shapes, one row, two classes
    test_ce_case(r, 1, 10, CeCase{true, false, -100, 0.2f, Reduction::MEAN}, false);
    test_ce_case(r, 7, 2, CeCase{true, true, -100, 0.05f, Reduction::SUM}, false);
    test_ce_case(r, 8, 12, CeCase{false, true, 3, 0.1f, Reduction::MEAN}, false);
    test_ce_case(r, 8, 12, CeCase{true, true, 3, 0.f, Reduction::MEAN}, true);
}

// The old mean-only pair must be exactly the general kernel with default parameters.
static void test_ce_wrappers(Rng & r) {
    const int n = 9, c = 7;
    std::vector<float> x = randv(r, (size_t)n * c, 4.f);
    std::vector<int32_t> lab(n);
    for (auto & y : lab) y = r.below(c);
    std::vector<float> p1((size_t)n * c), p2((size_t)n * c), d1((size_t)n * c), d2((size_t)n * c);
    float l1 = 0, l2 = 0;
    int64_t k1 = 0, k2 = 0;
    CrossEntropyParams p;
    nl_status s1 = softmax_cross_entropy_forward(x.data(), lab.data(), p1.data(), n, c, &l1, &k1);
    nl_status s2 = cross_entropy_forward(x.data(), lab.data(), p2.data(), n, c, p, &l2, &k2);
    softmax_cross_entropy_backward(p1.data(), lab.data(), d1.data(), n, c, 1.0f);
    cross_entropy_backward(p2.data(), lab.data(), d2.data(), n, c, p, false);
    check(s1 == NL_STATUS_OK && s2 == NL_STATUS_OK && l1 == l2 && k1 == k2 && p1 == p2 && d1 == d2,
          "softmax_cross_entropy_* == cross_entropy_* with default params, bit for bit");
    // the old entry point has no ignore_index: -100 is a bad label there
    lab[2] = -100;
    s1 = softmax_cross_entropy_forward(x.data(), lab.data(), p1.data(), n, c, &l1, &k1);
    s2 = cross_entropy_forward(x.data(), lab.data(), p2.data(), n, c, p, &l2, &k2);
    check(s1 == NL_STATUS_BAD_LABEL && s2 == NL_STATUS_OK,
          "label -100: softmax_cross_entropy_forward %s, cross_entropy_forward (ignore_index=-100) %s", nl_status_code(s1),
          nl_status_code(s2));
}

static void test_ce_edges(Rng & r) {
    const int n = 4, c = 3;
    std::vector<float> x = randv(r, (size_t)n * c, 2.f), probs((size_t)n * c), d((size_t)n * c, 7.f);
    std::vector<float> w = {0.f, 0.f, 1.f};
    // every row ignored
    {
        std::vector<int32_t> lab(n, -100);
        for (bool smooth : {false, true})
            for (bool weighted : {false, true}) {
                CrossEntropyParams p;
                p.weight = weighted ? w.data() : nullptr;
                p.label_smoothing = smooth ? 0.1f : 0.f;
                float loss = 0;
                int64_t correct = -1;
                nl_status st = cross_entropy_forward(x.data(), lab.data(), probs.data(), n, c, p, &loss, &correct);
                cross_entropy_backward(probs.data(), lab.data(), d.data(), n, c, p, false);
                bool zero = true;
                for (float v : d) zero = zero && v == 0.f;
                float lsum = 0;
                p.reduction = Reduction::SUM;
                cross_entropy_forward(x.data(), lab.data(), probs.data(), n, c, p, &lsum, &correct);
                check(st == NL_STATUS_OK && std::isnan(loss) && zero && lsum == 0.f && correct == 0,
                      "cross-entropy all rows ignored (weight=%d smoothing=%d): mean NaN as torch (%g), grad all 0, sum 0",
                      weighted, smooth, loss);
                float nl = 0;
                std::vector<float> dn((size_t)n * c, 7.f);
                p.reduction = Reduction::MEAN;
                nll_loss_forward(x.data(), lab.data(), n, c, p, &nl, &correct);
                nll_loss_backward(lab.data(), dn.data(), n, c, p, false);
                bool nz = true;
                for (float v : dn) nz = nz && v == 0.f;
                if (!smooth) check(std::isnan(nl) && nz, "nll all rows ignored (weight=%d): mean NaN, grad all 0", weighted);
            }
    }
    // kept rows whose weights sum to 0 (torch: NaN loss, NaN gradient rows, zero on ignored rows)
    {
        std::vector<int32_t> lab = {0, 1, -100, 0};
        CrossEntropyParams p;
        p.weight = w.data();
        float loss = 0;
        int64_t correct = 0;
        cross_entropy_forward(x.data(), lab.data(), probs.data(), n, c, p, &loss, &correct);
        cross_entropy_backward(probs.data(), lab.data(), d.data(), n, c, p, false);
        bool ok = std::isnan(loss) && all_nan(&d[0], 6) && all_nan(&d[9], 3) && d[6] == 0 && d[7] == 0 && d[8] == 0;
        check(ok, "cross-entropy mean with zero total weight: loss NaN, kept rows NaN, ignored row 0 (as torch 1.13)");
        std::vector<float> dn((size_t)n * c, 7.f);
        nll_loss_backward(lab.data(), dn.data(), n, c, p, false);
        ok = std::isnan(dn[0]) && dn[1] == 0 && std::isnan(dn[4]) && dn[3] == 0 && dn[6] == 0 && std::isnan(dn[9]);
        check(ok, "nll mean with zero total weight: NaN only at the label entries of kept rows (as torch 1.13)");
    }
    // BAD_LABEL: nothing written
    struct Bad { int label, ignore; };
    for (Bad b : {Bad{-1, -100}, Bad{3, -100}, Bad{-100, -1}, Bad{1000, 2}}) {
        std::vector<int32_t> lab = {1, 2, b.label, 0};
        CrossEntropyParams p;
        p.ignore_index = b.ignore;
        std::vector<float> pr((size_t)n * c, 42.f);
        float loss = 42.f, nl = 42.f;
        int64_t correct = 42, nc = 42;
        nl_status st = cross_entropy_forward(x.data(), lab.data(), pr.data(), n, c, p, &loss, &correct);
        nl_status sn = nll_loss_forward(x.data(), lab.data(), n, c, p, &nl, &nc);
        bool untouched = loss == 42.f && correct == 42 && nl == 42.f && nc == 42;
        for (float v : pr) untouched = untouched && v == 42.f;
        check(st == NL_STATUS_BAD_LABEL && sn == NL_STATUS_BAD_LABEL && untouched,
              "label %d (c=3, ignore_index=%d): cross-entropy %s, nll %s, outputs untouched: %s", b.label, b.ignore,
              nl_status_code(st), nl_status_code(sn), untouched ? "yes" : "no");
    }
    {
        float l = 0.f, pz = 0.f, loss = 0.f;
        int32_t lab = 0;
        int64_t correct = 0;
        CrossEntropyParams p;
        nl_status st = cross_entropy_forward(&l, &lab, &pz, 0, 1, p, &loss, &correct);
        nl_status sn = nll_loss_forward(&l, &lab, 0, 1, p, &loss, &correct);
        check(st == NL_STATUS_INVALID_ARGUMENT && sn == NL_STATUS_INVALID_ARGUMENT,
              "n=0: cross-entropy %s, nll %s", nl_status_code(st), nl_status_code(sn));
    }
    // correct: ties go to the first index, ignored rows never count
    {
        std::vector<float> l = {2.f, 2.f, 1.f, /**/ 0.f, 5.f, 5.f, /**/ 1.f, 1.f, 1.f, /**/ 3.f, 3.f, 3.f};
        std::vector<int32_t> lab = {0, 2, 0, -100};
        CrossEntropyParams p;
        float loss;
        int64_t correct = -1, nc = -1;
        cross_entropy_forward(l.data(), lab.data(), probs.data(), 4, 3, p, &loss, &correct);
        nll_loss_forward(l.data(), lab.data(), 4, 3, p, &loss, &nc);
        check(correct == 2 && nc == 2, "correct: first index wins ties, ignored rows not counted (%lld, %lld; expected 2)",
              (long long)correct, (long long)nc);
    }
    // large logits stay finite
    {
        std::vector<float> l = {1e4f, -1e4f, 1e4f, 0.f, 3e4f, 3e4f - 1.f, -3e4f, 0.f, -1e4f, -1e4f, -1e4f, -1e4f};
        std::vector<int32_t> lab = {1, 2, 0, 1};
        CrossEntropyParams p;
        p.label_smoothing = 0.1f;
        p.weight = w.data();
        w[0] = 0.5f;
        float loss;
        int64_t correct;
        cross_entropy_forward(l.data(), lab.data(), probs.data(), 4, 3, p, &loss, &correct);
        CeRef ref = ce_ref(l.data(), lab.data(), 4, 3, w.data(), -100, 0.1, Reduction::MEAN, false);
        cross_entropy_backward(probs.data(), lab.data(), d.data(), 4, 3, p, false);
        bool fin = std::isfinite(loss);
        for (float v : d) fin = fin && std::isfinite(v);
        check(fin && std::fabs(loss - ref.loss) <= 1e-6 * std::fabs(ref.loss),
              "cross-entropy logits up to 3e4 with smoothing: finite loss %.9g (ref %.9g) and gradient", loss, ref.loss);
    }
}

// Values from PyTorch 1.13 (float32 CPU): logits_ij = ((7i + 3j) mod 13 - 6) / 2.5, n = 6, c = 4,
// labels {1, 3, -100, 0, 2, 1}, weight {0.5, 2, 1, 1.5}. NLLLoss gets torch.log_softmax of the same logits.
// torch reduces in float32 and we in double, so the match is to a few float ulps, not bitwise.
static void test_ce_torch() {
    const int n = 6, c = 4;
    std::vector<float> x((size_t)n * c), lp((size_t)n * c), probs((size_t)n * c);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) x[(size_t)i * c + j] = (float)(((7 * i + 3 * j) % 13 - 6) / 2.5);
    const std::vector<int32_t> lab = {1, 3, -100, 0, 2, 1};
    const float w[c] = {0.5f, 2.f, 1.f, 1.5f};
    struct Rec { bool weighted; float eps; Reduction red; double want; };
    const Rec ce[] = {
        {false, 0.0f, Reduction::MEAN, 1.8534367084503174}, {false, 0.0f, Reduction::SUM, 9.267183303833008},
        {false, 0.1f, Reduction::MEAN, 1.8934366703033447}, {false, 0.1f, Reduction::SUM, 9.467183113098145},
        {true, 0.0f, Reduction::MEAN, 1.877088189125061},   {true, 0.0f, Reduction::SUM, 13.139616966247559},
        {true, 0.1f, Reduction::MEAN, 1.8691504001617432},  {true, 0.1f, Reduction::SUM, 13.084053039550781},
    };
    for (const Rec & k : ce) {
        CrossEntropyParams p;
        p.weight = k.weighted ? w : nullptr;
        p.label_smoothing = k.eps;
        p.reduction = k.red;
        float loss = NaN;
        int64_t correct;
        cross_entropy_forward(x.data(), lab.data(), probs.data(), n, c, p, &loss, &correct);
        check(std::fabs(loss - k.want) <= 4 * FLT_EPSILON * k.want,
              "torch 1.13 CrossEntropyLoss(weight=%s, label_smoothing=%g, reduction=%s): %.9g (torch %.9g)",
              k.weighted ? "w" : "None", k.eps, k.red == Reduction::MEAN ? "mean" : "sum", loss, k.want);
    }
    const Rec nll[] = {
        {false, 0.f, Reduction::MEAN, 1.8534367084503174}, {false, 0.f, Reduction::SUM, 9.267183303833008},
        {true, 0.f, Reduction::MEAN, 1.877088189125061},   {true, 0.f, Reduction::SUM, 13.139616966247559},
    };
    // log_softmax via the reference (softmax_forward belongs to another kernel file; do not depend on it)
    for (int i = 0; i < n; i++) {
        double mx = -1e30, s = 0;
        for (int j = 0; j < c; j++) mx = std::fmax(mx, x[(size_t)i * c + j]);
        for (int j = 0; j < c; j++) s += std::exp(x[(size_t)i * c + j] - mx);
        for (int j = 0; j < c; j++) lp[(size_t)i * c + j] = (float)(x[(size_t)i * c + j] - mx - std::log(s));
    }
    for (const Rec & k : nll) {
        CrossEntropyParams p;
        p.weight = k.weighted ? w : nullptr;
        p.reduction = k.red;
        float loss = NaN;
        int64_t correct;
        nll_loss_forward(lp.data(), lab.data(), n, c, p, &loss, &correct);
        check(std::fabs(loss - k.want) <= 4 * FLT_EPSILON * k.want, "torch 1.13 NLLLoss(weight=%s, reduction=%s): %.9g (torch %.9g)",
              k.weighted ? "w" : "None", k.red == Reduction::MEAN ? "mean" : "sum", loss, k.want);
    }
}

// ---- point losses ----------------------------------------------------------------------------

static const char * kind_name(PointLoss k) {
    switch (k) {
    case PointLoss::MSE: return "mse";
    case PointLoss::L1: return "l1";
    case PointLoss::SMOOTH_L1: return "smooth_l1";
    case PointLoss::BCE_WITH_LOGITS: return "bce_with_logits";
    }
    return "?";
}

// Naive per-element loss and its partial derivatives (by pred, by target), in double.
static void point_ref(PointLoss kind, double x, double t, double beta, double & l, double & dx, double & dt) {
    const double d = x - t;
    const double sg = d > 0 ? 1 : d < 0 ? -1 : 0;
    switch (kind) {
    case PointLoss::MSE: l = d * d; dx = 2 * d; dt = -dx; return;
    case PointLoss::L1: l = std::fabs(d); dx = sg; dt = -dx; return;
    case PointLoss::SMOOTH_L1:
        if (beta == 0) { l = std::fabs(d); dx = sg; }
        else if (std::fabs(d) < beta) { l = 0.5 * d * d / beta; dx = d / beta; }
        else { l = std::fabs(d) - 0.5 * beta; dx = sg; }
        dt = -dx;
        return;
    case PointLoss::BCE_WITH_LOGITS: {
        // -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], written without cancellation
        const double ls = x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));         // log sigmoid(x)
        const double lsn = x >= 0 ? -x - std::log1p(std::exp(-x)) : -std::log1p(std::exp(x));       // log sigmoid(-x)
        l = -(t * ls + (1 - t) * lsn);
        dx = 1 / (1 + std::exp(-x)) - t;
        dt = lsn - ls;   // = -x
        return;
    }
    }
    l = dx = dt = std::nan("");   // a kind this reference does not know: NaN, so every check on it fails
}

static void test_point_case(Rng & r, PointLoss kind, Reduction red, float beta, size_t n) {
    char tag[128];
    std::snprintf(tag, sizeof tag, "%s%s n=%zu %s", kind_name(kind),
                  kind == PointLoss::SMOOTH_L1 ? (beta == 0 ? "(beta=0)" : beta == 1 ? "(beta=1)" : "(beta=0.5)") : "", n,
                  red == Reduction::MEAN ? "mean" : "sum");
    const bool bce = kind == PointLoss::BCE_WITH_LOGITS;
    std::vector<float> x = randv(r, n, bce ? 6.f : 2.f), t = randv(r, n, 2.f);
    if (bce)
        for (auto & v : t) v = std::fabs(v) * 0.5f;   // targets in [0, 1]
    // keep finite differences off the kinks (|d| = 0 and |d| = beta)
    for (size_t i = 0; i < n; i++) {
        const float d = std::fabs(x[i] - t[i]);
        if (d < 0.05f || std::fabs(d - beta) < 0.05f) x[i] += 0.2f;
    }
    const double b = beta == 0.5f ? 0.5 : beta;
    const double k = red == Reduction::MEAN ? 1.0 / n : 1.0;
    double lref = 0, lmag = 0;
    std::vector<double> gx(n), gt(n);
    for (size_t i = 0; i < n; i++) {
        double l, dx, dt;
        point_ref(kind, x[i], t[i], b, l, dx, dt);
        lref += l * k;
        lmag += std::fabs(l) * k;
        gx[i] = dx * k;
        gt[i] = dt * k;
    }
    const float loss = point_loss_forward(kind, x.data(), t.data(), n, red, beta);
    check(std::fabs(loss - lref) <= 2 * FLT_EPSILON * lmag + 1e-30, "%s: forward vs naive: %.9g (ref %.9g)", tag, loss, lref);

    std::vector<float> dp(n, NaN), dtg(n, NaN), dacc(n, 0.75f), dp_only(n, NaN);
    point_loss_backward(kind, x.data(), t.data(), dp.data(), dtg.data(), n, red, beta, false);
    point_loss_backward(kind, x.data(), t.data(), dacc.data(), nullptr, n, red, beta, true);
    point_loss_backward(kind, x.data(), t.data(), dp_only.data(), nullptr, n, red, beta, false);
    Cmp cx, ct, ca;
    for (size_t i = 0; i < n; i++) {
        cx.add(dp[i], gx[i], FLT_EPSILON * std::fabs(gx[i]) + 1e-30);
        ct.add(dtg[i], gt[i], FLT_EPSILON * std::fabs(gt[i]) + 1e-30);
        ca.add(dacc[i], 0.75 + (double)dp[i], FLT_EPSILON);
    }
    check(cx.ok && ct.ok && ca.ok && dp_only == dp,
          "%s: backward vs naive: dpred max err %.3g, dtarget max err %.3g, accumulate ok: %s, dtarget=null ok", tag,
          cx.max_err, ct.max_err, ca.ok ? "yes" : "no");
    auto lossfn = [&]() { return (double)point_loss_forward(kind, x.data(), t.data(), n, red, beta); };
    check_fd(std::string(tag) + ": dpred", x.data(), dp.data(), n, {}, lossfn, 1e-2f);
    check_fd(std::string(tag) + ": dtarget", t.data(), dtg.data(), n, {}, lossfn, 1e-2f);
}

static void test_point_losses(Rng & r) {
    for (Reduction red : {Reduction::MEAN, Reduction::SUM}) {
        test_point_case(r, PointLoss::MSE, red, 0.f, 13);
        test_point_case(r, PointLoss::L1, red, 0.f, 13);
        for (float beta : {0.f, 0.5f, 1.f}) test_point_case(r, PointLoss::SMOOTH_L1, red, beta, 17);
        test_point_case(r, PointLoss::BCE_WITH_LOGITS, red, 0.f, 13);
    }
    // sign(0) = 0 for L1 and SmoothL1(beta=0); d == 0 gives 0 for MSE and SmoothL1(beta>0)
    {
        const float x[3] = {0.5f, -1.f, 2.f}, t[3] = {0.5f, -1.f, 1.f};
        float d1[3], d2[3], d3[3], t1[3];
        point_loss_backward(PointLoss::L1, x, t, d1, t1, 3, Reduction::SUM, 0.f, false);
        point_loss_backward(PointLoss::SMOOTH_L1, x, t, d2, nullptr, 3, Reduction::SUM, 0.f, false);
        point_loss_backward(PointLoss::SMOOTH_L1, x, t, d3, nullptr, 3, Reduction::SUM, 1.f, false);
        check(d1[0] == 0 && d1[1] == 0 && d1[2] == 1 && t1[0] == 0 && t1[2] == -1 && d2[0] == 0 && d2[2] == 1 && d3[0] == 0 &&
                  d3[2] == 1,
              "l1 / smooth_l1: gradient 0 where pred == target (sign(0) = 0), 1 at |d| == beta");
    }
    // BCEWithLogits at extreme logits: finite, no overflow, exact limits
    {
        const float x[4] = {100.f, -100.f, 1e30f, -1e30f}, t[4] = {1.f, 0.f, 0.f, 1.f};
        const float loss = point_loss_forward(PointLoss::BCE_WITH_LOGITS, x, t, 2, Reduction::SUM, 0.f);
        const float big = point_loss_forward(PointLoss::BCE_WITH_LOGITS, x + 2, t + 2, 2, Reduction::SUM, 0.f);
        float d[4];
        point_loss_backward(PointLoss::BCE_WITH_LOGITS, x, t, d, nullptr, 4, Reduction::SUM, 0.f, false);
        check(loss >= 0 && loss < 1e-40 && big == 2e30f && d[0] == 0 && d[1] >= 0 && d[1] < 1e-40f && d[2] == 1 && d[3] == -1,
              "bce_with_logits: logits +-100 (right side) give loss %g, +-1e30 (wrong side) give %g, gradients ~0 / +-1", loss,
              big);
    }
    // mean over zero elements is 0/0 = NaN, as torch
    {
        float x = 0, t = 0;
        check(std::isnan(point_loss_forward(PointLoss::MSE, &x, &t, 0, Reduction::MEAN, 0.f)) &&
                  point_loss_forward(PointLoss::MSE, &x, &t, 0, Reduction::SUM, 0.f) == 0.f,
              "point loss over 0 elements: mean NaN, sum 0");
    }
    // recorded from PyTorch 1.13: pred_i = ((5i) mod 9 - 4) / 3, target_i = ((3i + 1) mod 7 - 3) / 2.5, i < 10;
    // BCEWithLogits on 4 * pred with targets ((3i + 1) mod 5) / 4
    {
        const size_t N = 10;
        float p[N], t[N], p4[N], tb[N];
        for (size_t i = 0; i < N; i++) {
            p[i] = (float)(((5 * i) % 9 - 4.0) / 3);
            t[i] = (float)(((3 * i + 1) % 7 - 3.0) / 2.5);
            p4[i] = p[i] * 4;
            tb[i] = (float)(((3 * i + 1) % 5) / 4.0);
        }
        struct Rec { const char * name; PointLoss kind; float beta; const float * x; const float * y; double mean, sum; };
        const Rec recs[] = {
            {"MSELoss", PointLoss::MSE, 0.f, p, t, 1.2231111526489258, 12.231111526489258},
            {"L1Loss", PointLoss::L1, 0.f, p, t, 0.8533333539962769, 8.533333778381348},
            {"SmoothL1Loss(beta=0)", PointLoss::SMOOTH_L1, 0.f, p, t, 0.8533333539962769, 8.533333778381348},
            {"SmoothL1Loss(beta=0.5)", PointLoss::SMOOTH_L1, 0.5f, p, t, 0.6455556154251099, 6.4555559158325195},
            {"SmoothL1Loss(beta=1)", PointLoss::SMOOTH_L1, 1.f, p, t, 0.5008889436721802, 5.008889198303223},
            {"BCEWithLogitsLoss", PointLoss::BCE_WITH_LOGITS, 0.f, p4, tb, 2.0346171855926514, 20.346172332763672},
        };
        for (const Rec & k : recs) {
            const float m = point_loss_forward(k.kind, k.x, k.y, N, Reduction::MEAN, k.beta);
            const float s = point_loss_forward(k.kind, k.x, k.y, N, Reduction::SUM, k.beta);
            check(std::fabs(m - k.mean) <= 4 * FLT_EPSILON * k.mean && std::fabs(s - k.sum) <= 4 * FLT_EPSILON * k.sum,
                  "torch 1.13 %s: mean %.9g (torch %.9g), sum %.9g (torch %.9g)", k.name, m, k.mean, s, k.sum);
        }
    }
}

static void test_one_hot() {
    const int32_t lab[4] = {2, 0, -100, 2};
    float y[12];
    std::memset(y, 0x7f, sizeof y);
    one_hot(lab, y, 4, 3);
    const float want[12] = {0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    check(std::memcmp(y, want, sizeof y) == 0, "one_hot: rows of 0/1, a label outside [0, c) gives a zero row");
}

// ---- optimizers ------------------------------------------------------------------------------
// References transcribe torch.optim (1.13, single-tensor) in double, with the hyperparameters as the
// decimal doubles Python would hold.

struct RmsCase {
    double lr, alpha, eps, wd, momentum;
    bool centered, maximize;
};

static void test_rmsprop(Rng & r, const RmsCase & k) {
    const int N = 37, K = 10;
    std::vector<float> p = randv(r, N), sa(N, 0.f), buf(N, 0.f), ga(N, 0.f);
    std::vector<double> pr(p.begin(), p.end()), sar(N, 0), br(N, 0), gar(N, 0);
    RmspropParams hp;
    hp.lr = (float)k.lr;
    hp.alpha = (float)k.alpha;
    hp.eps = (float)k.eps;
    hp.weight_decay = (float)k.wd;
    hp.momentum = (float)k.momentum;
    hp.centered = k.centered;
    hp.maximize = k.maximize;
    double step_mag = 0;
    for (int step = 1; step <= K; step++) {
        std::vector<float> g = randv(r, N, step % 3 == 1 ? 1.f : 0.1f);
        rmsprop_step(p.data(), g.data(), sa.data(), k.momentum > 0 ? buf.data() : nullptr, k.centered ? ga.data() : nullptr,
                     N, hp, step);
        for (int i = 0; i < N; i++) {
            double d = k.maximize ? -(double)g[i] : (double)g[i];
            d += k.wd * pr[i];
            sar[i] = k.alpha * sar[i] + (1 - k.alpha) * d * d;
            double avg;
            if (k.centered) {
                gar[i] = k.alpha * gar[i] + (1 - k.alpha) * d;
                avg = std::sqrt(sar[i] - gar[i] * gar[i]) + k.eps;
            } else {
                avg = std::sqrt(sar[i]) + k.eps;
            }
            double u;
            if (k.momentum > 0) {
                br[i] = k.momentum * br[i] + d / avg;
                u = k.lr * br[i];
            } else {
                u = k.lr * d / avg;
            }
            pr[i] -= u;
            step_mag = std::fmax(step_mag, std::fabs(u));
        }
    }
    Cmp cp, cs, cb, cg;
    double bscale = 0;
    for (int i = 0; i < N; i++) bscale = std::fmax(bscale, std::fabs(br[i]));
    for (int i = 0; i < N; i++) {
        cp.add(p[i], pr[i], 2e-6 * std::fabs(pr[i]) + 1e-5 * step_mag * K);
        cs.add(sa[i], sar[i], 1e-5 * sar[i]);
        if (k.momentum > 0) cb.add(buf[i], br[i], 1e-5 * bscale);
        if (k.centered) cg.add(ga[i], gar[i], 1e-5 * std::fabs(gar[i]) + 1e-7);
    }
    check(cp.ok && cs.ok && cb.ok && cg.ok,
          "rmsprop lr=%g alpha=%g eps=%g wd=%g momentum=%g centered=%d maximize=%d, %d steps: max abs err p %.3g "
          "square_avg %.3g buf %.3g grad_avg %.3g",
          k.lr, k.alpha, k.eps, k.wd, k.momentum, k.centered, k.maximize, K, cp.max_err, cs.max_err, cb.max_err, cg.max_err);
}

struct AdagradCase {
    double lr, lr_decay, wd, eps, init;
    bool maximize;
};

static void test_adagrad(Rng & r, const AdagradCase & k) {
    const int N = 37, K = 10;
    std::vector<float> p = randv(r, N), s(N, (float)k.init);
    std::vector<double> pr(p.begin(), p.end()), sr(N, (double)(float)k.init);
    AdagradParams hp;
    hp.lr = (float)k.lr;
    hp.lr_decay = (float)k.lr_decay;
    hp.weight_decay = (float)k.wd;
    hp.eps = (float)k.eps;
    hp.maximize = k.maximize;
    double step_mag = 0;
    for (int step = 1; step <= K; step++) {
        std::vector<float> g = randv(r, N, step % 3 == 1 ? 1.f : 0.1f);
        if (step == 2) g[3] = 0.f;   // a zero gradient (state_sum may stay 0: eps keeps it finite)
        adagrad_step(p.data(), g.data(), s.data(), N, hp, step);
        const double clr = k.lr / (1 + (step - 1) * k.lr_decay);
        for (int i = 0; i < N; i++) {
            double d = k.maximize ? -(double)g[i] : (double)g[i];
            d += k.wd * pr[i];
            sr[i] += d * d;
            const double u = clr * d / (std::sqrt(sr[i]) + k.eps);
            pr[i] -= u;
            step_mag = std::fmax(step_mag, std::fabs(u));
        }
    }
    Cmp cp, cs;
    for (int i = 0; i < N; i++) {
        cp.add(p[i], pr[i], 2e-6 * std::fabs(pr[i]) + 1e-5 * step_mag * K);
        cs.add(s[i], sr[i], 1e-5 * sr[i] + 1e-30);
    }
    check(cp.ok && cs.ok,
          "adagrad lr=%g lr_decay=%g wd=%g eps=%g initial_accumulator_value=%g maximize=%d, %d steps: max abs err p %.3g "
          "state_sum %.3g",
          k.lr, k.lr_decay, k.wd, k.eps, k.init, k.maximize, K, cp.max_err, cs.max_err);
}

// Values recorded from PyTorch 1.13 (CPU, foreach=False), five steps on 11 inputs (8 vector lanes +
// 3 scalar tail elements in torch's AVX2 kernels): p_i = (i - 5) / 3, g_k,i = ((5i + 3k) mod 11 - 5) / 7,
// each rounded from double to float. The kernels must reproduce them bit for bit.
static void test_optim_golden() {
    const int N = 11, K = 5;
    auto run = [&](const char * name, const std::function<void(float *, const float *, int)> & step_fn,
                   const float (&want)[N]) {
        const int mism = golden_mismatches(
            K, [](int i) { return (i - 5) / 3.0; }, [](int64_t k, int i) { return ((i * 5 + k * 3) % 11 - 5) / 7.0; }, step_fn, want);
        check(mism == 0, "golden %s: 5 steps match PyTorch 1.13 bit for bit (%d of %d differ)", name, mism, N);
    };
    {
        std::vector<float> sa(N, 0.f);
        RmspropParams hp;
        hp.lr = 1e-2f;
        const float want[N] = {-0x1.8e543cp+0f, -0x1.54bddcp+0f, -0x1.088ab8p+0f, -0x1.660cc2p-1f,
                               -0x1.c4df54p-2f, 0x1.99be3ep-5f,  0x1.1fdd34p-2f,  0x1.9a69dep-1f,
                               0x1.9f96aap-1f,  0x1.61609ep+0f,  0x1.861f48p+0f};
        run("RMSprop(lr=1e-2)",
            [&](float * p, const float * g, int s) { rmsprop_step(p, g, sa.data(), nullptr, nullptr, N, hp, s); }, want);
    }
    {
        std::vector<float> sa(N, 0.f), buf(N, 0.f), ga(N, 0.f);
        RmspropParams hp;
        hp.lr = 1e-2f;
        hp.alpha = 0.9f;
        hp.eps = 1e-6f;
        hp.weight_decay = 1e-2f;
        hp.momentum = 0.9f;
        hp.centered = true;
        const float want[N] = {-0x1.8486dp+0f,  -0x1.37dcbep+0f, -0x1.15bc2cp+0f, -0x1.5cb61cp-1f,
                               -0x1.ac781p-2f,  0x1.b76b5ap-5f,  0x1.2a8668p-2f,  0x1.9740b8p-1f,
                               0x1.8eac4ep-1f,  0x1.6b67f6p+0f,  0x1.7941acp+0f};
        run("RMSprop(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=1e-2, momentum=0.9, centered=True)",
            [&](float * p, const float * g, int s) { rmsprop_step(p, g, sa.data(), buf.data(), ga.data(), N, hp, s); },
            want);
    }
    {
        std::vector<float> sa(N, 0.f), buf(N, 0.f);
        RmspropParams hp;
        hp.lr = 1e-3f;
        hp.momentum = 0.5f;
        hp.maximize = true;
        const float want[N] = {-0x1.af9ed2p+0f, -0x1.5537fep+0f, -0x1.fa9f04p-1f, -0x1.522d5cp-1f,
                               -0x1.46936p-2f,  -0x1.d71dd2p-8f, 0x1.5ae8d4p-2f,  0x1.4a64e2p-1f,
                               0x1.085d02p+0f,  0x1.52fa12p+0f,  0x1.b15548p+0f};
        run("RMSprop(lr=1e-3, momentum=0.5, maximize=True)",
            [&](float * p, const float * g, int s) { rmsprop_step(p, g, sa.data(), buf.data(), nullptr, N, hp, s); }, want);
    }
    {
        std::vector<float> sa(N, 0.f), ga(N, 0.f);
        RmspropParams hp;
        hp.lr = 3e-3f;
        hp.alpha = 0.95f;
        hp.centered = true;
        hp.weight_decay = 0.1f;
        const float want[N] = {-0x1.a4a7eap+0f, -0x1.503cc2p+0f, -0x1.ff6f8cp-1f, -0x1.552d4cp-1f,
                               -0x1.6338ecp-2f, 0x1.c2158cp-8f,  0x1.4bc762p-2f,  0x1.5c3e94p-1f,
                               0x1.f083fcp-1f,  0x1.5492ap+0f,   0x1.a3aafap+0f};
        run("RMSprop(lr=3e-3, alpha=0.95, centered=True, weight_decay=0.1)",
            [&](float * p, const float * g, int s) { rmsprop_step(p, g, sa.data(), nullptr, ga.data(), N, hp, s); }, want);
    }
    {
        std::vector<float> ss(N, 0.f);
        AdagradParams hp;
        hp.lr = 1e-2f;
        const float want[N] = {-0x1.a7d524p+0f, -0x1.55470cp+0f, -0x1.00dca4p+0f, -0x1.5701d4p-1f,
                               -0x1.606b56p-2f, 0x1.478126p-8f,  0x1.50089cp-2f,  0x1.5c3b06p-1f,
                               0x1.f660ap-1f,   0x1.568b96p+0f,  0x1.a7039ep+0f};
        run("Adagrad(lr=1e-2)", [&](float * p, const float * g, int s) { adagrad_step(p, g, ss.data(), N, hp, s); }, want);
    }
    {
        std::vector<float> ss(N, 0.1f);
        AdagradParams hp;
        hp.lr = 0.1f;
        hp.lr_decay = 1e-2f;
        hp.weight_decay = 1e-2f;
        hp.eps = 1e-8f;
        hp.maximize = true;
        const float want[N] = {-0x1.c2daf4p+0f, -0x1.56b248p+0f, -0x1.eee442p-1f, -0x1.340a3ap-1f,
                               -0x1.e553dp-3f,  -0x1.0e9be8p-5f, 0x1.783bbap-2f,  0x1.187766p-1f,
                               0x1.2480e6p+0f,  0x1.49ba0ap+0f,  0x1.bb8abep+0f};
        run("Adagrad(lr=0.1, lr_decay=1e-2, weight_decay=1e-2, eps=1e-8, initial_accumulator_value=0.1, maximize=True)",
            [&](float * p, const float * g, int s) { adagrad_step(p, g, ss.data(), N, hp, s); }, want);
    }
}

// ---- gradient clipping helpers -----------------------------------------------------------------

static void test_clip(Rng & r) {
    {
        std::vector<float> g = randv(r, 1001, 3.f);
        double want = 0;
        for (float v : g) want += (double)v * v;
        const double got = sum_squares(g.data(), g.size());
        check(std::fabs(got - want) <= 1e-14 * want, "sum_squares: 1001 values, %.17g (naive %.17g)", got, want);
        check(sum_squares(g.data(), 0) == 0.0 && sum_squares(g.data(), 3) == (double)g[0] * g[0] + (double)g[1] * g[1] + (double)g[2] * g[2],
              "sum_squares: 0 values -> 0, 3 values exact");
        std::vector<float> h = g;
        scale_inplace(h.data(), h.size(), 0.37f);
        bool ok = true;
        for (size_t i = 0; i < g.size(); i++) ok = ok && h[i] == g[i] * 0.37f;
        check(ok, "scale_inplace: g[i] * s, a float multiply");
    }
    // clip_grad_norm_(max_norm=1) as the engine composes it, against PyTorch 1.13:
    // a.grad_i = ((5i) mod 11 - 5) / 7 (i < 11), b.grad = {0.5, -1.25, 2}
    {
        const int N = 11;
        float a[N], b[3] = {0.5f, -1.25f, 2.f};
        for (int i = 0; i < N; i++) a[i] = (float)(((5 * i) % 11 - 5) / 7.0);
        const double total = std::sqrt(sum_squares(a, N) + sum_squares(b, 3));
        const double coef = 1.0 / (total + 1e-6);
        if (coef < 1) {
            scale_inplace(a, N, (float)coef);
            scale_inplace(b, 3, (float)coef);
        }
        const float want_total = 0x1.6b55ccp+1f;
        const float want_a[N] = {-0x1.01ad1cp-2f, 0x0p+0f,        0x1.01ad1cp-2f, -0x1.9c482ep-5f, 0x1.9c482ep-3f, -0x1.9c482ep-4f,
                                 0x1.353622p-3f,  -0x1.353622p-3f, 0x1.9c482ep-4f, -0x1.9c482ep-3f, 0x1.9c482ep-5f};
        const float want_b[3] = {0x1.68bf28p-3f, -0x1.c2eef2p-2f, 0x1.68bf28p-1f};
        Cmp c;
        for (int i = 0; i < N; i++) c.add(a[i], want_a[i], 2 * FLT_EPSILON * std::fabs(want_a[i]));
        for (int i = 0; i < 3; i++) c.add(b[i], want_b[i], 2 * FLT_EPSILON * std::fabs(want_b[i]));
        check(std::fabs(total - want_total) <= 2 * FLT_EPSILON * want_total && c.ok,
              "clip_grad_norm_(max_norm=1) composition vs torch 1.13: total %.9g (torch %.9g), grads within 2 ulp (max err %.3g)",
              total, (double)want_total, c.max_err);
    }
}

// ---- step checks: *_step_check agrees with *_step ------------------------------------------------
// The runtime refuses a step that would leave a weight or optimizer state non-finite by running the
// kernel's check mode first. Over random inputs, some with one value near FLT_MAX or a huge
// learning rate, the check must predict exactly the non-finite bits the step then writes, and write
// nothing itself.

// The StepNonFinite bits of what a step left in `w` (weights) and `st` (state arrays).
static unsigned nonfinite_bits(const std::vector<float> & w, const std::vector<std::vector<float>> & st) {
    unsigned b = 0;
    for (float x : w) b |= std::isfinite(x) ? 0u : (std::isnan(x) ? NF_WEIGHTS | NF_WEIGHTS_NAN : NF_WEIGHTS);
    for (const auto & a : st)
        for (float x : a) b |= std::isfinite(x) ? 0u : (std::isnan(x) ? NF_STATE | NF_STATE_NAN : NF_STATE);
    return b;
}

// One random case of `n` values: weights, gradient and `states` state arrays (non-negative where
// `positive`, e.g. Adam's v), ordinary values with, in most trials, one extreme at a random place.
struct StepCase {
    std::vector<float> p, g;
    std::vector<std::vector<float>> st;
};
static StepCase step_case(Rng & r, size_t n, int states, int trial) {
    StepCase c;
    c.p = randv(r, n, 1.f);
    c.g = randv(r, n, 1.f);
    for (int k = 0; k < states; k++) {
        std::vector<float> a = randv(r, n, 1.f);
        for (float & x : a) x = std::fabs(x);   // every state here may be a square average
        c.st.push_back(a);
    }
    if (trial % 4 != 0) {   // one extreme: a huge gradient, weight or state value
        const size_t i = (size_t)r.below((int)n);
        // 2^60 .. 2^126, or within a factor 2 of FLT_MAX
        const float big = r.below(2) ? std::ldexp(1.f, 60 + r.below(67)) : FLT_MAX * r.uniform(0.5f, 1.f);
        const float sign = r.uniform() < 0 ? -1.f : 1.f;
        switch (trial % 4) {
            case 1: c.g[i] = sign * big; break;
            case 2:   // a weight near the edge, pushed outwards by its gradient
                c.p[i] = sign * big;
                c.g[i] = -sign * FLT_MAX * r.uniform(0.5f, 1.f);
                break;
            default: if (states) c.st[0][i] = big; else c.g[i] = sign * big; break;
        }
    }
    return c;
}

// Runs check(c) on a copy, then step(c) on another; the check's bits must equal what the step wrote
// and the check must leave its inputs untouched.
static void check_step_agrees(const char * what, Rng & r, int states, const std::function<unsigned(StepCase &)> & check_fn,
                              const std::function<void(StepCase &)> & step_fn) {
    int agree = 0, untouched = 0, refused = 0;
    const int trials = 400;
    for (int t = 0; t < trials; t++) {
        const size_t n = 1 + (size_t)r.below(200);
        StepCase c = step_case(r, n, states, t);
        StepCase checked = c, stepped = c;
        const unsigned predicted = check_fn(checked);
        step_fn(stepped);
        const unsigned got = nonfinite_bits(stepped.p, stepped.st);
        agree += predicted == got;
        refused += predicted != 0;
        bool same = std::memcmp(checked.p.data(), c.p.data(), n * 4) == 0 && std::memcmp(checked.g.data(), c.g.data(), n * 4) == 0;
        for (int k = 0; k < states; k++) same = same && std::memcmp(checked.st[k].data(), c.st[k].data(), n * 4) == 0;
        untouched += same;
    }
    check(agree == trials && untouched == trials && refused > 0,
          "%s: the check predicts the step's non-finite values in %d of %d trials (%d refused), writes nothing in %d", what, agree,
          trials, refused, untouched);
}

static void test_step_checks(Rng & r) {
    for (int variant = 0; variant < 3; variant++) {
        SgdParams hp;
        hp.lr = variant == 2 ? 1e30f : 0.1f;
        hp.momentum = variant ? 0.9f : 0.f;
        hp.weight_decay = variant == 1 ? 0.01f : 0.f;
        hp.nesterov = variant == 1;
        const int st = variant ? 1 : 0;
        const int64_t step = 2;
        const char * names[3] = {"sgd_step_check (plain)", "sgd_step_check (momentum, nesterov, weight decay)", "sgd_step_check (momentum, lr 1e30)"};
        check_step_agrees(names[variant], r, st,
                          [&](StepCase & c) { return sgd_step_check(c.p.data(), c.g.data(), st ? c.st[0].data() : nullptr, c.p.size(), hp, step); },
                          [&](StepCase & c) { sgd_step(c.p.data(), c.g.data(), st ? c.st[0].data() : nullptr, c.p.size(), hp, step); });
    }
    for (int variant = 0; variant < 3; variant++) {
        AdamParams hp;
        hp.lr = variant == 2 ? 1e38f : 1e-3f;
        hp.amsgrad = variant == 1;
        hp.decoupled_weight_decay = variant == 1;
        hp.weight_decay = variant == 1 ? 0.01f : 0.f;
        const int st = 3;   // v first (the state the extremes go to), then m, vmax
        const char * names[3] = {"adam_step_check", "adam_step_check (AdamW, amsgrad)", "adam_step_check (lr 1e38)"};
        check_step_agrees(names[variant], r, st,
                          [&](StepCase & c) {
                              return adam_step_check(c.p.data(), c.g.data(), c.st[1].data(), c.st[0].data(), hp.amsgrad ? c.st[2].data() : nullptr,
                                                     c.p.size(), hp, 3);
                          },
                          [&](StepCase & c) {
                              adam_step(c.p.data(), c.g.data(), c.st[1].data(), c.st[0].data(), hp.amsgrad ? c.st[2].data() : nullptr, c.p.size(), hp, 3);
                          });
    }
    {
        RmspropParams hp;
        hp.momentum = 0.9f;
        hp.centered = true;
        check_step_agrees("rmsprop_step_check (centered, momentum)", r, 3,
                          [&](StepCase & c) {
                              return rmsprop_step_check(c.p.data(), c.g.data(), c.st[0].data(), c.st[1].data(), c.st[2].data(), c.p.size(), hp, 2);
                          },
                          [&](StepCase & c) { rmsprop_step(c.p.data(), c.g.data(), c.st[0].data(), c.st[1].data(), c.st[2].data(), c.p.size(), hp, 2); });
    }
    {
        AdagradParams hp;
        hp.weight_decay = 0.1f;
        check_step_agrees("adagrad_step_check", r, 1,
                          [&](StepCase & c) { return adagrad_step_check(c.p.data(), c.g.data(), c.st[0].data(), c.p.size(), hp, 2); },
                          [&](StepCase & c) { adagrad_step(c.p.data(), c.g.data(), c.st[0].data(), c.p.size(), hp, 2); });
    }
}

// ---- step bounds: whenever *_step_bounded vouches for a step, the exact check agrees ------------
// The runtime skips the exact check when the bound proves a step finite, from max |value| of the
// gradient, the weights and each state. Over random steps whose arrays and hyper-parameters span
// many orders of magnitude (so a good share land near the bound's limit, FLT_MAX / 4, and past
// FLT_MAX), every case the bound calls safe must have an exact check of 0 and a step that writes
// only finite values; the exact check must measure exactly the maxima the step wrote (StepStats:
// and, for v and the other square averages, whether a value was negative); and the bound's `after`
// (what the runtime hands on as the next step's input) must cover them.

// max |x| over arrays, and whether none is negative (as StepStats records them).
static double max_abs(const std::vector<float> & a) {
    double m = 0;
    for (float x : a) m = std::max(m, (double)std::fabs(x));
    return m;
}
static bool none_negative(const std::vector<float> & a) {
    for (float x : a)
        if (std::signbit(x)) return false;
    return true;
}
// A random array of n values of magnitude up to 2^e for a random e in [-30, 127], non-negative
// where `nonneg` (a square average), else of either sign; a quarter of them all zero.
static std::vector<float> wide(Rng & r, size_t n, bool nonneg) {
    std::vector<float> a = randv(r, n, 1.f);
    if (r.below(4) == 0) return std::vector<float>(n, 0.f);
    const int e = -30 + r.below(158);
    for (float & x : a) x = std::ldexp(nonneg ? std::fabs(x) : x, e);
    return a;
}
// A hyper-parameter: usually an ordinary value, sometimes a wide one of either sign.
static float wide_hyper(Rng & r, float ordinary) {
    switch (r.below(4)) {
        case 0: return std::ldexp(r.uniform(0.5f, 1.f), -40 + r.below(170)) * (r.below(3) ? 1.f : -1.f);
        case 1: return 0.f;
        default: return ordinary;
    }
}

struct BoundTally {
    int safe = 0, unsafe = 0, agree = 0, stats_ok = 0, after_ok = 0, near_edge = 0;
};
// One case, with `in` the StepBounds of the actual arrays (what the runtime would know): if the
// bound says safe, the step must write only finite values, the exact check must return 0 and
// measure exactly the maxima the step wrote (StepStats), and the bound's `after` must be at least
// those maxima (its non-negative claims true; a slot the step does not write left as it was).
// states[k] is state slot k + 1; `used` marks the slots the step writes.
static void bound_case(BoundTally & t, const std::vector<float> & p, const std::vector<std::vector<float>> & states, const StepBounds & in,
                       const std::function<bool(StepBounds *)> & bounded, const std::function<unsigned(StepStats *)> & exact,
                       const std::function<void(std::vector<float> &, std::vector<std::vector<float>> &)> & step, unsigned used) {
    StepBounds after;
    if (!bounded(&after)) {
        t.unsafe++;
        return;
    }
    t.safe++;
    std::vector<float> p2 = p;
    std::vector<std::vector<float>> s2 = states;
    step(p2, s2);
    StepStats st;
    const unsigned bits = exact(&st);
    bool finite = nonfinite_bits(p2, {}) == 0;
    double largest = max_abs(p2);
    // What StepStats must say of an array: max |x|'s bits, or for a raw slot those bits when no
    // value is negative and anything above FLT_MAX's bits when one is.
    auto stats_say = [&](int k, const std::vector<float> & a) {
        const float f = (float)max_abs(a);
        uint32_t u;
        std::memcpy(&u, &f, 4);
        if ((st.raw >> k & 1u) && !none_negative(a)) return st.max_bits[k] > 0x7f7fffffu;
        return st.max_bits[k] == u;
    };
    bool stats = st.written == used && stats_say(0, p2);
    bool covers = after.param >= max_abs(p2);
    for (size_t k = 0; k < s2.size(); k++) {
        if (!(used >> (k + 1) & 1u)) {
            covers = covers && after.state[k] == in.state[k] && after.state_nonneg[k] == in.state_nonneg[k];
            continue;
        }
        finite = finite && nonfinite_bits(s2[k], {}) == 0;
        largest = std::max(largest, max_abs(s2[k]));
        stats = stats && stats_say((int)k + 1, s2[k]);
        covers = covers && after.state[k] >= max_abs(s2[k]) && (!after.state_nonneg[k] || none_negative(s2[k]));
    }
    t.agree += bits == 0 && finite;
    t.stats_ok += stats;
    t.after_ok += covers;
    t.near_edge += largest > 1e36;
}
static void report(const char * what, const BoundTally & t) {
    check(t.agree == t.safe && t.stats_ok == t.safe && t.after_ok == t.safe && t.safe >= 50 && t.unsafe >= 50 && t.near_edge >= 5,
          "%s: the bound called %d steps safe (%d of them writing a value > 1e36) and %d not; the exact check and the step agree "
          "on %d safe ones, the check's stats are exact on %d, the bound's `after` covers what was written on %d",
          what, t.safe, t.near_edge, t.unsafe, t.agree, t.stats_ok, t.after_ok);
}

static void test_step_bounds(Rng & r) {
    const int trials = 3000;
    {
        BoundTally t;
        for (int i = 0; i < trials; i++) {
            const size_t n = 1 + (size_t)r.below(40);
            SgdParams hp;
            hp.lr = wide_hyper(r, 0.1f);
            hp.momentum = r.below(3) ? wide_hyper(r, 0.9f) : 0.f;
            hp.dampening = wide_hyper(r, 0.f);
            hp.weight_decay = wide_hyper(r, 1e-4f);
            hp.nesterov = r.below(2);
            hp.maximize = r.below(2);
            const bool has_buf = r.below(4) != 0;
            const int64_t step = 1 + r.below(3);
            std::vector<float> p = wide(r, n, false), g = wide(r, n, false);
            std::vector<std::vector<float>> st = {wide(r, n, false)};
            StepBounds b;
            b.grad = max_abs(g), b.param = max_abs(p), b.state[0] = max_abs(st[0]);
            const bool used_buf = has_buf && hp.momentum != 0.f;
            bound_case(
                t, p, st, b, [&](StepBounds * after) { return sgd_step_bounded(hp, has_buf, step, b, after); },
                [&](StepStats * ss) { return sgd_step_check(p.data(), g.data(), has_buf ? st[0].data() : nullptr, n, hp, step, ss); },
                [&](std::vector<float> & p2, std::vector<std::vector<float>> & s2) {
                    sgd_step(p2.data(), g.data(), has_buf ? s2[0].data() : nullptr, n, hp, step);
                },
                1u | (used_buf ? 2u : 0u));
        }
        report("sgd_step_bounded", t);
    }
    {
        BoundTally t;
        for (int i = 0; i < trials; i++) {
            const size_t n = 1 + (size_t)r.below(40);
            AdamParams hp;
            hp.lr = wide_hyper(r, 1e-3f);
            hp.beta1 = wide_hyper(r, 0.9f);
            hp.beta2 = r.below(4) ? 0.999f : wide_hyper(r, 0.99f);
            hp.eps = r.below(3) ? 1e-8f : wide_hyper(r, 1e-8f);
            hp.weight_decay = wide_hyper(r, 0.01f);
            hp.amsgrad = r.below(2);
            hp.maximize = r.below(2);
            hp.decoupled_weight_decay = r.below(2);
            const int64_t step = 1 + r.below(5);
            std::vector<float> p = wide(r, n, false), g = wide(r, n, false);
            // v and vmax usually non-negative (as steps leave them), sometimes not (a checkpoint).
            std::vector<std::vector<float>> st = {wide(r, n, false), wide(r, n, r.below(4) != 0), wide(r, n, r.below(4) != 0)};
            StepBounds b;
            b.grad = max_abs(g), b.param = max_abs(p);
            for (int k = 0; k < 3; k++) b.state[k] = max_abs(st[k]), b.state_nonneg[k] = none_negative(st[k]);
            bound_case(
                t, p, st, b, [&](StepBounds * after) { return adam_step_bounded(hp, true, step, b, after); },
                [&](StepStats * ss) { return adam_step_check(p.data(), g.data(), st[0].data(), st[1].data(), st[2].data(), n, hp, step, ss); },
                [&](std::vector<float> & p2, std::vector<std::vector<float>> & s2) {
                    adam_step(p2.data(), g.data(), s2[0].data(), s2[1].data(), s2[2].data(), n, hp, step);
                },
                hp.amsgrad ? 15u : 7u);
        }
        report("adam_step_bounded", t);
    }
    {
        BoundTally t;
        for (int i = 0; i < trials; i++) {
            const size_t n = 1 + (size_t)r.below(40);
            RmspropParams hp;
            hp.lr = wide_hyper(r, 1e-2f);
            hp.alpha = r.below(4) ? 0.99f : wide_hyper(r, 0.9f);
            hp.eps = r.below(3) ? 1e-8f : wide_hyper(r, 1e-8f);
            hp.weight_decay = wide_hyper(r, 0.01f);
            hp.momentum = r.below(2) ? wide_hyper(r, 0.9f) : 0.f;
            hp.centered = r.below(4) == 0;
            hp.maximize = r.below(2);
            std::vector<float> p = wide(r, n, false), g = wide(r, n, false);
            std::vector<std::vector<float>> st = {wide(r, n, r.below(4) != 0), wide(r, n, false), wide(r, n, false)};
            StepBounds b;
            b.grad = max_abs(g), b.param = max_abs(p);
            for (int k = 0; k < 3; k++) b.state[k] = max_abs(st[k]), b.state_nonneg[k] = none_negative(st[k]);
            const bool mom = hp.momentum > 0.f;
            bound_case(
                t, p, st, b, [&](StepBounds * after) { return rmsprop_step_bounded(hp, true, true, 1, b, after); },
                [&](StepStats * ss) { return rmsprop_step_check(p.data(), g.data(), st[0].data(), st[1].data(), st[2].data(), n, hp, 1, ss); },
                [&](std::vector<float> & p2, std::vector<std::vector<float>> & s2) {
                    rmsprop_step(p2.data(), g.data(), s2[0].data(), s2[1].data(), s2[2].data(), n, hp, 1);
                },
                3u | (mom ? 4u : 0u) | (hp.centered ? 8u : 0u));
        }
        report("rmsprop_step_bounded", t);
    }
    {
        BoundTally t;
        for (int i = 0; i < trials; i++) {
            const size_t n = 1 + (size_t)r.below(40);
            AdagradParams hp;
            hp.lr = wide_hyper(r, 1e-2f);
            hp.lr_decay = wide_hyper(r, 0.f);
            hp.eps = r.below(3) ? 1e-10f : wide_hyper(r, 1e-10f);
            hp.weight_decay = wide_hyper(r, 0.f);
            hp.maximize = r.below(2);
            const int64_t step = 1 + r.below(5);
            std::vector<float> p = wide(r, n, false), g = wide(r, n, false);
            std::vector<std::vector<float>> st = {wide(r, n, r.below(4) != 0)};
            StepBounds b;
            b.grad = max_abs(g), b.param = max_abs(p), b.state[0] = max_abs(st[0]), b.state_nonneg[0] = none_negative(st[0]);
            bound_case(
                t, p, st, b, [&](StepBounds * after) { return adagrad_step_bounded(hp, step, b, after); },
                [&](StepStats * ss) { return adagrad_step_check(p.data(), g.data(), st[0].data(), n, hp, step, ss); },
                [&](std::vector<float> & p2, std::vector<std::vector<float>> & s2) { adagrad_step(p2.data(), g.data(), s2[0].data(), n, hp, step); },
                3u);
        }
        report("adagrad_step_bounded", t);
    }
}

// ---- main ------------------------------------------------------------------------------------

int main() {
    Rng r(20240612);

    test_cross_entropy_combos(r);
    test_ce_wrappers(r);
    test_ce_edges(r);
    test_ce_torch();

    test_point_losses(r);
    test_one_hot();

    const RmsCase rms_cases[] = {
        {1e-2, 0.99, 1e-8, 0, 0, false, false},    {1e-2, 0.9, 1e-6, 1e-2, 0, false, true},
        {1e-3, 0.99, 1e-8, 0, 0.9, false, false},  {1e-3, 0.99, 1e-8, 0, 0, true, false},
        {5e-3, 0.95, 1e-8, 0.1, 0.5, true, true},  {1e-2, 0.99, 0.1, 0, 0.9, true, false},
    };
    for (const auto & k : rms_cases) test_rmsprop(r, k);
    const AdagradCase ada_cases[] = {
        {1e-2, 0, 0, 1e-10, 0, false},  {0.1, 1e-2, 0, 1e-10, 0, false}, {0.1, 0, 1e-2, 1e-8, 0.1, true},
        {0.05, 0.5, 0.1, 1e-6, 1.0, false},
    };
    for (const auto & k : ada_cases) test_adagrad(r, k);
    test_optim_golden();

    test_clip(r);
    test_step_checks(r);
    test_step_bounds(r);

    return finish();
}
