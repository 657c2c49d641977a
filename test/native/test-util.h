// Scaffolding shared by the plain C++ test programs in test/native (header-only: every
// test_*.cpp is built as its own executable, so everything here is inline).
//
//   - check(): one "PASS  ..." / "FAIL  ..." line per check; finish() prints the final
//     "N passed, N failed" line and returns the exit status (non-zero on any failure).
//   - Rng (splitmix64) and XorShift: fixed-seed generators, identical streams on every platform
//     (std:: distributions are not); randv() / rand_range() fill vectors from either.
//   - Cmp, central_diff(), check_fd(): max-error accumulation and the float finite-difference
//     gradient check used by the kernel tests.
//
// Tolerances and references that belong to one kind of kernel stay in that test file.
#pragma once

#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace nltest {

// ---- report ----------------------------------------------------------------------------------

inline int g_passed = 0, g_failed = 0;

inline std::string vformat(const char * f, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    const int n = std::vsnprintf(nullptr, 0, f, ap2);
    va_end(ap2);
    std::string s(n > 0 ? (size_t)n : 0, '\0');
    if (n > 0) std::vsnprintf(&s[0], (size_t)n + 1, f, ap);
    return s;
}

// printf-style formatting into a std::string (no length limit).
inline std::string format(const char * f, ...) __attribute__((format(printf, 1, 2)));
inline std::string format(const char * f, ...) {
    va_list ap;
    va_start(ap, f);
    std::string s = vformat(f, ap);
    va_end(ap);
    return s;
}

// One line per check.
inline void check(bool ok, const std::string & what) {
    std::printf("%s  %s\n", ok ? "PASS" : "FAIL", what.c_str());
    (ok ? g_passed : g_failed)++;
}

inline void check(bool ok, const char * fmt, ...) __attribute__((format(printf, 2, 3)));
inline void check(bool ok, const char * fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string msg = vformat(fmt, ap);
    va_end(ap);
    check(ok, msg);
}

// The final "N passed, N failed" line; returns main()'s exit status.
inline int finish() {
    std::printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed != 0 ? 1 : 0;
}

// ---- random inputs ---------------------------------------------------------------------------

// 24 random bits -> [lo, hi) in float (exact for [-1, 1)).
inline float bits_to_range(uint64_t bits, float lo, float hi) {
    return lo + (hi - lo) * (float)((bits >> 40) * 0x1p-24);
}

// splitmix64.
struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed) {}
    uint64_t next() {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    float uniform(float lo = -1.f, float hi = 1.f) { return bits_to_range(next(), lo, hi); }
    int below(int n) { return (int)(next() % (uint64_t)n); }
};

// xorshift64 (13, 7, 17).
struct XorShift {
    uint64_t s;
    explicit XorShift(uint64_t seed) : s(seed) {}
    uint64_t next() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        return s;
    }
    float uniform(float lo = -1.f, float hi = 1.f) { return bits_to_range(next(), lo, hi); }
};

// count values scale * U[-1, 1).
template <class Gen> inline std::vector<float> randv(Gen & r, size_t count, float scale = 1.f) {
    std::vector<float> v(count);
    for (auto & x : v) x = scale * r.uniform();
    return v;
}

// count values U[lo, hi).
template <class Gen> inline std::vector<float> rand_range(Gen & r, size_t count, float lo, float hi) {
    std::vector<float> v(count);
    for (auto & x : v) x = r.uniform(lo, hi);
    return v;
}

inline const float NaN = std::numeric_limits<float>::quiet_NaN();

// ---- comparison ------------------------------------------------------------------------------

// Largest violation of |got - want| <= tol_i, reported as max |got - want| and whether all pass.
struct Cmp {
    double max_err = 0;
    bool ok = true;
    void add(double got, double want, double tol) {
        double e = std::fabs(got - want);
        if (!(e <= tol)) ok = false;   // also catches NaN
        if (e > max_err || e != e) max_err = e;
    }
};

// Central finite difference of `loss` with respect to v[i], using the float perturbation that was
// actually applied.
inline double central_diff(float * v, size_t i, float eps, const std::function<double()> & loss) {
    const float orig = v[i];
    const float hi = orig + eps, lo = orig - eps;
    v[i] = hi;
    const double lp = loss();
    v[i] = lo;
    const double lm = loss();
    v[i] = orig;
    return (lp - lm) / ((double)hi - (double)lo);
}

// Compares an analytic gradient against finite differences on `coords` (all if empty).
// Tolerance: 1e-2 relative plus 1e-3 of the gradient's largest magnitude (for entries near 0).
inline void check_fd(const std::string & name, float * v, const float * grad, size_t count, std::vector<size_t> coords,
                     const std::function<double()> & loss, float eps = 1e-3f) {
    if (coords.empty())
        for (size_t i = 0; i < count; i++) coords.push_back(i);
    double scale = 0;
    for (size_t i = 0; i < count; i++) scale = std::fmax(scale, std::fabs((double)grad[i]));
    Cmp c;
    for (size_t i : coords) {
        double fd = central_diff(v, i, eps, loss);
        c.add(grad[i], fd, 1e-2 * std::fmax(std::fabs(fd), std::fabs((double)grad[i])) + 1e-3 * scale + 1e-9);
    }
    check(c.ok, "%s: finite differences, %zu coords, max abs err %.3g (grad scale %.3g)", name.c_str(), coords.size(),
          c.max_err, scale);
}

// ---- optimizer goldens -----------------------------------------------------------------------

// Recorded-optimizer check: starts from p_i = (float)p0(i), applies `steps` steps of step_fn with
// gradients g_i = (float)grad(k, i) (k = 0, 1, ...; step_fn gets the 1-based step number) and
// returns how many of the N results differ from `want` bit for bit.
template <int N>
inline int golden_mismatches(int steps, const std::function<double(int)> & p0, const std::function<double(int, int)> & grad,
                             const std::function<void(float *, const float *, int)> & step_fn, const float (&want)[N]) {
    float p[N];
    for (int i = 0; i < N; i++) p[i] = (float)p0(i);
    for (int k = 0; k < steps; k++) {
        float g[N];
        for (int i = 0; i < N; i++) g[i] = (float)grad(k, i);
        step_fn(p, g, k + 1);
    }
    int mism = 0;
    for (int i = 0; i < N; i++) mism += p[i] != want[i];
    return mism;
}

}  // namespace nltest
