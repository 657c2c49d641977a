// CPU kernel tests (native/core/kernels.h): every forward against a naive double-precision loop
// written here, every backward against the naive loop AND central finite differences of the
// kernel's own forward, and the optimizers against a double-precision transcription of
// torch.optim's algorithm over several steps (plus a few values recorded from PyTorch 1.13 that
// must match bit for bit; test/parity/gen_native_goldens.py prints them, native-goldens.test.ts compares).
//
// Plain program, no framework: one line per check, a final "N passed, M failed" line, and a
// non-zero exit status on any failure. Inputs are drawn from a fixed-seed generator in
// well-conditioned ranges (uniform in [-1, 1), weights scaled by 1/sqrt(fan_in)).
#include "kernels.h"
#include "threadpool.h"
#include "test-util.h"
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <limits>
#include <vector>

using namespace nl;
using namespace nltest;

static std::vector<size_t> sample_coords(Rng & r, size_t count, size_t k) {
    std::vector<size_t> c;
    if (count <= k) return c;  // empty = all
    for (size_t i = 0; i < k; i++) c.push_back((size_t)(r.next() % count));
    return c;
}

static double dot_weighted(const float * y, const std::vector<float> & r) {
    double s = 0;
    for (size_t i = 0; i < r.size(); i++) s += (double)y[i] * r[i];
    return s;
}

// ---- linear ----------------------------------------------------------------------------------

static void linear_ref(const float * x, const float * w, const float * b, int n, int in, int out,
                       std::vector<double> & y, std::vector<double> & mag) {
    y.assign((size_t)n * out, 0);
    mag.assign((size_t)n * out, 0);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0, m = b ? std::fabs(b[o]) : 0.0;
            for (int64_t k = 0; k < in; k++) {
                double t = (double)x[(size_t)i * in + k] * w[(size_t)o * in + k];
                s += t;
                m += std::fabs(t);
            }
            y[(size_t)i * out + o] = s;
            mag[(size_t)i * out + o] = m;
        }
}

static void test_linear(ThreadPool * pool, Rng & r, int n, int in, int out, bool has_bias) {
    char tag[96];
    std::snprintf(tag, sizeof tag, "linear n=%d in=%d out=%d %s", n, in, out, has_bias ? "bias" : "no-bias");
    const bool big = (size_t)n * in * out > 100000;

    std::vector<float> x = randv(r, (size_t)n * in), w = randv(r, (size_t)out * in, 1.f / std::sqrt((float)in)),
                       b = randv(r, out, 0.5f);
    const float * bp = has_bias ? b.data() : nullptr;
    std::vector<float> y((size_t)n * out, NaN);

    // forward vs naive; rigorous float bound: (in + 2) * eps * sum |terms|
    linear_forward(pool, x.data(), w.data(), bp, y.data(), n, in, out);
    std::vector<double> yref, mag;
    linear_ref(x.data(), w.data(), bp, n, in, out, yref, mag);
    Cmp cf;
    for (size_t i = 0; i < y.size(); i++) cf.add(y[i], yref[i], (in + 2) * FLT_EPSILON * mag[i] + 1e-30);
    check(cf.ok, "%s: forward vs naive, max abs err %.3g", tag, cf.max_err);

    // backward vs naive, accumulate_dx false (outputs pre-filled with NaN: must be overwritten) and true
    std::vector<float> dy = randv(r, (size_t)n * out);
    std::vector<double> dx_ref((size_t)n * in, 0), dw_ref((size_t)out * in, 0), db_ref(out, 0);
    std::vector<double> dx_mag((size_t)n * in, 0), dw_mag((size_t)out * in, 0), db_mag(out, 0);
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            const double g = dy[(size_t)i * out + o];
            db_ref[o] += g;
            db_mag[o] += std::fabs(g);
            for (int64_t k = 0; k < in; k++) {
                dx_ref[(size_t)i * in + k] += g * w[(size_t)o * in + k];
                dx_mag[(size_t)i * in + k] += std::fabs(g * w[(size_t)o * in + k]);
                dw_ref[(size_t)o * in + k] += g * x[(size_t)i * in + k];
                dw_mag[(size_t)o * in + k] += std::fabs(g * x[(size_t)i * in + k]);
            }
        }
    for (int acc = 0; acc < 2; acc++) {
        std::vector<float> prior = randv(r, (size_t)n * in);
        std::vector<float> dx = acc ? prior : std::vector<float>((size_t)n * in, NaN);
        std::vector<float> dw((size_t)out * in, NaN), db(out, NaN);
        linear_backward(pool, dy.data(), x.data(), w.data(), dx.data(), dw.data(), has_bias ? db.data() : nullptr,
                        n, in, out, acc != 0);
        Cmp cx, cw, cb;
        for (size_t i = 0; i < dx.size(); i++)
            cx.add(dx[i], dx_ref[i] + (acc ? prior[i] : 0.0), (out + 3) * FLT_EPSILON * (dx_mag[i] + std::fabs(prior[i])) + 1e-30);
        for (size_t i = 0; i < dw.size(); i++) cw.add(dw[i], dw_ref[i], (n + 2) * FLT_EPSILON * dw_mag[i] + 1e-30);
        if (has_bias)
            for (int o = 0; o < out; o++) cb.add(db[o], db_ref[o], (n + 2) * FLT_EPSILON * db_mag[o] + 1e-30);
        check(cx.ok && cw.ok && cb.ok, "%s: backward vs naive, accumulate_dx=%s, max abs err dx %.3g dw %.3g db %.3g", tag,
              acc ? "true" : "false", cx.max_err, cw.max_err, cb.max_err);

        if (acc == 0) {
            // finite differences of L = sum(y * r) with r = dy, through the kernel's own forward
            std::vector<float> yy((size_t)n * out);
            auto loss = [&]() {
                linear_forward(pool, x.data(), w.data(), bp, yy.data(), n, in, out);
                return dot_weighted(yy.data(), dy);
            };
            std::string t = tag;
            check_fd((t + ": dx").c_str(), x.data(), dx.data(), x.size(), big ? sample_coords(r, x.size(), 6) : std::vector<size_t>{}, loss);
            check_fd((t + ": dw").c_str(), w.data(), dw.data(), w.size(), big ? sample_coords(r, w.size(), 6) : std::vector<size_t>{}, loss);
            if (has_bias) check_fd((t + ": db").c_str(), b.data(), db.data(), b.size(), big ? sample_coords(r, b.size(), 6) : std::vector<size_t>{}, loss);
        }
    }

    // dx = null (first layer: input gradient not needed) leaves the weight gradients intact
    std::vector<float> dw2((size_t)out * in, NaN);
    linear_backward(pool, dy.data(), x.data(), w.data(), nullptr, dw2.data(), nullptr, n, in, out, false);
    Cmp c2;
    for (size_t i = 0; i < dw2.size(); i++) c2.add(dw2[i], dw_ref[i], (n + 2) * FLT_EPSILON * dw_mag[i] + 1e-30);
    check(c2.ok, "%s: backward with dx=null, db=null, max abs err dw %.3g", tag, c2.max_err);
}

static void test_linear_empty_batch(ThreadPool * pool) {
    float dw[6], db[3];
    for (float & v : dw) v = NaN;
    for (float & v : db) v = NaN;
    float dummy = 0.f;
    linear_backward(pool, &dummy, &dummy, &dummy, nullptr, dw, db, 0, 2, 3, false);
    bool ok = true;
    for (float v : dw) ok = ok && v == 0.f;
    for (float v : db) ok = ok && v == 0.f;
    check(ok, "linear n=0: backward writes zero dw and db");
}

// ---- bias ------------------------------------------------------------------------------------

static void test_bias(Rng & r, int n, int c) {
    std::vector<float> y0 = randv(r, (size_t)n * c), b = randv(r, c), dy = randv(r, (size_t)n * c);
    std::vector<float> y = y0;
    bias_forward(y.data(), b.data(), n, c);
    bool exact = true;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) exact = exact && y[(size_t)i * c + j] == y0[(size_t)i * c + j] + b[j];
    check(exact, "bias n=%d c=%d: forward == y + b exactly", n, c);

    std::vector<float> db(c, NaN);
    bias_backward(db.data(), dy.data(), n, c);
    Cmp cb;
    for (int j = 0; j < c; j++) {
        double s = 0, m = 0;
        for (int i = 0; i < n; i++) s += dy[(size_t)i * c + j], m += std::fabs(dy[(size_t)i * c + j]);
        cb.add(db[j], s, (n + 1) * FLT_EPSILON * m);
    }
    check(cb.ok, "bias n=%d c=%d: backward vs naive, max abs err %.3g", n, c, cb.max_err);

    std::vector<float> yy;
    auto loss = [&]() {
        yy = y0;
        bias_forward(yy.data(), b.data(), n, c);
        return dot_weighted(yy.data(), dy);
    };
    char tag[64];
    std::snprintf(tag, sizeof tag, "bias n=%d c=%d: db", n, c);
    check_fd(tag, b.data(), db.data(), b.size(), {}, loss);
}

// ---- relu ------------------------------------------------------------------------------------

static void test_relu(Rng & r) {
    // values well away from the kink, plus exact zeros of both signs and tiny magnitudes
    std::vector<float> x = randv(r, 37);
    for (auto & v : x)
        if (std::fabs(v) < 0.01f) v = 0.5f;
    x[0] = 0.f;
    x[5] = -0.f;
    x[9] = 1e-30f;
    x[11] = -1e-30f;
    x[20] = 0.f;
    const size_t n = x.size();

    std::vector<float> y(n, NaN);
    relu_forward(x.data(), y.data(), n);
    bool ok = true;
    for (size_t i = 0; i < n; i++) ok = ok && (double)y[i] == std::fmax((double)x[i], 0.0);
    check(ok, "relu count=%zu: forward == max(x, 0) exactly (incl. +-0, +-1e-30)", n);

    std::vector<float> inplace = x;
    relu_forward(inplace.data(), inplace.data(), n);
    check(std::memcmp(inplace.data(), y.data(), n * sizeof(float)) == 0, "relu: in-place forward (y aliases x) matches");

    std::vector<float> dy = randv(r, n);
    std::vector<float> dx(n, NaN);
    relu_backward(dy.data(), y.data(), dx.data(), n, false);
    ok = true;
    for (size_t i = 0; i < n; i++) ok = ok && dx[i] == (x[i] > 0.f ? dy[i] : 0.f);
    check(ok, "relu: backward == dy * (y > 0) exactly");
    check(dx[0] == 0.f && dx[5] == 0.f && dx[20] == 0.f && dx[9] == dy[9] && dx[11] == 0.f,
          "relu: gradient at exact zeros is 0 (torch threshold_backward), at 1e-30 it is dy");

    std::vector<float> prior = randv(r, n), acc = prior;
    relu_backward(dy.data(), y.data(), acc.data(), n, true);
    ok = true;
    for (size_t i = 0; i < n; i++) ok = ok && acc[i] == prior[i] + (x[i] > 0.f ? dy[i] : 0.f);
    check(ok, "relu: backward accumulate=true adds into dx");

    // finite differences away from the kink (|x| >= 0.01 > eps)
    std::vector<size_t> coords;
    for (size_t i = 0; i < n; i++)
        if (std::fabs(x[i]) >= 0.01f) coords.push_back(i);
    std::vector<float> yy(n);
    auto loss = [&]() {
        relu_forward(x.data(), yy.data(), n);
        return dot_weighted(yy.data(), dy);
    };
    check_fd("relu: dx", x.data(), dx.data(), n, coords, loss);

    std::vector<float> big = {-INFINITY, INFINITY, NaN};
    std::vector<float> by(3);
    relu_forward(big.data(), by.data(), 3);
    check(by[0] == 0.f && by[1] == INFINITY && std::isnan(by[2]), "relu: -inf -> 0, inf -> inf, NaN propagates");
}

// ---- softmax cross-entropy -------------------------------------------------------------------

static void ce_ref(const float * l, const int32_t * lab, int n, int c, std::vector<double> & probs, double & loss,
                   int & correct) {
    probs.assign((size_t)n * c, 0);
    loss = 0;
    correct = 0;
    for (int i = 0; i < n; i++) {
        const float * li = l + (size_t)i * c;
        int arg = 0;
        for (int j = 1; j < c; j++)
            if (li[j] > li[arg]) arg = j;
        double mx = li[arg], s = 0;
        for (int j = 0; j < c; j++) s += std::exp((double)li[j] - mx);
        for (int j = 0; j < c; j++) probs[(size_t)i * c + j] = std::exp((double)li[j] - mx) / s;
        loss += std::log(s) + mx - li[lab[i]];
        correct += arg == lab[i];
    }
    loss /= n;
}

enum class CeFd { none, kernel, reference };

static void test_ce_case(Rng & r, const char * what, int n, int c, std::vector<float> logits, std::vector<int32_t> labels,
                         float dloss, CeFd fd) {
    char tag[128];
    std::snprintf(tag, sizeof tag, "cross-entropy %s n=%d c=%d", what, n, c);
    std::vector<float> probs((size_t)n * c, NaN);
    float loss = NaN;
    int64_t correct = -1;
    nl_status st = softmax_cross_entropy_forward(logits.data(), labels.data(), probs.data(), n, c, &loss, &correct);
    std::vector<double> pref;
    double lref;
    int cref;
    ce_ref(logits.data(), labels.data(), n, c, pref, lref, cref);
    Cmp cp;
    for (size_t i = 0; i < probs.size(); i++) cp.add(probs[i], pref[i], 4 * FLT_EPSILON * pref[i] + 1e-7 * FLT_EPSILON);
    const bool finite = std::isfinite(loss);
    check(st == NL_STATUS_OK && finite && std::fabs(loss - lref) <= 4 * FLT_EPSILON * std::fabs(lref) + 1e-6 && cp.ok &&
              correct == cref,
          "%s: forward vs naive: status %s, loss %.9g (ref %.9g), correct %lld (ref %lld), probs max err %.3g", tag,
          nl_status_code(st), loss, lref, (long long)correct, (long long)cref, cp.max_err);

    std::vector<float> dl((size_t)n * c, NaN);
    softmax_cross_entropy_backward(probs.data(), labels.data(), dl.data(), n, c, dloss);
    Cmp cd;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < c; j++) {
            double want = dloss * (pref[(size_t)i * c + j] - (j == labels[i] ? 1.0 : 0.0)) / n;
            cd.add(dl[(size_t)i * c + j], want, 8 * FLT_EPSILON * std::fabs(dloss / n) + 1e-30);
        }
    check(cd.ok, "%s: backward vs naive (dloss=%g), max abs err %.3g", tag, dloss, cd.max_err);

    if (fd != CeFd::none) {
        // The kernel returns the loss rounded to float, so its finite differences carry noise of
        // ~ulp(loss) / (2 eps); with many rows the gradient entries (~1/n) drown in it, so large
        // batches difference the double-precision reference forward instead.
        std::vector<float> pp((size_t)n * c);
        std::vector<double> pr;
        auto lossfn = [&]() {
            if (fd == CeFd::reference) {
                double l = 0;
                int k = 0;
                ce_ref(logits.data(), labels.data(), n, c, pr, l, k);
                return (double)dloss * l;
            }
            float l = 0.f;
            int64_t k = 0;
            softmax_cross_entropy_forward(logits.data(), labels.data(), pp.data(), n, c, &l, &k);
            return (double)dloss * l;
        };
        std::string t = std::string(tag) + (fd == CeFd::reference ? ": dlogits (reference forward)" : ": dlogits");
        check_fd(t.c_str(), logits.data(), dl.data(), logits.size(), sample_coords(r, logits.size(), 40), lossfn, 1e-2f);
    }
}

static void test_cross_entropy(Rng & r) {
    auto labels_for = [&](int n, int c) {
        std::vector<int32_t> l(n);
        for (auto & v : l) v = r.below(c);
        return l;
    };
    test_ce_case(r, "single class", 1, 1, {0.3f}, {0}, 1.f, CeFd::none);
    test_ce_case(r, "one row", 1, 10, randv(r, 10, 3.f), labels_for(1, 10), 1.f, CeFd::kernel);
    test_ce_case(r, "odd", 3, 5, randv(r, 15, 3.f), labels_for(3, 5), 0.7f, CeFd::kernel);
    test_ce_case(r, "batch", 64, 10, randv(r, 640, 3.f), labels_for(64, 10), 1.f, CeFd::reference);
    test_ce_case(r, "large logits (1e4)", 4, 7, randv(r, 28, 1e4f), labels_for(4, 7), 1.f, CeFd::none);
    {
        std::vector<float> l = {1e4f, -1e4f, 1e4f, 0.f, 3e4f, 3e4f - 1.f, -3e4f, 0.f, -1e4f, -1e4f, -1e4f, -1e4f};
        test_ce_case(r, "extreme rows", 3, 4, l, {1, 2, 3}, 1.f, CeFd::none);
    }
    {
        // ties: argmax takes the first index, as torch.argmax
        std::vector<float> l = {2.f, 2.f, 1.f, /**/ 0.f, 5.f, 5.f, /**/ 1.f, 1.f, 1.f, /**/ 3.f, 3.f, 3.f};
        std::vector<int32_t> lab = {0, 2, 0, 1};
        std::vector<float> probs(12);
        float loss;
        int64_t correct = -1;
        softmax_cross_entropy_forward(l.data(), lab.data(), probs.data(), 4, 3, &loss, &correct);
        check(correct == 2, "cross-entropy ties: correct = %lld (expected 2: first index wins)", (long long)correct);
        test_ce_case(r, "ties", 4, 3, l, lab, 1.f, CeFd::none);
    }
    // BAD_LABEL: label -1 and label c; nothing written, even for rows before the bad one
    for (int bad : {-1, 5}) {
        std::vector<float> l = randv(r, 15);
        std::vector<int32_t> lab = {1, 2, bad};
        std::vector<float> probs(15, 42.f);
        float loss = 42.f;
        int64_t correct = 42;
        nl_status st = softmax_cross_entropy_forward(l.data(), lab.data(), probs.data(), 3, 5, &loss, &correct);
        bool untouched = loss == 42.f && correct == 42;
        for (float p : probs) untouched = untouched && p == 42.f;
        check(st == NL_STATUS_BAD_LABEL && untouched, "cross-entropy label %d (c=5): status %s, outputs untouched: %s", bad,
              nl_status_code(st), untouched ? "yes" : "no");
    }
    {
        float l = 0.f, p = 0.f, loss = 0.f;
        int32_t lab = 0;
        int64_t correct = 0;
        nl_status st = softmax_cross_entropy_forward(&l, &lab, &p, 0, 1, &loss, &correct);
        check(st == NL_STATUS_INVALID_ARGUMENT, "cross-entropy n=0: status %s (no division by zero)", nl_status_code(st));
    }
}

// ---- optimizers ------------------------------------------------------------------------------
// References transcribe torch.optim (1.13, single-tensor) in double, with the hyperparameters as
// the decimal doubles Python would hold (0.999, not (double)0.999f).

struct SgdCase {
    double lr, momentum, dampening, wd;
    bool nesterov, maximize;
};

static void test_sgd(Rng & r, const SgdCase & k) {
    const int N = 37, K = 10;
    std::vector<float> p = randv(r, N), buf(N, NaN);
    std::vector<double> pr(p.begin(), p.end()), br(N, 0);
    SgdParams hp;
    hp.lr = (float)k.lr;
    hp.momentum = (float)k.momentum;
    hp.dampening = (float)k.dampening;
    hp.weight_decay = (float)k.wd;
    hp.nesterov = k.nesterov;
    hp.maximize = k.maximize;
    for (int step = 1; step <= K; step++) {
        std::vector<float> g = randv(r, N, step % 3 == 0 ? 1.f : 0.1f);
        sgd_step(p.data(), g.data(), k.momentum != 0 ? buf.data() : nullptr, N, hp, step);
        for (int i = 0; i < N; i++) {
            double d = k.maximize ? -(double)g[i] : (double)g[i];
            d += k.wd * pr[i];
            if (k.momentum != 0) {
                br[i] = step == 1 ? d : k.momentum * br[i] + (1 - k.dampening) * d;
                d = k.nesterov ? d + k.momentum * br[i] : br[i];
            }
            pr[i] -= k.lr * d;
        }
    }
    Cmp cp, cb;
    for (int i = 0; i < N; i++) {
        cp.add(p[i], pr[i], 1e-5 * std::fabs(pr[i]) + 1e-6);
        if (k.momentum != 0) cb.add(buf[i], br[i], 1e-5 * std::fabs(br[i]) + 1e-6);
    }
    check(cp.ok && cb.ok,
          "sgd lr=%g momentum=%g dampening=%g wd=%g nesterov=%d maximize=%d, %d steps: max abs err p %.3g buf %.3g", k.lr,
          k.momentum, k.dampening, k.wd, k.nesterov, k.maximize, K, cp.max_err, cb.max_err);
}

struct AdamCase {
    double lr, beta1, beta2, eps, wd;
    bool amsgrad, maximize, decoupled;
};

static void test_adam(Rng & r, const AdamCase & k) {
    const int N = 37, K = 10;
    std::vector<float> p = randv(r, N), m(N, 0.f), v(N, 0.f), vmax(N, 0.f);
    std::vector<double> pr(p.begin(), p.end()), mr(N, 0), vr(N, 0), vmr(N, 0);
    AdamParams hp;
    hp.lr = (float)k.lr;
    hp.beta1 = (float)k.beta1;
    hp.beta2 = (float)k.beta2;
    hp.eps = (float)k.eps;
    hp.weight_decay = (float)k.wd;
    hp.amsgrad = k.amsgrad;
    hp.maximize = k.maximize;
    hp.decoupled_weight_decay = k.decoupled;
    for (int step = 1; step <= K; step++) {
        // gradient scale varies so that amsgrad's running max differs from v
        std::vector<float> g = randv(r, N, step % 3 == 1 ? 1.f : 0.1f);
        adam_step(p.data(), g.data(), m.data(), v.data(), k.amsgrad ? vmax.data() : nullptr, N, hp, step);
        const double bc1 = 1 - std::pow(k.beta1, step), bc2 = 1 - std::pow(k.beta2, step);
        for (int i = 0; i < N; i++) {
            double d = k.maximize ? -(double)g[i] : (double)g[i];
            if (k.decoupled)
                pr[i] *= 1 - k.lr * k.wd;
            else
                d += k.wd * pr[i];
            mr[i] = k.beta1 * mr[i] + (1 - k.beta1) * d;
            vr[i] = k.beta2 * vr[i] + (1 - k.beta2) * d * d;
            double vu = vr[i];
            if (k.amsgrad) vu = vmr[i] = std::fmax(vmr[i], vr[i]);
            pr[i] -= (k.lr / bc1) * mr[i] / (std::sqrt(vu) / std::sqrt(bc2) + k.eps);
        }
    }
    double mscale = 0, vscale = 0;
    for (int i = 0; i < N; i++) mscale = std::fmax(mscale, std::fabs(mr[i])), vscale = std::fmax(vscale, vr[i]);
    Cmp cp, cm, cv, cx;
    for (int i = 0; i < N; i++) {
        cp.add(p[i], pr[i], 2e-6 * std::fabs(pr[i]) + 1e-3 * k.lr);
        cm.add(m[i], mr[i], 4e-6 * std::fabs(mr[i]) + 1e-6 * mscale);
        cv.add(v[i], vr[i], 4e-6 * vr[i] + 1e-6 * vscale);
        if (k.amsgrad) cx.add(vmax[i], vmr[i], 4e-6 * vmr[i] + 1e-6 * vscale);
    }
    check(cp.ok && cm.ok && cv.ok && cx.ok,
          "%s lr=%g betas=(%g,%g) eps=%g wd=%g amsgrad=%d maximize=%d, %d steps: max abs err p %.3g m %.3g v %.3g vmax %.3g",
          k.decoupled ? "adamw" : "adam", k.lr, k.beta1, k.beta2, k.eps, k.wd, k.amsgrad, k.maximize, K, cp.max_err,
          cm.max_err, cv.max_err, cx.max_err);
}

// Values recorded from PyTorch 1.13 (CPU, foreach=False), three steps on 8 exactly representable
// inputs: p_i = (i - 3.5) / 4, g_k,i = ((5i + 3k) mod 11 - 5) / 16. The kernels must reproduce them
// bit for bit.
static void test_optim_golden() {
    const int N = 8, K = 3;
    auto run = [&](const char * name, const std::function<void(float *, const float *, int)> & step_fn,
                   const float (&want)[N]) {
        const int mism = golden_mismatches(
            K, [](int i) { return (i - 3.5) / 4; }, [](int64_t k, int i) { return ((i * 5 + k * 3) % 11 - 5) / 16.0; }, step_fn, want);
        check(mism == 0, "%s: 3 steps match PyTorch 1.13 bit for bit (%d of %d differ)", name, mism, N);
    };
    {
        std::vector<float> m(N, 0.f), v(N, 0.f);
        AdamParams hp;
        hp.lr = 1e-3f;
        hp.weight_decay = 1e-2f;
        const float want[N] = {-0x1.beb89p-1f, -0x1.3fb6b2p-1f, -0x1.8156eap-2f, -0x1.001a3cp-3f,
                               0x1.fcb1e2p-4f, 0x1.80c5fp-2f,   0x1.3fd498p-1f,  0x1.c0c34cp-1f};
        run("golden Adam(lr=1e-3, weight_decay=1e-2)",
            [&](float * p, const float * g, int s) { adam_step(p, g, m.data(), v.data(), nullptr, N, hp, s); }, want);
    }
    {
        std::vector<float> m(N, 0.f), v(N, 0.f), vm(N, 0.f);
        AdamParams hp;
        hp.lr = 1e-3f;
        hp.weight_decay = 1e-2f;
        hp.amsgrad = true;
        hp.decoupled_weight_decay = true;
        const float want[N] = {-0x1.beb97ep-1f, -0x1.403e0cp-1f, -0x1.815c2ep-2f, -0x1.002002p-3f,
                               0x1.fcb962p-4f,  0x1.80d11ep-2f,  0x1.3fd842p-1f,  0x1.c0cc26p-1f};
        run("golden AdamW(lr=1e-3, weight_decay=1e-2, amsgrad=True)",
            [&](float * p, const float * g, int s) { adam_step(p, g, m.data(), v.data(), vm.data(), N, hp, s); }, want);
    }
    {
        std::vector<float> buf(N, 0.f);
        SgdParams hp;
        hp.lr = 0.1f;
        hp.momentum = 0.9f;
        hp.dampening = 0.1f;
        hp.weight_decay = 1e-4f;
        const float want[N] = {-0x1.8c8d82p-1f, -0x1.41ffb8p-1f, -0x1.b5dddcp-2f, -0x1.42acb2p-3f,
                               0x1.b09d8ep-4f,  0x1.80aee6p-2f,  0x1.47165p-1f,   0x1.d15a12p-1f};
        run("golden SGD(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-4)",
            [&](float * p, const float * g, int s) { sgd_step(p, g, buf.data(), N, hp, s); }, want);
    }
    {
        std::vector<float> buf(N, 0.f);
        SgdParams hp;
        hp.lr = 0.1f;
        hp.momentum = 0.9f;
        hp.weight_decay = 1e-4f;
        hp.nesterov = true;
        hp.maximize = true;
        const float want[N] = {-0x1.012002p+0f, -0x1.445bcep-1f, -0x1.45f4aap-2f, -0x1.b416b6p-5f,
                               0x1.0cfb14p-3f,  0x1.95ef5ap-2f,  0x1.2977dep-1f,  0x1.b130c8p-1f};
        run("golden SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, maximize=True)",
            [&](float * p, const float * g, int s) { sgd_step(p, g, buf.data(), N, hp, s); }, want);
    }
}

// ---- gather ----------------------------------------------------------------------------------

static void test_gather() {
    const size_t S = 5;
    const uint8_t images[4 * S] = {0, 1, 2, 3, 4, 255, 128, 127, 0, 255, 10, 20, 30, 40, 50, 7, 7, 7, 7, 7};
    const uint8_t labels[4] = {3, 9, 0, 1};
    const int32_t index[4] = {2, 0, 2, 1};
    std::vector<float> out(4 * S, NaN);
    std::vector<int32_t> lab(4, -1);
    gather_batch_u8(images, labels, S, index, 4, out.data(), lab.data());
    bool ok = true, order = true;
    for (int i = 0; i < 4; i++) {
        for (size_t k = 0; k < S; k++) {
            const uint8_t src = images[(size_t)index[i] * S + k];
            ok = ok && out[i * S + k] == (float)src / 255.f;
            ok = ok && std::fabs(out[i * S + k] - src / 255.0) <= FLT_EPSILON * 0.5;
        }
        order = order && lab[i] == labels[index[i]];
    }
    check(ok, "gather: out = images[index] / 255 (float division, within half an ulp of exact)");
    check(order && lab[0] == 0 && lab[1] == 3 && lab[3] == 9, "gather: rows and labels follow index order (incl. repeats)");
    check(out[1 * S + 0] == 0.f && out[3 * S + 0] == 1.0f && out[3 * S + 4] == 1.0f, "gather: 0 -> 0.0, 255 -> 1.0 exactly");
    std::vector<float> out2(S, NaN);
    const int32_t one = 3;
    gather_batch_u8(images, nullptr, S, &one, 1, out2.data(), nullptr);
    check(out2[0] == 7.f / 255.f, "gather: null labels are allowed");
}

// ---- main ------------------------------------------------------------------------------------

int main() {
    ThreadPool pool(4);
    Rng r(20240611);

    test_linear(&pool, r, 1, 7, 5, true);
    test_linear(&pool, r, 3, 7, 5, true);
    test_linear(&pool, r, 3, 7, 5, false);
    test_linear(&pool, r, 1, 1, 1, true);
    test_linear(&pool, r, 64, 784, 512, true);
    test_linear_empty_batch(&pool);

    test_bias(r, 1, 5);
    test_bias(r, 3, 7);

    test_relu(r);
    test_cross_entropy(r);

    const SgdCase sgd_cases[] = {
        {0.1, 0, 0, 0, false, false},       {0.1, 0, 0, 1e-2, false, true},    {0.05, 0.9, 0, 0, false, false},
        {0.05, 0.9, 0.1, 1e-3, false, false}, {0.05, 0.9, 0, 1e-3, true, false}, {0.05, 0.9, 0, 0, true, true},
        {0.01, 0.5, 0.5, 0.1, false, true},
    };
    for (const auto & k : sgd_cases) test_sgd(r, k);
    const AdamCase adam_cases[] = {
        {1e-3, 0.9, 0.999, 1e-8, 0, false, false, false},  {1e-3, 0.9, 0.999, 1e-8, 1e-2, false, false, false},
        {1e-3, 0.9, 0.999, 1e-8, 1e-2, false, false, true}, {3e-3, 0.8, 0.99, 1e-6, 0, true, false, false},
        {1e-2, 0.9, 0.999, 1e-8, 0.1, true, true, true},   {1e-3, 0.95, 0.9999, 1e-8, 0, false, true, false},
        {1e-2, 0.9, 0.999, 1e-8, 0.1, true, true, false},  {1e-3, 0.9, 0.999, 0.05, 0, false, false, false},
    };
    for (const auto & k : adam_cases) test_adam(r, k);
    test_optim_golden();

    test_gather();

    return finish();
}
