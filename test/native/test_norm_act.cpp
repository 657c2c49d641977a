// Tests for the normalization, dropout, activation, softmax and structure kernels
// (native/core/kernels/{batch-norm,layer-norm,dropout,activation,softmax,structure}.cpp).
// Plain program: one line per check, "N passed, N failed" at the end, non-zero exit on failure.
//
//   * every forward against a naive double-precision reference loop
//   * every backward against central finite differences of that double reference
//     (loss L = sum(w * y) with random w, so dL/dy = w is the upstream gradient)
//   * accumulate flags, BatchNorm running statistics (momentum 0.1 and None) and eval mode,
//     LayerNorm with and without affine, dropout statistics/determinism/p=0/p=1,
//     activation edge cases (0, large |x|, NaN), softmax with 1e4 logits
//   * values recorded from torch 1.13 CPU float32, printed with 9 significant digits (a float32 exactly);
//     the random inputs were drawn once and printed the same way. test/parity/gen_native_goldens.py
//     computes the outputs again from these inputs, and native-goldens.test.ts compares them with this file.
#include "kernels.h"
#include "test-util.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <functional>
#include <vector>

using namespace nl;
using namespace nltest;
using Vec = std::vector<float>;
using VecD = std::vector<double>;

static XorShift g_rng(0x243F6A8885A308D3ull);
static float frand(float lo = -1.f, float hi = 1.f) { return g_rng.uniform(lo, hi); }
static Vec rand_vec(size_t n, float lo = -1.f, float hi = 1.f) { return rand_range(g_rng, n, lo, hi); }

// Worst |got - ref| / (atol + rtol * |ref|) over the arrays; <= 1 passes. NaN anywhere fails.
template <typename A, typename B>
static double worst_ratio(const A & got, const B & ref, size_t n, double rtol, double atol) {
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], r = ref[i];
        if (std::isnan(g) || std::isnan(r)) {
            if (!(std::isnan(g) && std::isnan(r))) return INFINITY;
            continue;
        }
        double e = std::fabs(g - r) / (atol + rtol * std::fabs(r));
        w = std::max(w, e);
    }
    return w;
}
template <typename A, typename B>
static void check_close(const char * what, const A & got, const B & ref, size_t n, double rtol, double atol) {
    double w = worst_ratio(got, ref, n, rtol, atol);
    check(w <= 1.0, "%s (worst err/tol %.3g)", what, w);
}
static double max_abs(const float * v, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = std::max(m, (double)std::fabs(v[i]));
    return m;
}
// torch comparison: ~1e-6 relative, plus 1e-6 of the array's scale for values near zero.
static void check_torch(const char * what, const float * got, const float * ref, size_t n, double rtol = 1e-6) {
    check_close(what, got, ref, n, rtol, 1e-6 * max_abs(ref, n) + 1e-30);
}

// Central finite differences of L(p) = sum(w * f(p)) with respect to every entry of p (double).
static VecD fd_grad(VecD & p, const std::function<double()> & loss, double h) {
    VecD g(p.size());
    for (size_t i = 0; i < p.size(); i++) {
        const double keep = p[i];
        const double hi = h * std::max(1.0, std::fabs(keep));
        p[i] = keep + hi;
        const double lp = loss();
        p[i] = keep - hi;
        const double lm = loss();
        p[i] = keep;
        g[i] = (lp - lm) / (2 * hi);
    }
    return g;
}
static VecD to_d(const Vec & v) { return VecD(v.begin(), v.end()); }
static double dot(const VecD & a, const Vec & w) {
    double s = 0;
    for (size_t i = 0; i < a.size(); i++) s += a[i] * w[i];
    return s;
}

// ================================================================================================
//  Recorded torch 1.13 outputs
// ================================================================================================
static const float bn_x1[24] = {-1.75167966f, -1.8047204f, -0.00115716457f, -0.367757618f, 2.1974206f, 1.8840183f, -0.13202554f, -3.73043871f, 1.43619275f, 0.184575111f, 3.38732028f, 1.03209877f, 0.832910657f, 2.24876356f, 0.213052303f, 0.276781321f, 2.36365318f, 3.01801848f, 4.50996113f, 0.607473791f, 1.73611331f, -0.325604439f, -1.18212962f, -4.13208389f};
static const float bn_x2[24] = {-1.32379484f, -2.11382222f, -0.155917943f, -0.610558867f, -1.26094151f, -2.01811934f, 0.407391071f, -0.266695261f, -1.85387206f, 0.37995708f, 0.666224241f, 0.934811115f, -3.21726084f, 2.85084915f, -1.70967972f, -0.496673882f, -3.44398904f, -1.82461548f, -1.71975136f, -1.74952233f, -2.60047054f, 0.672409296f, -1.21100712f, 0.208630323f};
static const float bn_g[2] = {-0.0404210873f, 0.288116813f};
static const float bn_b[2] = {-0.00753730815f, -0.914495468f};
static const float bn_dy[24] = {-0.00330387289f, -0.534440696f, 1.16868782f, 0.394502759f, 1.94146204f, 0.791498065f, -0.0202518273f, -0.437169552f, -0.218833685f, -2.43506527f, -0.0729147568f, -0.0339864083f, 0.962518275f, 0.349168241f, -0.921461999f, -0.056194786f, -0.622698486f, -0.463722169f, 1.92178237f, -0.402545542f, 0.123902477f, 1.16478348f, 0.92337352f, 1.38729525f};
static const float bn_y2[24] = {0.000674036739f, 0.0260254536f, -0.036802303f, -0.0222131982f, -1.01296163f, -1.15082192f, -0.709206104f, -0.83193785f, 0.0176838376f, -0.0539981499f, -0.0631842613f, -0.0718030259f, -1.36915112f, -0.264322579f, -1.09466386f, -0.87381041f, 0.0687095597f, 0.0167450141f, 0.0133800004f, 0.0143353296f, -1.25685132f, -0.660953879f, -1.00386989f, -0.745394766f};
static const float bn_rm[2] = {-0.0121856034f, -0.0728622377f};
static const float bn_rv[2] = {1.33688569f, 1.49042547f};
static const float bn_dx[24] = {-0.0029933271f, 0.0152353458f, -0.042353265f, -0.0168283582f, 0.258192569f, 0.0472961217f, -0.0956278667f, -0.172890723f, 0.00471787294f, 0.072484903f, -0.00374416262f, -0.00539616775f, 0.0760251582f, -0.0234586746f, -0.26396513f, -0.103988126f, 0.020062441f, 0.012532291f, -0.0641741306f, 0.0104565537f, -0.0754236877f, 0.120665409f, 0.0729281828f, 0.16024676f};
static const float bn_dg[2] = {-0.706476808f, -0.209508985f};
static const float bn_db[2] = {-1.30253804f, 6.20892334f};
static const float bn_yeval[24] = {0.0532736965f, 0.0551279485f, -0.00792285241f, 0.00489313994f, -0.37870875f, -0.452671677f, -0.928458035f, -1.7776835f, -0.058171194f, -0.0144158704f, -0.126380697f, -0.0440444648f, -0.700733066f, -0.366591811f, -0.847019672f, -0.831979632f, -0.0905942991f, -0.113470271f, -0.165627122f, -0.0291999932f, -0.48757726f, -0.974142671f, -1.17628264f, -1.87247181f};
static const float bn1_x0[12] = {-0.458395809f, -0.335988075f, -1.5699861f, 1.23150039f, 1.39463174f, 1.1711024f, 0.433511943f, -1.73425019f, -1.3360486f, 0.887096047f, 0.767957449f, 0.0571129993f};
static const float bn1_x1[12] = {1.44791675f, 2.10392857f, -0.157595992f, 1.03544426f, 1.26365268f, 3.03953362f, 0.106322229f, 1.90404487f, -0.951848865f, 2.42247438f, -0.516452909f, -0.287166119f};
static const float bn1_x2[12] = {0.0615428686f, 1.52272213f, -3.33599091f, 4.54295349f, 2.73782849f, 1.60649633f, 1.46444583f, 0.212320805f, 2.82160926f, 3.70377874f, -0.019307375f, -1.62859726f};
static const float bn1_rm[3] = {1.40654922f, 0.775090694f, -0.0476149432f};
static const float bn1_rv[3] = {1.88909113f, 1.64632714f, 4.30551767f};
static const float ln_x[15] = {6.03221083f, 9.1496582f, 0.300608397f, -1.46085024f, -5.50690269f, 4.62667322f, -6.01769447f, 1.90600216f, 3.49635839f, 0.430030346f, 1.24556148f, -1.16659546f, 0.322216272f, 1.64087415f, 1.50936282f};
static const float ln_g[5] = {-0.250463247f, -1.08822453f, 0.00440724613f, 0.232788876f, -0.820141613f};
static const float ln_b[5] = {-0.679019332f, 1.4250834f, 1.96474898f, 0.767839789f, 1.98990929f};
static const float ln_dy[15] = {0.718252301f, -0.496666521f, 1.31002891f, 0.395556867f, 0.0894794092f, -0.168210939f, -0.4727588f, -1.97057629f, 0.628084064f, -0.113151789f, 0.46311149f, 0.333804458f, 1.64431679f, -1.25348043f, -0.0591603667f};
static const float ln_y[15] = {-0.885301292f, -0.116567843f, 1.96357322f, 0.627728343f, 3.11481977f, -0.929773808f, 3.43770456f, 1.96595013f, 0.930433154f, 2.0905571f, -0.807263613f, 3.37883711f, 1.96311295f, 0.975061715f, 1.36301625f};
static const float ln_dx[15] = {-0.0695944428f, 0.052530732f, -0.00684064208f, 0.0180090591f, 0.00589528959f, 0.0131557025f, 0.0143075623f, -0.0324901268f, 0.027718965f, -0.0226921011f, -0.010105148f, -0.0844319761f, 0.169867873f, -0.20485431f, 0.129523501f};
static const float ln_dg[5] = {0.660273552f, -0.428564012f, -1.49696767f, -0.915199935f, -0.154064938f};
static const float ln_db[5] = {1.01315284f, -0.635620832f, 0.983769417f, -0.229839563f, -0.0828327462f};
static const float ln_y_na[15] = {0.823601723f, 1.41666651f, -0.266781211f, -0.601881981f, -1.37160504f, 1.00116265f, -1.84945393f, 0.272552848f, 0.698458433f, -0.122720011f, 0.512028396f, -1.7953589f, -0.371212214f, 0.890171051f, 0.764371753f};
static const float ln_dx_na[15] = {0.0856807157f, -0.126889572f, 0.164143473f, -0.0203111544f, -0.102623448f, 0.0339259505f, 0.0472475588f, -0.424505472f, 0.2572532f, 0.086078845f, 0.436084479f, -0.629446983f, 1.20545983f, -1.05159676f, 0.0394997895f};
static const float act_x[16] = {-20.0f, -5.5f, -3.0f, -1.25f, -0.5f, -0.00100000005f, -9.99999997e-07f, 0.0f, 9.99999997e-07f, 0.00100000005f, 0.5f, 1.25f, 3.0f, 5.5f, 20.0f, 0.707099974f};
static const float act_dy[16] = {0.300000012f, -1.20000005f, 0.800000012f, 1.0f, -0.400000006f, 2.0f, 1.5f, -0.699999988f, 0.899999976f, 1.10000002f, -1.29999995f, 0.600000024f, -0.200000003f, 0.449999988f, 1.70000005f, -0.949999988f};
static const float act_leaky_y[16] = {-0.199999988f, -0.0549999997f, -0.0299999993f, -0.0124999993f, -0.00499999989f, -1.00000007e-05f, -9.99999994e-09f, 0.0f, 9.99999997e-07f, 0.00100000005f, 0.5f, 1.25f, 3.0f, 5.5f, 20.0f, 0.707099974f};
static const float act_leaky_dx[16] = {0.00300000003f, -0.0120000001f, 0.00800000038f, 0.00999999978f, -0.00400000019f, 0.0199999996f, 0.0149999997f, -0.00699999975f, 0.899999976f, 1.10000002f, -1.29999995f, 0.600000024f, -0.200000003f, 0.449999988f, 1.70000005f, -0.949999988f};
static const float act_elu_y[16] = {-1.29999995f, -1.29468715f, -1.23527682f, -0.9275437f, -0.511510134f, -0.00129936333f, -1.31726256e-06f, 0.0f, 9.99999997e-07f, 0.00100000005f, 0.5f, 1.25f, 3.0f, 5.5f, 20.0f, 0.707099974f};
static const float act_elu_dx[16] = {8.03849987e-10f, -0.00637536403f, 0.0517785475f, 0.372456223f, -0.315395921f, 2.59740114f, 1.9499979f, -0.909999967f, 0.899999976f, 1.10000002f, -1.29999995f, 0.600000024f, -0.200000003f, 0.449999988f, 1.70000005f, -0.949999988f};
static const float act_gelu_y[16] = {0.0f, -1.63912773e-07f, -0.00404986739f, -0.132062316f, -0.154268786f, -0.000499601127f, -4.99999601e-07f, 0.0f, 5.00000397e-07f, 0.000500398921f, 0.345731199f, 1.11793768f, 2.99595022f, 5.5f, 20.0f, 0.537571251f};
static const float act_gelu_dx[16] = {0.0f, 6.79492985e-07f, -0.00955648441f, -0.122661471f, -0.0530019663f, 0.998404384f, 0.749998808f, -0.349999994f, 0.450000674f, 0.550877631f, -1.12774348f, 0.673596919f, -0.202389121f, 0.450000256f, 1.70000005f, -0.930945337f};
static const float act_gelut_y[16] = {-0.0f, -0.0f, -0.00363743305f, -0.132285804f, -0.154285997f, -0.000499601068f, -4.99999601e-07f, 0.0f, 5.00000397e-07f, 0.000500398979f, 0.345714003f, 1.11771417f, 2.99636269f, 5.5f, 20.0f, 0.537514091f};
static const float act_gelut_dx[16] = {0.0f, -0.0f, -0.00926743727f, -0.122492626f, -0.0530520454f, 0.998404264f, 0.749998808f, -0.349999994f, 0.450000733f, 0.55087769f, -1.12758076f, 0.67349565f, -0.202316865f, 0.449999988f, 1.70000005f, -0.930696964f};
static const float act_silu_y[16] = {-4.12230747e-08f, -0.0223857574f, -0.142277613f, -0.278375179f, -0.188770339f, -0.000499750022f, -4.99999771e-07f, 0.0f, 5.00000226e-07f, 0.000500250026f, 0.311229676f, 0.971624851f, 2.85772252f, 5.4776144f, 20.0f, 0.473587304f};
static const float act_silu_dx[16] = {-1.17485772e-08f, 0.0218694061f, -0.0704832897f, 0.0063191494f, -0.104015537f, 0.999000013f, 0.749999285f, -0.349999994f, 0.450000405f, 0.550549984f, -0.961949527f, 0.596208513f, -0.21762082f, 0.458200961f, 1.70000005f, -0.784849584f};
static const float act_sigm_y[16] = {2.06115369e-09f, 0.00407013763f, 0.0474258736f, 0.222700134f, 0.377540678f, 0.499750018f, 0.499999762f, 0.5f, 0.500000238f, 0.500249982f, 0.622459352f, 0.777299881f, 0.952574134f, 0.995929897f, 1.0f, 0.669760048f};
static const float act_sigm_dx[16] = {6.18346152e-10f, -0.0048642857f, 0.0361413285f, 0.173104793f, -0.0940014869f, 0.499999881f, 0.375f, -0.174999997f, 0.224999994f, 0.274999946f, -0.305504799f, 0.103862874f, -0.00903533027f, 0.00182409189f, 0.0f, -0.210122436f};
static const float act_tanh_y[16] = {-1.0f, -0.999966621f, -0.995054781f, -0.848283648f, -0.462117165f, -0.000999999698f, -9.99999997e-07f, 0.0f, 9.99999997e-07f, 0.000999999698f, 0.462117165f, 0.848283648f, 0.995054781f, 0.999966621f, 1.0f, 0.608855069f};
static const float act_tanh_dx[16] = {0.0f, -8.01073111e-05f, 0.00789278559f, 0.28041485f, -0.314579099f, 1.99999797f, 1.5f, -0.699999988f, 0.899999976f, 1.09999895f, -1.02238202f, 0.168248922f, -0.0019731964f, 3.00402389e-05f, 0.0f, -0.597830772f};
static const float sm_x[24] = {-2.72065473f, -1.77551341f, 0.452354461f, -3.12344646f, -2.1616025f, -6.64426327f, -2.05118847f, 1.54907298f, -1.86965668f, -0.648736f, -1.46602631f, 2.36086798f, 0.322772175f, -3.21443295f, -0.34994328f, -3.05091238f, -3.59393501f, 1.43531322f, -3.68857312f, -4.11010933f, 4.63062525f, -0.0996209979f, -1.25587916f, -0.766790152f};
static const float sm_dy[24] = {-0.129230425f, -0.0545947552f, 0.408346742f, 1.1263659f, 1.9350574f, 1.00768507f, 1.00464165f, -0.433519781f, -0.562711358f, -0.832753956f, -1.39554524f, -0.399295092f, -0.309939593f, -0.0560618415f, 0.517412901f, -1.59623682f, 0.356960088f, -2.29748225f, -0.871083438f, -1.67402792f, 0.563055158f, -1.4350673f, 0.71939975f, -1.37074745f};
static const float sm_y[24] = {0.19642517f, 0.244296923f, 0.813908577f, 0.00286655617f, 0.343550384f, 0.00187692465f, 0.0665734038f, 0.306626618f, 0.460024416f, 0.753826201f, 0.119518034f, 0.690506816f, 0.0132800788f, 0.007807157f, 0.694613755f, 0.0895752385f, 0.000264360511f, 0.816303968f, 0.0246487521f, 0.031058792f, 0.98645556f, 0.175888896f, 0.280737489f, 0.879365981f};
static const float sm_dx[24] = {-0.100132652f, 0.142816707f, 0.143166706f, 0.00439093867f, 0.534053445f, 0.00309107476f, 0.0514076613f, -0.00861740019f, -0.433920801f, -0.145907775f, -0.194574386f, 0.004226455f, -0.0114387535f, 0.0161782429f, -0.0156153385f, -0.0175452437f, -5.14041421e-05f, -0.138109043f, -0.0347788185f, -0.00849963259f, 0.0114901746f, 0.121930875f, 0.0503941327f, 0.0260448735f};
static const float lsm_y[24] = {-1.62747371f, -1.4093709f, -0.205907255f, -5.85464382f, -1.06842148f, -6.27812052f, -2.70945024f, -1.1821245f, -0.776475668f, -0.282593459f, -2.12428808f, -0.370329469f, -4.32149029f, -4.85271454f, -0.364399314f, -2.41267633f, -8.23819637f, -0.202968508f, -3.70302916f, -3.47187328f, -0.0136369988f, -1.73790276f, -1.2703352f, -0.128554106f};
static const float lsm_dx[24] = {-0.373409629f, -0.0839925557f, 0.394149601f, 1.1255244f, 1.50798452f, 1.00745916f, 1.00348043f, -0.523530364f, -1.13457501f, -0.923466682f, -1.39762998f, -0.601994097f, -0.318041444f, -0.0264835618f, 0.263372362f, -1.18051708f, 0.356798798f, 0.795176268f, -0.880098224f, -1.52988362f, -0.0387573615f, -0.768692613f, 0.616725862f, 2.71040082f};
static const float big_x[5] = {10000.0f, 9999.0f, 9995.0f, -10000.0f, 0.0f};
static const float big_sm[5] = {0.727475166f, 0.267623156f, 0.00490168901f, 0.0f, 0.0f};
static const float big_lsm[5] = {-0.318175405f, -1.31817544f, -5.31817532f, -20000.3184f, -10000.3184f};

// ================================================================================================
//  BatchNorm
// ================================================================================================

// Double reference of the training forward; mean/var_biased [c] out.
static void ref_bn_train(const VecD & x, const VecD * g, const VecD * b, VecD & y, VecD & mean, VecD & var, int n,
                         int c, int inner, double eps) {
    y.assign(x.size(), 0.0);
    mean.assign(c, 0.0);
    var.assign(c, 0.0);
    const double cnt = (double)n * inner;
    for (int ch = 0; ch < c; ch++) {
        double s = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < inner; k++) s += x[((size_t)i * c + ch) * inner + k];
        const double mu = s / cnt;
        double q = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < inner; k++) {
                double d = x[((size_t)i * c + ch) * inner + k] - mu;
                q += d * d;
            }
        mean[ch] = mu;
        var[ch] = q / cnt;
        const double is = 1.0 / std::sqrt(var[ch] + eps);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < inner; k++) {
                size_t at = ((size_t)i * c + ch) * inner + k;
                y[at] = (x[at] - mu) * is * (g ? (*g)[ch] : 1.0) + (b ? (*b)[ch] : 0.0);
            }
    }
}

static void test_batch_norm_shape(int n, int c, int inner, bool affine) {
    const float eps = 1e-5f;
    const size_t count = (size_t)n * c * inner;
    Vec x = rand_vec(count, -2.f, 3.f), g = rand_vec(c, 0.5f, 1.5f), b = rand_vec(c), w = rand_vec(count);
    Vec y(count), sm(c), si(c);
    const float * gp = affine ? g.data() : nullptr;
    const float * bp = affine ? b.data() : nullptr;
    batch_norm_forward_train(x.data(), gp, bp, y.data(), sm.data(), si.data(), nullptr, nullptr, nullptr, n, c, inner,
                             eps, 0.1f);
    VecD xd = to_d(x), gd = to_d(g), bd = to_d(b), yr, mr, vr;
    ref_bn_train(xd, affine ? &gd : nullptr, affine ? &bd : nullptr, yr, mr, vr, n, c, inner, eps);
    VecD isr(c);
    for (int ch = 0; ch < c; ch++) isr[ch] = 1.0 / std::sqrt(vr[ch] + eps);
    char tag[96];
    std::snprintf(tag, sizeof tag, "[n=%d c=%d inner=%d %s]", n, c, inner, affine ? "affine" : "no affine");
    char what[160];
    std::snprintf(what, sizeof what, "batch_norm train forward y %s", tag);
    check_close(what, y, yr, count, 1e-5, 1e-5);
    std::snprintf(what, sizeof what, "batch_norm save_mean/save_invstd %s", tag);
    check(worst_ratio(sm, mr, c, 1e-6, 1e-6) <= 1 && worst_ratio(si, isr, c, 1e-5, 0) <= 1, "%s", what);

    // backward vs finite differences of sum(w * y_ref)
    Vec dx(count), dg(c), db(c);
    batch_norm_backward(w.data(), x.data(), gp, sm.data(), si.data(), dx.data(), affine ? dg.data() : nullptr,
                        affine ? db.data() : nullptr, n, c, inner, false);
    auto loss = [&]() {
        VecD yy, m_, v_;
        ref_bn_train(xd, affine ? &gd : nullptr, affine ? &bd : nullptr, yy, m_, v_, n, c, inner, eps);
        return dot(yy, w);
    };
    VecD fdx = fd_grad(xd, loss, 1e-6);
    std::snprintf(what, sizeof what, "batch_norm backward dx vs finite differences %s", tag);
    check_close(what, dx, fdx, count, 1e-4, 2e-5);
    if (affine) {
        VecD fdg = fd_grad(gd, loss, 1e-6), fdb = fd_grad(bd, loss, 1e-6);
        std::snprintf(what, sizeof what, "batch_norm backward dgamma/dbeta vs finite differences %s", tag);
        check(worst_ratio(dg, fdg, c, 1e-4, 2e-5) <= 1 && worst_ratio(db, fdb, c, 1e-4, 2e-5) <= 1, "%s", what);
    }
    // accumulate_dx adds into an existing gradient; dgamma/dbeta may be null
    Vec acc(count, 0.5f);
    batch_norm_backward(w.data(), x.data(), gp, sm.data(), si.data(), acc.data(), nullptr, nullptr, n, c, inner, true);
    Vec expect(count);
    for (size_t i = 0; i < count; i++) expect[i] = 0.5f + dx[i];
    std::snprintf(what, sizeof what, "batch_norm backward accumulate_dx %s", tag);
    check_close(what, acc, expect, count, 1e-6, 1e-6);
}

static void test_batch_norm_running() {
    const int n = 5, c = 3, inner = 4;
    const size_t count = (size_t)n * c * inner;
    const float eps = 1e-5f;
    // momentum 0.1 and momentum None (cumulative average) over four steps
    for (int pass = 0; pass < 2; pass++) {
        const float momentum = pass == 0 ? 0.1f : -1.f;
        Vec rm(c, 0.f), rv(c, 1.f), y(count), sm(c), si(c);
        VecD rmr(c, 0.0), rvr(c, 1.0), mean_avg(c, 0.0), var_avg(c, 0.0);
        int32_t nbt = 0;
        Vec last_x;
        for (int step = 1; step <= 4; step++) {
            Vec x = rand_vec(count, -1.f + step, 2.f * step);
            batch_norm_forward_train(x.data(), nullptr, nullptr, y.data(), sm.data(), si.data(), rm.data(), rv.data(),
                                     &nbt, n, c, inner, eps, momentum);
            VecD yr, mr, vr;
            ref_bn_train(to_d(x), nullptr, nullptr, yr, mr, vr, n, c, inner, eps);
            const double m = momentum < 0 ? 1.0 / step : momentum;
            const double unb = (double)(n * inner) / (n * inner - 1);
            for (int ch = 0; ch < c; ch++) {
                rmr[ch] = (1 - m) * rmr[ch] + m * mr[ch];
                rvr[ch] = (1 - m) * rvr[ch] + m * vr[ch] * unb;
                mean_avg[ch] += mr[ch] / 4;
                var_avg[ch] += vr[ch] * unb / 4;
            }
            last_x = x;
        }
        const char * name = pass == 0 ? "momentum 0.1" : "momentum None";
        check(nbt == 4, "batch_norm num_batches_tracked counts training forwards (%s): %d", name, (int)nbt);
        char what[128];
        std::snprintf(what, sizeof what, "batch_norm running_mean after 4 steps (%s)", name);
        check_close(what, rm, rmr, c, 1e-5, 1e-6);
        std::snprintf(what, sizeof what, "batch_norm running_var (unbiased) after 4 steps (%s)", name);
        check_close(what, rv, rvr, c, 1e-5, 1e-6);
        if (pass == 1) {
            check(worst_ratio(rm, mean_avg, c, 1e-5, 1e-6) <= 1 && worst_ratio(rv, var_avg, c, 1e-5, 1e-6) <= 1,
                  "batch_norm momentum None = plain average of the batch statistics");
        }
        // eval with the running statistics
        Vec g = rand_vec(c, 0.5f, 1.5f), b = rand_vec(c), ye(count);
        batch_norm_forward_eval(last_x.data(), g.data(), b.data(), rm.data(), rv.data(), ye.data(), n, c, inner, eps);
        VecD yer(count);
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
                for (int k = 0; k < inner; k++) {
                    size_t at = ((size_t)i * c + ch) * inner + k;
                    yer[at] = (last_x[at] - (double)rm[ch]) / std::sqrt((double)rv[ch] + eps) * g[ch] + b[ch];
                }
        std::snprintf(what, sizeof what, "batch_norm eval forward uses running stats (%s)", name);
        check_close(what, ye, yer, count, 1e-5, 1e-5);
    }
    // track_running_stats=False: null running buffers and counter, same output
    Vec x = rand_vec(count), y1(count), y2(count), sm(c), si(c), rm(c, 0.f), rv(c, 1.f);
    int32_t nbt = 0;
    batch_norm_forward_train(x.data(), nullptr, nullptr, y1.data(), sm.data(), si.data(), rm.data(), rv.data(), &nbt, n,
                             c, inner, eps, 0.1f);
    batch_norm_forward_train(x.data(), nullptr, nullptr, y2.data(), sm.data(), si.data(), nullptr, nullptr, nullptr, n,
                             c, inner, eps, 0.1f);
    check(y1 == y2, "batch_norm without running stats (null buffers) gives the same output");
    // a channel with a large offset (1000 + small noise): the two-pass variance stays accurate
    Vec xo(count);
    for (auto & v : xo) v = 1000.f + frand(-0.5f, 0.5f);
    batch_norm_forward_train(xo.data(), nullptr, nullptr, y1.data(), sm.data(), si.data(), nullptr, nullptr, nullptr, n,
                             c, inner, eps, 0.1f);
    VecD yr, mr, vr;
    ref_bn_train(to_d(xo), nullptr, nullptr, yr, mr, vr, n, c, inner, eps);
    // y = x*alpha + shift (torch's form) rounds x*alpha ~ 3400 to ~2.4e-4 before the shift cancels it
    check_close("batch_norm large mean (1000 +- 0.5) stays accurate", y1, yr, count, 1e-4, 6e-4);
    // constant input: variance 0, y = beta, no NaN
    Vec xc(count, 3.25f), gb(c, 2.f), bb(c, -0.5f);
    batch_norm_forward_train(xc.data(), gb.data(), bb.data(), y1.data(), sm.data(), si.data(), nullptr, nullptr, nullptr,
                             n, c, inner, eps, 0.1f);
    bool ok = true;
    for (float v : y1) ok = ok && v == -0.5f;
    check(ok, "batch_norm constant input gives beta, no NaN");
}

static void test_batch_norm_torch() {
    // BatchNorm2d(2), [3,2,2,2], two training steps, backward of the second, then eval on x1
    const int n = 3, c = 2, inner = 4;
    Vec rm(c, 0.f), rv(c, 1.f), y(24), sm(c), si(c), dx(24), dg(c), db(c), ye(24);
    int32_t nbt = 0;
    batch_norm_forward_train(bn_x1, bn_g, bn_b, y.data(), sm.data(), si.data(), rm.data(), rv.data(), &nbt, n, c, inner,
                             1e-5f, 0.1f);
    batch_norm_forward_train(bn_x2, bn_g, bn_b, y.data(), sm.data(), si.data(), rm.data(), rv.data(), &nbt, n, c, inner,
                             1e-5f, 0.1f);
    check_torch("torch BatchNorm2d training output", y.data(), bn_y2, 24);
    check_torch("torch BatchNorm2d running_mean after 2 steps", rm.data(), bn_rm, 2);
    check_torch("torch BatchNorm2d running_var after 2 steps", rv.data(), bn_rv, 2);
    batch_norm_backward(bn_dy, bn_x2, bn_g, sm.data(), si.data(), dx.data(), dg.data(), db.data(), n, c, inner, false);
    check_torch("torch BatchNorm2d grad input", dx.data(), bn_dx, 24, 2e-6);
    check_torch("torch BatchNorm2d grad weight", dg.data(), bn_dg, 2);
    check_torch("torch BatchNorm2d grad bias", db.data(), bn_db, 2);
    batch_norm_forward_eval(bn_x1, bn_g, bn_b, rm.data(), rv.data(), ye.data(), n, c, inner, 1e-5f);
    check_torch("torch BatchNorm2d eval output", ye.data(), bn_yeval, 24);
    // BatchNorm1d(3, momentum=None, affine=False), [4,3], three steps
    Vec rm1(3, 0.f), rv1(3, 1.f), y1(12), sm1(3), si1(3);
    int32_t nbt1 = 0;
    const float * xs[3] = {bn1_x0, bn1_x1, bn1_x2};
    for (int k = 0; k < 3; k++)
        batch_norm_forward_train(xs[k], nullptr, nullptr, y1.data(), sm1.data(), si1.data(), rm1.data(), rv1.data(),
                                 &nbt1, 4, 3, 1, 1e-5f, -1.f);
    check_torch("torch BatchNorm1d momentum=None running_mean", rm1.data(), bn1_rm, 3);
    check_torch("torch BatchNorm1d momentum=None running_var", rv1.data(), bn1_rv, 3);
}

// ================================================================================================
//  LayerNorm
// ================================================================================================

static void ref_ln(const VecD & x, const VecD * g, const VecD * b, VecD & y, int rows, int cols, double eps,
                   VecD * mean = nullptr, VecD * rstd = nullptr) {
    y.assign(x.size(), 0.0);
    if (mean) mean->assign(rows, 0.0);
    if (rstd) rstd->assign(rows, 0.0);
    for (int r = 0; r < rows; r++) {
        double s = 0, q = 0;
        for (int j = 0; j < cols; j++) s += x[(size_t)r * cols + j];
        const double mu = s / cols;
        for (int j = 0; j < cols; j++) q += (x[(size_t)r * cols + j] - mu) * (x[(size_t)r * cols + j] - mu);
        const double rs = 1.0 / std::sqrt(q / cols + eps);
        if (mean) (*mean)[r] = mu;
        if (rstd) (*rstd)[r] = rs;
        for (int j = 0; j < cols; j++) {
            size_t at = (size_t)r * cols + j;
            y[at] = (x[at] - mu) * rs * (g ? (*g)[j] : 1.0) + (b ? (*b)[j] : 0.0);
        }
    }
}

static void test_layer_norm_case(int rows, int cols, bool has_g, bool has_b, float shift) {
    const float eps = 1e-5f;
    const size_t count = (size_t)rows * cols;
    Vec x = rand_vec(count, shift - 2.f, shift + 2.f), g = rand_vec(cols, 0.5f, 1.5f), b = rand_vec(cols),
        w = rand_vec(count);
    Vec y(count), mean(rows), rstd(rows);
    const float * gp = has_g ? g.data() : nullptr;
    const float * bp = has_b ? b.data() : nullptr;
    layer_norm_forward(x.data(), gp, bp, y.data(), mean.data(), rstd.data(), rows, cols, eps);
    VecD xd = to_d(x), gd = to_d(g), bd = to_d(b), yr, mr, rr;
    ref_ln(xd, has_g ? &gd : nullptr, has_b ? &bd : nullptr, yr, rows, cols, eps, &mr, &rr);
    char tag[96], what[160];
    std::snprintf(tag, sizeof tag, "[%dx%d gamma=%d beta=%d mean~%g]", rows, cols, (int)has_g, (int)has_b, shift);
    std::snprintf(what, sizeof what, "layer_norm forward y %s", tag);
    check_close(what, y, yr, count, 1e-5, 2e-5);
    std::snprintf(what, sizeof what, "layer_norm saved mean/rstd %s", tag);
    check(worst_ratio(mean, mr, rows, 1e-6, 1e-6) <= 1 && worst_ratio(rstd, rr, rows, 1e-5, 0) <= 1, "%s", what);

    Vec dx(count), dg(cols), db(cols);
    layer_norm_backward(w.data(), x.data(), gp, mean.data(), rstd.data(), dx.data(), has_g ? dg.data() : nullptr,
                        has_b ? db.data() : nullptr, rows, cols, false);
    auto loss = [&]() {
        VecD yy;
        ref_ln(xd, has_g ? &gd : nullptr, has_b ? &bd : nullptr, yy, rows, cols, eps);
        return dot(yy, w);
    };
    VecD fdx = fd_grad(xd, loss, 1e-6);
    std::snprintf(what, sizeof what, "layer_norm backward dx vs finite differences %s", tag);
    check_close(what, dx, fdx, count, 1e-4, 2e-5);
    if (has_g) {
        VecD fdg = fd_grad(gd, loss, 1e-6);
        std::snprintf(what, sizeof what, "layer_norm backward dgamma vs finite differences %s", tag);
        check_close(what, dg, fdg, cols, 1e-4, 2e-5);
    }
    if (has_b) {
        VecD fdb = fd_grad(bd, loss, 1e-6);
        std::snprintf(what, sizeof what, "layer_norm backward dbeta vs finite differences %s", tag);
        check_close(what, db, fdb, cols, 1e-4, 2e-5);
    }
    // accumulate_dx; dgamma/dbeta are overwritten even when they hold garbage
    Vec acc(count, -0.25f), dg2(cols, 123.f), db2(cols, 456.f);
    layer_norm_backward(w.data(), x.data(), gp, mean.data(), rstd.data(), acc.data(), has_g ? dg2.data() : nullptr,
                        has_b ? db2.data() : nullptr, rows, cols, true);
    Vec expect(count);
    for (size_t i = 0; i < count; i++) expect[i] = -0.25f + dx[i];
    std::snprintf(what, sizeof what, "layer_norm accumulate_dx adds, dgamma/dbeta overwritten %s", tag);
    check(worst_ratio(acc, expect, count, 1e-6, 1e-6) <= 1 && (!has_g || dg2 == dg) && (!has_b || db2 == db), "%s",
          what);
}

static void test_layer_norm_torch() {
    Vec y(15), mean(3), rstd(3), dx(15), dg(5), db(5);
    layer_norm_forward(ln_x, ln_g, ln_b, y.data(), mean.data(), rstd.data(), 3, 5, 1e-5f);
    check_torch("torch LayerNorm(5) output", y.data(), ln_y, 15);
    layer_norm_backward(ln_dy, ln_x, ln_g, mean.data(), rstd.data(), dx.data(), dg.data(), db.data(), 3, 5, false);
    check_torch("torch LayerNorm(5) grad input", dx.data(), ln_dx, 15, 2e-6);
    check_torch("torch LayerNorm(5) grad weight", dg.data(), ln_dg, 5);
    check_torch("torch LayerNorm(5) grad bias", db.data(), ln_db, 5);
    layer_norm_forward(ln_x, nullptr, nullptr, y.data(), mean.data(), rstd.data(), 3, 5, 1e-5f);
    check_torch("torch LayerNorm(5, elementwise_affine=False) output", y.data(), ln_y_na, 15);
    layer_norm_backward(ln_dy, ln_x, nullptr, mean.data(), rstd.data(), dx.data(), nullptr, nullptr, 3, 5, false);
    check_torch("torch LayerNorm(5, elementwise_affine=False) grad input", dx.data(), ln_dx_na, 15, 2e-6);
}

// ================================================================================================
//  Dropout
// ================================================================================================

static void test_dropout() {
    const size_t count = 1000000;
    Vec x(count, 1.f), y(count), mask(count);
    for (float p : {0.1f, 0.3f, 0.5f, 0.9f}) {
        dropout_forward(x.data(), y.data(), mask.data(), count, p, 1234, 7);
        size_t kept = 0;
        double sum = 0;
        bool values_ok = true;
        const float scale = 1.f / (1.f - p);
        for (size_t i = 0; i < count; i++) {
            kept += mask[i] != 0.f;
            sum += y[i];
            values_ok = values_ok && (mask[i] == 0.f || mask[i] == scale) && y[i] == x[i] * mask[i];
        }
        const double frac = (double)kept / count, mean = sum / count;
        const double sigma = std::sqrt(p * (1.0 - p) / count);
        check(std::fabs(frac - (1 - p)) < 5 * sigma,
              "dropout p=%.1f keeps %.5f of 1e6 (expect %.2f +- %.5f)", p, frac, 1 - p, 5 * sigma);
        check(std::fabs(mean - 1.0) < 5 * sigma * scale, "dropout p=%.1f preserves the mean: %.5f", p, mean);
        check(values_ok, "dropout p=%.1f mask is 0 or 1/(1-p) and y = x * mask", p);
    }
    // runs of the mask look independent: P(kept at i and i+1) ~ (1-p)^2
    {
        dropout_forward(x.data(), y.data(), mask.data(), count, 0.5f, 99, 0);
        size_t both = 0;
        for (size_t i = 0; i + 1 < count; i++) both += mask[i] != 0.f && mask[i + 1] != 0.f;
        const double f = (double)both / (count - 1);
        check(std::fabs(f - 0.25) < 0.003, "dropout neighbouring elements independent: P(both kept) = %.4f", f);
    }
    // determinism and step/seed dependence
    Vec m1(count), m2(count), m3(count), m4(count);
    dropout_forward(x.data(), y.data(), m1.data(), count, 0.4f, 42, 3);
    dropout_forward(x.data(), y.data(), m2.data(), count, 0.4f, 42, 3);
    dropout_forward(x.data(), y.data(), m3.data(), count, 0.4f, 42, 4);
    dropout_forward(x.data(), y.data(), m4.data(), count, 0.4f, 43, 3);
    check(m1 == m2, "dropout is deterministic for the same (seed, step)");
    size_t d_step = 0, d_seed = 0;
    for (size_t i = 0; i < count; i++) {
        d_step += (m1[i] != 0.f) != (m3[i] != 0.f);
        d_seed += (m1[i] != 0.f) != (m4[i] != 0.f);
    }
    // independent masks differ on 2p(1-p) = 0.48 of the elements
    check(std::fabs((double)d_step / count - 0.48) < 0.005, "dropout next step gives an independent mask (%.4f differ)",
          (double)d_step / count);
    check(std::fabs((double)d_seed / count - 0.48) < 0.005, "dropout other seed gives an independent mask (%.4f differ)",
          (double)d_seed / count);
    // a prefix of the buffer does not depend on the count (counter-based)
    {
        Vec ms(1000), ys(1000);
        dropout_forward(x.data(), ys.data(), ms.data(), 1000, 0.4f, 42, 3);
        check(std::equal(ms.begin(), ms.end(), m1.begin()), "dropout mask of element i independent of count");
    }
    // p = 0 keeps everything, p = 1 drops everything without inf/NaN
    Vec xr = rand_vec(4096, -5.f, 5.f), yr(4096), mr(4096);
    dropout_forward(xr.data(), yr.data(), mr.data(), 4096, 0.f, 5, 5);
    bool all_kept = true;
    for (size_t i = 0; i < 4096; i++) all_kept = all_kept && mr[i] == 1.f && yr[i] == xr[i];
    check(all_kept, "dropout p=0 keeps every element unchanged (mask 1)");
    dropout_forward(xr.data(), yr.data(), mr.data(), 4096, 1.f, 5, 5);
    bool all_zero = true;
    for (size_t i = 0; i < 4096; i++) all_zero = all_zero && mr[i] == 0.f && yr[i] == 0.f;
    check(all_zero, "dropout p=1 gives zeros (mask 0, no inf/NaN)");
    // backward: dx = dy * mask, accumulate adds
    Vec dy = rand_vec(4096), dx(4096), acc(4096, 2.f);
    dropout_forward(xr.data(), yr.data(), mr.data(), 4096, 0.3f, 8, 1);
    dropout_backward(dy.data(), mr.data(), dx.data(), 4096, false);
    dropout_backward(dy.data(), mr.data(), acc.data(), 4096, true);
    bool bok = true, aok = true;
    for (size_t i = 0; i < 4096; i++) {
        bok = bok && dx[i] == dy[i] * mr[i];
        aok = aok && acc[i] == 2.f + dy[i] * mr[i];
    }
    check(bok, "dropout backward dx = dy * mask");
    check(aok, "dropout backward accumulate");
}

// ================================================================================================
//  Activations
// ================================================================================================

static const char * act_name(Activation k) {
    static const char * names[] = {"leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"};
    return names[(int)k];
}

static double ref_act(Activation k, double a, double x) {
    switch (k) {
    case Activation::LEAKY_RELU: return x > 0 ? x : a * x;
    case Activation::ELU: return x <= 0 ? a * std::expm1(x) : x;
    case Activation::GELU: return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case Activation::GELU_TANH:
        return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::SILU: return x / (1 + std::exp(-x));
    case Activation::SIGMOID: return 1 / (1 + std::exp(-x));
    case Activation::TANH: return std::tanh(x);
    }
    return NAN;
}

static void test_activations() {
    const size_t count = 2000;
    for (int ki = 0; ki < ACTIVATION_COUNT; ki++) {
        const Activation k = (Activation)ki;
        const float alpha = k == Activation::LEAKY_RELU ? 0.02f : 1.3f;
        Vec x = rand_vec(count, -6.f, 6.f);
        // keep away from the kinks of leaky_relu / elu for the finite differences
        for (auto & v : x)
            if (std::fabs(v) < 0.01f) v = 0.5f;
        Vec y(count), dy = rand_vec(count), dx(count);
        activation_forward(k, alpha, x.data(), y.data(), count);
        VecD yr(count);
        for (size_t i = 0; i < count; i++) yr[i] = ref_act(k, alpha, x[i]);
        char what[128];
        std::snprintf(what, sizeof what, "%s forward vs double reference", act_name(k));
        check_close(what, y, yr, count, 2e-6, 2e-7);
        activation_backward(k, alpha, dy.data(), x.data(), y.data(), dx.data(), count, false);
        VecD fd(count);
        for (size_t i = 0; i < count; i++) {
            const double h = 1e-6 * std::max(1.0, std::fabs((double)x[i]));
            fd[i] = dy[i] * (ref_act(k, alpha, x[i] + h) - ref_act(k, alpha, x[i] - h)) / (2 * h);
        }
        std::snprintf(what, sizeof what, "%s backward vs finite differences", act_name(k));
        check_close(what, dx, fd, count, 1e-5, 1e-6);
        Vec acc(count, 0.75f), expect(count);
        activation_backward(k, alpha, dy.data(), x.data(), y.data(), acc.data(), count, true);
        for (size_t i = 0; i < count; i++) expect[i] = 0.75f + dx[i];
        std::snprintf(what, sizeof what, "%s backward accumulate", act_name(k));
        check_close(what, acc, expect, count, 1e-6, 1e-7);
        Vec inplace = x;
        activation_forward(k, alpha, inplace.data(), inplace.data(), count);
        std::snprintf(what, sizeof what, "%s forward in place (y aliases x)", act_name(k));
        check(inplace == y, "%s", what);
    }
}

// Edge cases recorded from torch 1.13 (default alphas: LeakyReLU 0.01, ELU 1.0), dy = 1.
static void test_activation_edges() {
    const float nan = NAN;
    const float x[6] = {nan, 0.f, 1e4f, -1e4f, 50.f, -50.f};
    const float dy[6] = {1, 1, 1, 1, 1, 1};
    struct Edge {
        Activation k;
        float alpha;
        float y[6], dx[6];
    };
    const Edge edges[] = {
        {Activation::LEAKY_RELU, 0.01f, {nan, 0.f, 1e4f, -100.f, 50.f, -0.5f},
         {0.01f, 0.01f, 1.f, 0.01f, 1.f, 0.01f}},
        {Activation::ELU, 1.f, {nan, 0.f, 1e4f, -1.f, 50.f, -1.f}, {1.f, 1.f, 1.f, 0.f, 1.f, 1.92874989e-22f}},
        {Activation::GELU, 0.f, {nan, 0.f, 1e4f, 0.f, 50.f, 0.f}, {nan, 0.5f, 1.f, 0.f, 1.f, 0.f}},
        {Activation::GELU_TANH, 0.f, {nan, 0.f, 1e4f, -0.f, 50.f, -0.f}, {nan, 0.5f, 1.f, 0.f, 1.f, 0.f}},
        {Activation::SILU, 0.f, {nan, 0.f, 1e4f, -0.f, 50.f, -9.64374899e-21f},
         {nan, 0.5f, 1.f, -0.f, 1.f, -9.45087454e-21f}},
        {Activation::SIGMOID, 0.f, {nan, 0.5f, 1.f, 0.f, 1.f, 1.92874989e-22f},
         {nan, 0.25f, 0.f, 0.f, 0.f, 1.92874989e-22f}},
        {Activation::TANH, 0.f, {nan, 0.f, 1.f, -1.f, 1.f, -1.f}, {nan, 1.f, 0.f, 0.f, 0.f, 0.f}},
    };
    for (const Edge & e : edges) {
        float y[6], dx[6];
        activation_forward(e.k, e.alpha, x, y, 6);
        activation_backward(e.k, e.alpha, dy, x, y, dx, 6, false);
        const bool ok = worst_ratio(y, e.y, 6, 1e-6, 1e-30) <= 1 && worst_ratio(dx, e.dx, 6, 1e-6, 1e-30) <= 1;
        check(ok, "%s edge cases as torch (NaN, 0, +-1e4, +-50): forward and backward", act_name(e.k));
    }
}

static void test_activations_torch() {
    struct Rec {
        Activation k;
        float alpha;
        const float * y;
        const float * dx;
    };
    const Rec recs[] = {
        {Activation::LEAKY_RELU, 0.01f, act_leaky_y, act_leaky_dx}, {Activation::ELU, 1.3f, act_elu_y, act_elu_dx},
        {Activation::GELU, 0.f, act_gelu_y, act_gelu_dx},           {Activation::GELU_TANH, 0.f, act_gelut_y, act_gelut_dx},
        {Activation::SILU, 0.f, act_silu_y, act_silu_dx},           {Activation::SIGMOID, 0.f, act_sigm_y, act_sigm_dx},
        {Activation::TANH, 0.f, act_tanh_y, act_tanh_dx},
    };
    for (const Rec & r : recs) {
        float y[16], dx[16];
        activation_forward(r.k, r.alpha, act_x, y, 16);
        activation_backward(r.k, r.alpha, act_dy, act_x, y, dx, 16, false);
        char what[128];
        std::snprintf(what, sizeof what, "torch %s forward (16 values incl. 0, +-1e-6, +-20)", act_name(r.k));
        if (r.k != Activation::GELU) {
            check_close(what, y, r.y, 16, 1e-6, 1e-30);
            std::snprintf(what, sizeof what, "torch %s backward", act_name(r.k));
            check_close(what, dx, r.dx, 16, 1e-6, 1e-30);
            continue;
        }
        // Exact GELU: torch's 0.5*(1 + erf(x/sqrt2)) cancels for x < 0 (erf ~ -1), so its value and
        // ours (same formula, glibc erff instead of Sleef's) each carry up to ~2 ulp(1) of cdf
        // error, times |x| (forward) or |dy| (backward). Allow that on top of 1e-6 relative.
        double wy = 0, wd = 0;
        for (int i = 0; i < 16; i++) {
            const double ulp1 = std::ldexp(1.0, -23);
            const double ty = 1e-6 * std::fabs(r.y[i]) + 2 * ulp1 * 0.5 * std::fabs(act_x[i]) + 1e-30;
            const double td = 1e-6 * std::fabs(r.dx[i]) + 2 * ulp1 * 0.5 * std::fabs(act_dy[i]) + 1e-30;
            wy = std::max(wy, std::fabs((double)y[i] - r.y[i]) / ty);
            wd = std::max(wd, std::fabs((double)dx[i] - r.dx[i]) / td);
        }
        check(wy <= 1, "%s (worst err/tol %.3g; tol includes torch's 1+erf cancellation)", what, wy);
        check(wd <= 1, "torch gelu backward (worst err/tol %.3g; same cancellation allowance)", wd);
    }
}

// ================================================================================================
//  Softmax / LogSoftmax
// ================================================================================================

static void ref_softmax(const VecD & x, VecD & y, int outer, int dim, int inner, bool log) {
    y.assign(x.size(), 0.0);
    for (int o = 0; o < outer; o++)
        for (int i = 0; i < inner; i++) {
            auto at = [&](int d) { return ((size_t)o * dim + d) * inner + i; };
            double m = -INFINITY, s = 0;
            for (int d = 0; d < dim; d++) m = std::max(m, x[at(d)]);
            for (int d = 0; d < dim; d++) s += std::exp(x[at(d)] - m);
            for (int d = 0; d < dim; d++) y[at(d)] = log ? x[at(d)] - m - std::log(s) : std::exp(x[at(d)] - m) / s;
        }
}

static void test_softmax_shape(int outer, int dim, int inner) {
    const size_t count = (size_t)outer * dim * inner;
    for (int log = 0; log < 2; log++) {
        Vec x = rand_vec(count, -4.f, 4.f), y(count), w = rand_vec(count), dx(count);
        softmax_forward(x.data(), y.data(), outer, dim, inner, log);
        VecD xd = to_d(x), yr;
        ref_softmax(xd, yr, outer, dim, inner, log);
        char what[128];
        const char * nm = log ? "log_softmax" : "softmax";
        std::snprintf(what, sizeof what, "%s forward [%d,%d,%d] vs double reference", nm, outer, dim, inner);
        check_close(what, y, yr, count, 2e-6, log ? 1e-6 : 1e-8);
        softmax_backward(w.data(), y.data(), dx.data(), outer, dim, inner, log, false);
        auto loss = [&]() {
            VecD yy;
            ref_softmax(xd, yy, outer, dim, inner, log);
            return dot(yy, w);
        };
        VecD fd = fd_grad(xd, loss, 1e-6);
        std::snprintf(what, sizeof what, "%s backward [%d,%d,%d] vs finite differences", nm, outer, dim, inner);
        check_close(what, dx, fd, count, 1e-4, 1e-5);
        Vec acc(count, 1.5f), expect(count);
        softmax_backward(w.data(), y.data(), acc.data(), outer, dim, inner, log, true);
        for (size_t i = 0; i < count; i++) expect[i] = 1.5f + dx[i];
        std::snprintf(what, sizeof what, "%s backward accumulate [%d,%d,%d]", nm, outer, dim, inner);
        check_close(what, acc, expect, count, 1e-6, 1e-7);
    }
}

static void test_softmax_special() {
    // logits around 1e4: no overflow, rows sum to 1, log_softmax finite
    const int outer = 4, dim = 10;
    Vec x(outer * dim), y(outer * dim), ly(outer * dim);
    for (int i = 0; i < outer * dim; i++) x[i] = (i % 2 ? 1e4f : -1e4f) + frand(-3.f, 3.f);
    softmax_forward(x.data(), y.data(), outer, dim, 1, false);
    softmax_forward(x.data(), ly.data(), outer, dim, 1, true);
    bool finite = true, sums = true, consistent = true;
    for (int o = 0; o < outer; o++) {
        double s = 0;
        for (int d = 0; d < dim; d++) {
            const int i = o * dim + d;
            finite = finite && std::isfinite(y[i]) && std::isfinite(ly[i]);
            s += y[i];
            consistent = consistent && std::fabs(std::exp(ly[i]) - y[i]) <= 1e-6 * (1 + y[i]);
        }
        sums = sums && std::fabs(s - 1) < 1e-6;
    }
    check(finite, "softmax/log_softmax with logits ~ +-1e4: no inf/NaN");
    check(sums, "softmax with logits ~ +-1e4: rows sum to 1");
    check(consistent, "exp(log_softmax) == softmax");
    // a NaN poisons its own row only (torch: the row max is NaN)
    Vec xn = {1.f, NAN, 2.f, 1.f, 2.f, 3.f}, yn(6);
    softmax_forward(xn.data(), yn.data(), 2, 3, 1, false);
    check(std::isnan(yn[0]) && std::isnan(yn[1]) && std::isnan(yn[2]) && std::isfinite(yn[3]) && std::isfinite(yn[5]),
          "softmax NaN propagates within its row only");
    // dim of 1: softmax 1, log_softmax 0, gradients 0
    Vec x1 = {5.f, -3.f}, y1(2), d1 = {1.f, 2.f}, g1(2);
    softmax_forward(x1.data(), y1.data(), 2, 1, 1, false);
    softmax_backward(d1.data(), y1.data(), g1.data(), 2, 1, 1, false, false);
    bool ok = y1[0] == 1.f && y1[1] == 1.f && g1[0] == 0.f && g1[1] == 0.f;
    softmax_forward(x1.data(), y1.data(), 2, 1, 1, true);
    softmax_backward(d1.data(), y1.data(), g1.data(), 2, 1, 1, true, false);
    ok = ok && y1[0] == 0.f && y1[1] == 0.f && g1[0] == 0.f && g1[1] == 0.f;
    check(ok, "softmax over a dimension of size 1: y = 1 (log 0), gradient 0");
}

static void test_softmax_torch() {
    Vec y(24), dx(24);
    softmax_forward(sm_x, y.data(), 2, 3, 4, false);
    check_torch("torch softmax(dim=1) of [2,3,4]", y.data(), sm_y, 24);
    softmax_backward(sm_dy, y.data(), dx.data(), 2, 3, 4, false, false);
    check_torch("torch softmax(dim=1) backward", dx.data(), sm_dx, 24, 2e-6);
    softmax_forward(sm_x, y.data(), 2, 3, 4, true);
    check_torch("torch log_softmax(dim=1) of [2,3,4]", y.data(), lsm_y, 24);
    softmax_backward(sm_dy, y.data(), dx.data(), 2, 3, 4, true, false);
    check_torch("torch log_softmax(dim=1) backward", dx.data(), lsm_dx, 24, 2e-6);
    float yb[5];
    softmax_forward(big_x, yb, 1, 5, 1, false);
    check_close("torch softmax of {1e4, 1e4-1, 1e4-5, -1e4, 0}", yb, big_sm, 5, 1e-6, 1e-30);
    softmax_forward(big_x, yb, 1, 5, 1, true);
    check_close("torch log_softmax of {1e4, 1e4-1, 1e4-5, -1e4, 0}", yb, big_lsm, 5, 1e-6, 1e-30);
}

// ================================================================================================
//  Structure
// ================================================================================================

static void test_structure() {
    const size_t count = 1003;
    Vec a = rand_vec(count), b = rand_vec(count), y(count);
    add_forward(a.data(), b.data(), y.data(), count);
    bool ok = true;
    for (size_t i = 0; i < count; i++) ok = ok && y[i] == a[i] + b[i];
    check(ok, "add_forward y = a + b");
    Vec a2 = a;
    add_forward(a2.data(), b.data(), a2.data(), count);
    check(a2 == y, "add_forward in place (y aliases a)");
    Vec d(count, 9.f);
    copy_forward(a.data(), d.data(), count, false);
    check(d == a, "copy_forward overwrites");
    copy_forward(b.data(), d.data(), count, true);
    check(d == y, "copy_forward accumulate adds");
    // concat [3,2] and [3,4] into [3,6]; slice back
    const int outer = 3;
    Vec p = rand_vec(outer * 2), q = rand_vec(outer * 4), cat(outer * 6, NAN);
    concat_copy(p.data(), cat.data(), outer, 2, 6, 0);
    concat_copy(q.data(), cat.data(), outer, 4, 6, 2);
    ok = true;
    for (int o = 0; o < outer; o++)
        for (int j = 0; j < 6; j++) ok = ok && cat[o * 6 + j] == (j < 2 ? p[o * 2 + j] : q[o * 4 + j - 2]);
    check(ok, "concat_copy writes each input at its column offset");
    Vec dp(outer * 2, 7.f), dq(outer * 4, 7.f);
    slice_copy(cat.data(), dp.data(), outer, 2, 6, 0, false);
    slice_copy(cat.data(), dq.data(), outer, 4, 6, 2, false);
    check(dp == p && dq == q, "slice_copy recovers each concatenated input");
    slice_copy(cat.data(), dq.data(), outer, 4, 6, 2, true);
    ok = true;
    for (size_t i = 0; i < dq.size(); i++) ok = ok && dq[i] == q[i] + q[i];
    check(ok, "slice_copy accumulate adds");
}

int main() {
    test_batch_norm_shape(4, 3, 5, true);
    test_batch_norm_shape(7, 2, 1, true);
    test_batch_norm_shape(3, 4, 6, false);
    test_batch_norm_shape(2, 1, 1, true);
    test_batch_norm_running();
    test_batch_norm_torch();
    test_layer_norm_case(6, 13, true, true, 0.f);
    test_layer_norm_case(5, 8, false, false, 0.f);
    test_layer_norm_case(4, 7, true, false, 0.f);
    test_layer_norm_case(3, 64, true, true, 50.f);
    test_layer_norm_case(2, 1, true, true, 0.f);
    test_layer_norm_torch();
    test_dropout();
    test_activations();
    test_activation_edges();
    test_activations_torch();
    test_softmax_shape(3, 7, 1);
    test_softmax_shape(2, 5, 4);
    test_softmax_shape(1, 40, 1);
    test_softmax_shape(4, 3, 9);
    test_softmax_special();
    test_softmax_torch();
    test_structure();
    return finish();
}
