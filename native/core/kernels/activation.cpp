// Elementwise activations with torch 1.13's exact CPU formulas (aten/src/ATen/native/cpu/Activation.cpp,
// UnaryOpsKernel.cpp). x [count] -> y [count]; backward reads x and/or y as noted (both always passed).
//
//   LEAKY_RELU  y = x > 0 ? x : x*alpha               dx = x > 0 ? dy : dy*alpha           (uses x; 0 -> slope)
//   ELU         y = x <= 0 ? (exp(x) - 1)*alpha : x    dx = x <= 0 ? dy*alpha*exp(x) : dy   (uses x, torch's
//               is_result=false path; exp(x)-1 rather than expm1, as torch 1.13, so tiny |x| matches torch)
//   GELU        y = x*0.5*(1 + erf(x/sqrt2))           dx = dy*(cdf + x*pdf), cdf = 0.5*(1 + erf(x/sqrt2)),
//                                                      pdf = exp(-x*x/2)/sqrt(2*pi)          (uses x)
//   GELU_TANH   y = 0.5*x*(1 + tanh(inner)), inner = sqrt(2/pi)*(x + 0.044715*x^3)
//               dx = dy*(0.5*(1 + t) + 0.5*x*(1 - t^2)*sqrt(2/pi)*(1 + 3*0.044715*x^2)), t = tanh(inner)  (uses x)
//   SILU        y = x / (1 + exp(-x))                  dx = dy*s*(1 + x*(1 - s)), s = 1/(1+exp(-x))   (uses x)
//   SIGMOID     y = 1 / (1 + exp(-x))                  dx = dy*(1 - y)*y                    (uses y)
//   TANH        y = tanh(x)                            dx = dy*(1 - y)*(1 + y)              (uses y)
//
// NaN propagates through every kind (the comparisons send NaN down a branch that keeps it).
// y may alias x in the forward. accumulate: dx += ... instead of dx = ...
#include "kernels.h"
#include <cmath>

namespace nl {

namespace {

constexpr float kSqrt1_2 = 0.707106781186547524400844362104849039f;      // M_SQRT1_2
constexpr float kPdfScale = 0.398942280401432677939946059934381868f;     // M_2_SQRTPI * M_SQRT1_2 * 0.5
constexpr float kTanhBeta = 0.797884560802865355879892119868763737f;     // M_SQRT2 * M_2_SQRTPI * 0.5
constexpr float kTanhKappa = 0.044715f;

// One elementwise map with the accumulate switch hoisted out of the loop.
template <typename F>
inline void map_grad(const float * dy, const float * x, const float * y, float * dx, size_t count, bool accumulate, F f) {
    if (accumulate) {
        for (size_t i = 0; i < count; i++) dx[i] += f(dy[i], x[i], y[i]);
    } else {
        for (size_t i = 0; i < count; i++) dx[i] = f(dy[i], x[i], y[i]);
    }
}

} // namespace

void activation_forward(Activation kind, float alpha, const float * x, float * y, size_t count) {
    switch (kind) {
    case Activation::LEAKY_RELU:
        for (size_t i = 0; i < count; i++) {
            const float v = x[i];
            y[i] = v > 0.f ? v : v * alpha;
        }
        return;
    case Activation::ELU:
        for (size_t i = 0; i < count; i++) {
            const float v = x[i];
            y[i] = v <= 0.f ? (std::exp(v) - 1.f) * alpha : v;
        }
        return;
    case Activation::GELU:
        for (size_t i = 0; i < count; i++) {
            const float v = x[i];
            y[i] = v * 0.5f * (1.f + std::erf(v * kSqrt1_2));
        }
        return;
    case Activation::GELU_TANH:
        for (size_t i = 0; i < count; i++) {
            const float v = x[i];
            const float inner = kTanhBeta * (v + kTanhKappa * (v * v * v));
            y[i] = 0.5f * v * (1.f + std::tanh(inner));
        }
        return;
    case Activation::SILU:
        for (size_t i = 0; i < count; i++) {
            const float v = x[i];
            y[i] = v / (1.f + std::exp(-v));
        }
        return;
    case Activation::SIGMOID:
        for (size_t i = 0; i < count; i++) y[i] = 1.f / (1.f + std::exp(-x[i]));
        return;
    case Activation::TANH:
        for (size_t i = 0; i < count; i++) y[i] = std::tanh(x[i]);
        return;
    }
    // Unknown kind (a corrupt program the validator missed): leave y untouched rather than abort.
}

void activation_backward(Activation kind, float alpha, const float * dy, const float * x, const float * y, float * dx,
                         size_t count, bool accumulate) {
    switch (kind) {
    case Activation::LEAKY_RELU:
        map_grad(dy, x, x, dx, count, accumulate,
                 [alpha](float d, float v, float) { return v > 0.f ? d : d * alpha; });
        return;
    case Activation::ELU:
        map_grad(dy, x, x, dx, count, accumulate,
                 [alpha](float d, float v, float) { return v <= 0.f ? d * alpha * std::exp(v) : d; });
        return;
    case Activation::GELU:
        map_grad(dy, x, x, dx, count, accumulate, [](float d, float v, float) {
            const float cdf = 0.5f * (1.f + std::erf(v * kSqrt1_2));
            const float pdf = kPdfScale * std::exp(v * v * -0.5f);
            return d * (cdf + v * pdf);
        });
        return;
    case Activation::GELU_TANH:
        map_grad(dy, x, x, dx, count, accumulate, [](float d, float v, float) {
            const float v_sq = v * v;
            const float v_cube = v_sq * v;
            const float inner = kTanhBeta * (v + kTanhKappa * v_cube);
            const float t = std::tanh(inner);
            const float left = 0.5f * v;
            const float right = 1.f + t;
            const float left_derivative = 0.5f * right;
            const float tanh_derivative = (1.f - t) * (1.f + t); // see TANH below
            const float inner_derivative = kTanhBeta * (1.f + 3.f * kTanhKappa * v_sq);
            const float right_derivative = left * tanh_derivative * inner_derivative;
            return d * (left_derivative + right_derivative);
        });
        return;
    case Activation::SILU:
        map_grad(dy, x, x, dx, count, accumulate, [](float d, float v, float) {
            const float s = 1.f / (1.f + std::exp(-v));
            return d * s * (1.f + v * (1.f - s));
        });
        return;
    case Activation::SIGMOID:
        map_grad(dy, y, y, dx, count, accumulate, [](float d, float, float s) { return d * (1.f - s) * s; });
        return;
    case Activation::TANH:
        // 1 - t^2 as (1 - t)(1 + t): torch's AVX2 build contracts `1 - t*t` into one FMA (a single
        // rounding); the factored form gets the same value to an ulp near |t| = 1, where 1 - t*t
        // rounded twice loses every digit. It still vectorizes without FMA hardware.
        map_grad(dy, y, y, dx, count, accumulate, [](float d, float, float t) { return d * ((1.f - t) * (1.f + t)); });
        return;
    }
}

} // namespace nl
