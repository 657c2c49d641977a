// Conv2d and ConvTranspose2d on CUDA (the CPU's native/core/kernels/conv2d.cpp, conv-transpose2d.cpp,
// ops/conv.cpp): im2col into the workspace + the batched GEMM of kernels/gemm.cuh.
//
// The same engine as the CPU's conv_detail: a convolution is an "image side" [C, H, W] per group that
// im2col reads and col2im writes, a "column side" [M, Ho*Wo] per group and a weight [groups, M, Kc]
// (Kc = C*kh*kw, P = Ho*Wo). Conv2d puts x on the image side; ConvTranspose2d puts y (forward) / dy
// (backward) there and x on the column side. Per sample i and group g:
//   col   [Kc, P] = im2col(img_i,g)                      (1x1, stride 1, no padding: col IS img_i,g)
//   dout  [M, P] (+)= W_g [M, Kc] . col + bias_out         one GEMM over all (i, g) of a chunk
//   dW_g  [M, Kc]  = sum over i of d_i,g [M, P] . col^T    GEMM with a reduction over the samples
//   dcol  [Kc, P]  = W_g^T . d_i,g  ->  dimg (+)= col2im(dcol) + bias_img
//   db_d / db_img  = sums of d / img over samples and pixels, per channel
// Conv2d:     forward dout = y (bias_out = b); backward d = dy, dW = dW, dimg = dx, db_d = db.
// ConvTranspose2d: forward d = x, dimg = y (bias_img = b); backward img = dy, d = x, dout = dx, dW, db_img = db.
//
// Workspace (cuda_workspace, at the program's max_batch): the columns of a chunk of samples (capped at
// kColBudget floats; the batch is walked in chunks when it does not fit) and, for the weight gradient,
// the partials of a split reduction (the sum over the batch is cut into up to kMaxSlices slices so
// that a small weight still fills the GPU; the slices are summed in order: deterministic).
// col2im is a gather (each image pixel sums the taps that land on it): no atomics, one write per pixel.
#include <string>
#include "cuda-args.h"
#include "kernels/gemm.cuh"

namespace nl {

namespace {

using gemm_cuda::GemmDesc;

// floats of im2col columns per chunk (64 MiB); the emulation test sets it small to walk the batch in chunks
#ifdef NL_CUDA_CONV_COL_BUDGET
constexpr int64_t kColBudget = NL_CUDA_CONV_COL_BUDGET;
#else
constexpr int64_t kColBudget = (int64_t)1 << 24;
#endif
constexpr int64_t kPartBudget = (int64_t)1 << 22;  // floats of weight-gradient partials (16 MiB)
constexpr int64_t kMaxSlices = 32;
constexpr int64_t kSumSlices = 64;                  // most blocks per channel of a bias-gradient sum
constexpr int kThreads = 256;

// Image side [C, H, W] of ONE group; column side [M, Ho, Wo]; top/left padding (the bottom/right
// padding only matters through Ho/Wo, as on the CPU).
struct Geom {
    int64_t C, H, W;
    int64_t kh, kw, sh, sw, ph, pw, dh, dw;
    int64_t Ho, Wo;
    __host__ __device__ int64_t Kc() const { return C * kh * kw; }
    __host__ __device__ int64_t P() const { return Ho * Wo; }
    __host__ __device__ int64_t HW() const { return H * W; }
    // the CPU's "direct" case: the columns are the image itself
    bool direct() const { return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && Ho == H && Wo == W; }
};

// What one call computes (null: not wanted); shapes per sample as in the header comment.
struct Job {
    Geom g{};
    int64_t groups = 1, M = 0;
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

// Which products a job makes: all the workspace depends on (known before any pointer is).
struct Needs {
    bool dout, dW, dimg;
    int64_t sum_channels;   // channels of the bias gradient (0: none)
};

struct Plan {
    int64_t chunk = 1;        // samples per pass
    int64_t col_floats = 0;   // columns of one chunk
    int64_t slices_cap = 1;   // most slices of the weight-gradient reduction
    int64_t part_floats = 0;  // their partials (0 when not split)
    int64_t sum_floats = 0;   // the bias gradient's partial sums (kSumSlices per channel)
    static int64_t up(int64_t f) { return (f + 63) / 64 * 64; }   // 256-byte aligned regions
    int64_t part_offset() const { return up(col_floats); }
    int64_t sum_offset() const { return part_offset() + up(part_floats); }
    size_t bytes() const { return (size_t)(sum_offset() + sum_floats) * sizeof(float); }
};

Plan make_plan(const Geom & g, int64_t groups, int64_t M, Needs nd, int64_t max_batch) {
    Plan p;
    p.chunk = max_batch > 0 ? max_batch : 1;
    const bool cols = !g.direct() && (nd.dout || nd.dW || nd.dimg);
    if (cols) {
        const int64_t per_sample = groups * g.Kc() * g.P();
        const int64_t fit = per_sample > 0 ? kColBudget / per_sample : p.chunk;
        if (fit < p.chunk) p.chunk = fit < 1 ? 1 : fit;
        p.col_floats = p.chunk * per_sample;
    }
    if (nd.dW) {
        const int64_t wsize = groups * M * g.Kc();
        int64_t s = wsize > 0 ? kPartBudget / wsize : 1;
        s = s < 1 ? 1 : s > kMaxSlices ? kMaxSlices : s;
        p.slices_cap = s;
        p.part_floats = s > 1 ? s * wsize : 0;
    }
    p.sum_floats = nd.sum_channels * kSumSlices;
    return p;
}

// Geometry from the 17 conv ints (cin h w cout kh kw sh sw ph0 ph1 pw0 pw1 dh dw groups ho wo).
// Conv2d: image side x [cin/groups, h, w], column side y [cout/groups, ho, wo].
// ConvTranspose2d: image side y [cout/groups, ho, wo], column side x [cin/groups, h, w].
Job make_job(const std::vector<int32_t> & v, bool transposed) {
    Job j;
    const int64_t cin = v[0], h = v[1], w = v[2], cout = v[3], groups = v[14], ho = v[15], wo = v[16];
    j.groups = groups;
    j.g.kh = v[4];
    j.g.kw = v[5];
    j.g.sh = v[6];
    j.g.sw = v[7];
    j.g.ph = v[8];
    j.g.pw = v[10];
    j.g.dh = v[12];
    j.g.dw = v[13];
    j.g.C = (transposed ? cout : cin) / groups;
    j.g.H = transposed ? ho : h;
    j.g.W = transposed ? wo : w;
    j.g.Ho = transposed ? h : ho;
    j.g.Wo = transposed ? w : wo;
    j.M = (transposed ? cin : cout) / groups;
    return j;
}

// ---- device kernels --------------------------------------------------------------------------------

__device__ __forceinline__ int64_t first_thread() { return (int64_t)blockIdx.x * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t all_threads() { return (int64_t)gridDim.x * blockDim.x; }

// The geometry in the index type I of a kernel: int32 when every index of the launch fits (the
// divisions of the index decomposition are several times cheaper), int64 otherwise.
template <class I> struct GeomOf {
    I C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo;
    __device__ explicit GeomOf(const Geom & g)
        : C((I)g.C), H((I)g.H), W((I)g.W), kh((I)g.kh), kw((I)g.kw), sh((I)g.sh), sw((I)g.sw), ph((I)g.ph), pw((I)g.pw), dh((I)g.dh),
          dw((I)g.dw), Ho((I)g.Ho), Wo((I)g.Wo) {}
};

// img [items, C, H, W] -> col [items, Kc, P]   (items = samples x groups of a chunk; zero padding)
template <class I> __global__ void im2col_kernel(const Geom geom, const float * img, int64_t items, float * col) {
    const GeomOf<I> g(geom);
    const I Kc = g.C * g.kh * g.kw, P = g.Ho * g.Wo, total = (I)(items * Kc * P), stride = (I)all_threads();
    for (I e = (I)first_thread(); e < total; e += stride) {
        const I p = e % P, kc = (e / P) % Kc, it = e / (P * Kc);
        const I ow = p % g.Wo, oh = p / g.Wo;
        const I kj = kc % g.kw, ki = (kc / g.kw) % g.kh, c = kc / (g.kh * g.kw);
        const I ih = oh * g.sh - g.ph + ki * g.dh, iw = ow * g.sw - g.pw + kj * g.dw;
        float v = 0.f;
        if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) v = img[((it * g.C + c) * g.H + ih) * g.W + iw];
        col[e] = v;
    }
}

// img [items, C, H, W] (+)= col2im(col [items, Kc, P]) + bias[g*C + c]: each pixel gathers the taps
// (ki, kj) whose output position (oh, ow) maps onto it: ih = oh*sh - ph + ki*dh.
template <class I>
__global__ void col2im_kernel(const Geom geom, int64_t groups, const float * col, int64_t items, float * img, bool acc, const float * bias) {
    const GeomOf<I> g(geom);
    const I Kc = g.C * g.kh * g.kw, P = g.Ho * g.Wo, HW = g.H * g.W, total = (I)(items * g.C * HW), stride = (I)all_threads();
    for (I e = (I)first_thread(); e < total; e += stride) {
        const I iw = e % g.W, ih = (e / g.W) % g.H, itc = e / HW;
        const I c = itc % g.C, it = itc / g.C;
        const float * src = col + (int64_t)it * Kc * P;
        float s = 0.f;
        for (I ki = 0; ki < g.kh; ki++) {
            const I th = ih + g.ph - ki * g.dh;
            if (th < 0 || th % g.sh) continue;
            const I oh = th / g.sh;
            if (oh >= g.Ho) continue;
            for (I kj = 0; kj < g.kw; kj++) {
                const I tw = iw + g.pw - kj * g.dw;
                if (tw < 0 || tw % g.sw) continue;
                const I ow = tw / g.sw;
                if (ow >= g.Wo) continue;
                s += src[((c * g.kh + ki) * g.kw + kj) * P + oh * g.Wo + ow];
            }
        }
        float o = acc ? img[e] + s : s;
        if (bias) o += bias[(int64_t)(it % (I)groups) * g.C + c];
        img[e] = o;
    }
}

// part [C, S] = sums of x [n, C, P] per channel (blockIdx.x) over slice blockIdx.y of the n*P
// (sample, pixel) pairs; a fixed-order tree per block. The pair (i, p) advances incrementally: no
// division in the loop.
__global__ void channel_sums_kernel(const float * x, int64_t n, int64_t C, int64_t P, float * part) {
    __shared__ float warp_part[kThreads / 32];
    const int64_t ch = blockIdx.x, S = gridDim.y, total = n * P;
    const int64_t e0 = total * blockIdx.y / S, e1 = total * (blockIdx.y + 1) / S;
    const int64_t step_i = kThreads / P, step_p = kThreads % P;
    int64_t e = e0 + threadIdx.x, i = e / P, p = e % P;
    float s = 0.f;
    for (; e < e1; e += kThreads) {
        s += x[(i * C + ch) * P + p];
        i += step_i;
        p += step_p;
        if (p >= P) p -= P, i++;
    }
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (threadIdx.x % 32 == 0) warp_part[threadIdx.x / 32] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        float t = 0.f;
        for (int k = 0; k < kThreads / 32; k++) t += warp_part[k];
        part[ch * S + blockIdx.y] = t;
    }
}

// out [C] = sum of part [C, S] over S, in order (deterministic)
__global__ void channel_sums_finish_kernel(const float * part, int64_t C, int64_t S, float * out) {
    for (int64_t ch = first_thread(); ch < C; ch += all_threads()) {
        float t = 0.f;
        for (int64_t k = 0; k < S; k++) t += part[ch * S + k];
        out[ch] = t;
    }
}

unsigned grid_for(int64_t count, int sm_count) {
    int64_t b = (count + kThreads - 1) / kThreads;
    const int64_t cap = (int64_t)(sm_count > 0 ? sm_count : 80) * 16;
    return (unsigned)(b < 1 ? 1 : b > cap ? cap : b);
}

// int32 indices when the largest index of the launch, the image's or the columns', plus one grid
// stride stays below 2^31 (the padded reads are bounds-checked before they are formed).
bool fits_int32(const Geom & g, int64_t items, int64_t threads) {
    const int64_t big = items * (g.Kc() * g.P() > g.C * g.HW() ? g.Kc() * g.P() : g.C * g.HW());
    const int64_t span = g.H + g.ph + g.dh * g.kh + g.Ho * g.sh + g.W + g.pw + g.dw * g.kw + g.Wo * g.sw;   // ih, iw reach
    return big + threads + span < ((int64_t)1 << 31) - 1;
}

void im2col(const Geom & g, const float * img, int64_t items, float * col, int sm_count, cudaStream_t stream) {
    const unsigned blocks = grid_for(items * g.Kc() * g.P(), sm_count);
    if (fits_int32(g, items, (int64_t)blocks * kThreads)) im2col_kernel<int32_t><<<blocks, kThreads, 0, stream>>>(g, img, items, col);
    else im2col_kernel<int64_t><<<blocks, kThreads, 0, stream>>>(g, img, items, col);
}

void col2im(const Geom & g, int64_t groups, const float * col, int64_t items, float * img, bool acc, const float * bias, int sm_count,
            cudaStream_t stream) {
    const unsigned blocks = grid_for(items * g.C * g.HW(), sm_count);
    if (fits_int32(g, items, (int64_t)blocks * kThreads))
        col2im_kernel<int32_t><<<blocks, kThreads, 0, stream>>>(g, groups, col, items, img, acc, bias);
    else col2im_kernel<int64_t><<<blocks, kThreads, 0, stream>>>(g, groups, col, items, img, acc, bias);
}

// ---- one chunk of samples [i0, i0 + nc) ------------------------------------------------------------

struct Exec {
    const Job & j;
    const Plan & p;
    float * col;    // workspace: columns of the chunk
    float * part;   // workspace: weight-gradient partials
    bool tf32;
    int cc_major, sm_count;
    cudaStream_t stream;
};

// dW_g [M, Kc] (= or +=) sum over the chunk's samples of d_i,g [M, P] . cols_i,g [Kc, P]^T
void weight_grad(const Exec & x, const float * d, const float * cols, int64_t nc, bool add) {
    const Job & j = x.j;
    const int64_t G = j.groups, M = j.M, Kc = j.g.Kc(), P = j.g.P(), wsize = G * M * Kc;
    const int64_t tiles = G * ((M + gemm_cuda::kBM - 1) / gemm_cuda::kBM) * ((Kc + gemm_cuda::kBN - 1) / gemm_cuda::kBN);
    int64_t want = (2 * (int64_t)(x.sm_count > 0 ? x.sm_count : 80) + tiles - 1) / tiles;
    int64_t S = x.part ? x.p.slices_cap : 1;
    if (S > want) S = want;
    const int64_t ktiles = nc * ((P + gemm_cuda::kBK - 1) / gemm_cuda::kBK);   // what the slices share
    if (S > ktiles) S = ktiles;
    if (S < 1) S = 1;
    GemmDesc g;
    g.M = M;
    g.N = Kc;
    g.K = P;
    g.tb = true;
    g.A = d;
    g.lda = P;
    g.a_g = M * P;
    g.a_r = G * M * P;
    g.B = cols;
    g.ldb = P;
    g.b_g = Kc * P;
    g.b_r = G * Kc * P;
    g.ldc = Kc;
    g.c_g = M * Kc;
    g.ng = G;
    g.ns = S;
    g.R = nc;
    if (S == 1) {
        g.C = j.dW;
        g.beta = add ? 1.f : 0.f;
        gemm_cuda::gemm(g, x.tf32, x.cc_major, x.stream);
        return;
    }
    g.C = x.part;
    g.c_s = wsize;
    gemm_cuda::gemm(g, x.tf32, x.cc_major, x.stream);
    gemm_cuda::gemm_reduce_slices(x.part, wsize, S, 1.f, add ? 1.f : 0.f, nullptr, 1, j.dW, x.sm_count, x.stream);
}

void run_chunk(const Exec & x, int64_t i0, int64_t nc) {
    const Job & j = x.j;
    const Geom & g = j.g;
    const int64_t G = j.groups, M = j.M, Kc = g.Kc(), P = g.P();
    const int64_t img_s = G * g.C * g.HW(), d_s = G * M * P, col_s = G * Kc * P;   // per-sample strides
    const bool direct = g.direct();   // then Kc == C, P == HW and col_s == img_s
    const float * img = j.img ? j.img + i0 * img_s : nullptr;
    const float * d = j.d ? j.d + i0 * d_s : nullptr;
    const float * cols = direct ? img : x.col;
    if ((j.dout || j.dW) && !direct)
        im2col(g, img, nc * G, x.col, x.sm_count, x.stream);
    if (j.dout) {
        GemmDesc m;   // dout_i,g [M, P] (+)= W_g [M, Kc] . cols_i,g [Kc, P] + bias_out
        m.M = M;
        m.N = P;
        m.K = Kc;
        m.A = j.Wm;
        m.lda = Kc;
        m.a_g = M * Kc;
        m.B = cols;
        m.ldb = P;
        m.b_b = col_s;
        m.b_g = Kc * P;
        m.C = j.dout + i0 * d_s;
        m.ldc = P;
        m.c_b = d_s;
        m.c_g = M * P;
        m.beta = j.dout_acc ? 1.f : 0.f;
        m.bias = j.bias_out;
        m.bias_mode = j.bias_out ? gemm_cuda::Bias::Row : gemm_cuda::Bias::None;
        m.bias_g = M;
        m.nb = nc;
        m.ng = G;
        gemm_cuda::gemm(m, x.tf32, x.cc_major, x.stream);
    }
    if (j.dW) weight_grad(x, d, cols, nc, i0 > 0);
    if (j.dimg) {
        GemmDesc m;   // dcol_i,g [Kc, P] = W_g^T . d_i,g [M, P]  (direct: straight into dimg, with its bias)
        float * dimg = j.dimg + i0 * img_s;
        m.M = Kc;
        m.N = P;
        m.K = M;
        m.ta = true;
        m.A = j.Wm;
        m.lda = Kc;
        m.a_g = M * Kc;
        m.B = d;
        m.ldb = P;
        m.b_b = d_s;
        m.b_g = M * P;
        m.C = direct ? dimg : x.col;
        m.ldc = P;
        m.c_b = col_s;
        m.c_g = Kc * P;
        m.beta = direct && j.dimg_acc ? 1.f : 0.f;
        if (direct && j.bias_img) {
            m.bias = j.bias_img;
            m.bias_mode = gemm_cuda::Bias::Row;
            m.bias_g = g.C;
        }
        m.nb = nc;
        m.ng = G;
        gemm_cuda::gemm(m, x.tf32, x.cc_major, x.stream);
        if (!direct)
            col2im(g, G, x.col, nc * G, dimg, j.dimg_acc, j.bias_img, x.sm_count, x.stream);
    }
}

// out [C] = sums of src [n, C, P] per channel: C x S blocks (S: enough to fill the GPU, at most
// kSumSlices, at least 1024 pairs each) write partials to `part` [C, S], summed in order.
void channel_sums(const float * src, int64_t n, int64_t C, int64_t P, float * out, float * part, int sm_count, cudaStream_t stream) {
    if (C <= 0) return;
    const int64_t sms = sm_count > 0 ? sm_count : 80, pairs = n * P;
    int64_t S = (4 * sms + C - 1) / C;
    if (S > pairs / 1024) S = pairs / 1024;
    S = S < 1 ? 1 : S > kSumSlices ? kSumSlices : S;
    channel_sums_kernel<<<dim3((unsigned)C, (unsigned)S), kThreads, 0, stream>>>(src, n, C, P, part);
    channel_sums_finish_kernel<<<grid_for(C, sm_count), kThreads, 0, stream>>>(part, C, S, out);
}

// The whole batch: chunks of samples, then the bias sums over the whole batch.
Status run_job(const Job & j, Needs nd, int64_t n, const CudaContext & cx, const char * what) {
    const Plan p = make_plan(j.g, j.groups, j.M, nd, cx.prog->max_batch);
    if (p.bytes() > cx.workspace_bytes || (p.bytes() > 0 && !cx.workspace))
        return Status::error(NL_STATUS_INTERNAL, std::string(what) + ": the CUDA workspace has " + std::to_string(cx.workspace_bytes) +
                                                     " bytes, this convolution needs " + std::to_string(p.bytes()) +
                                                     " (cuda_workspace was not consulted when the backend sized it)");
    float * ws = static_cast<float *>(cx.workspace);
    const Exec x{j, p, ws, p.part_floats ? ws + p.part_offset() : nullptr, cx.tf32, cx.cc_major, cx.sm_count, cx.stream};
    if (n <= 0 && j.dW) cudaMemsetAsync(j.dW, 0, sizeof(float) * (size_t)(j.groups * j.M * j.g.Kc()), cx.stream);
    for (int64_t i0 = 0; i0 < n; i0 += p.chunk) run_chunk(x, i0, n - i0 < p.chunk ? n - i0 : p.chunk);
    float * sums = ws ? ws + p.sum_offset() : nullptr;
    if (j.db_d) channel_sums(j.d, n < 0 ? 0 : n, j.groups * j.M, j.g.P(), j.db_d, sums, cx.sm_count, cx.stream);
    if (j.db_img) channel_sums(j.img, n < 0 ? 0 : n, j.groups * j.g.C, j.g.HW(), j.db_img, sums, cx.sm_count, cx.stream);
    return cuda_launched(what);
}

template <class O> size_t workspace_of(const OperandsOf<O> & a, int max_batch, bool transposed, Needs nd) {
    const Job j = make_job(a.in.ints, transposed);
    return make_plan(j.g, j.groups, j.M, nd, max_batch).bytes();
}

} // namespace

// ---- Conv2d ----------------------------------------------------------------------------------------

template <> size_t cuda_workspace<op::CONV2D_FORWARD>(const OperandsOf<op::CONV2D_FORWARD> & a, int max_batch) {
    return workspace_of(a, max_batch, false, Needs{true, false, false, 0});
}

// x [n, cin, h, w], w [cout, cin/groups, kh, kw], b [cout] or absent -> y [n, cout, ho, wo]
template <> Status cuda_run<op::CONV2D_FORWARD>(const CudaArgs<op::CONV2D_FORWARD> & a) {
    using O = op::CONV2D_FORWARD;
    Job j = make_job(a.in.ints, false);
    j.img = a.f32(O::x);
    j.Wm = a.f32(O::weight);
    j.dout = a.f32(O::y);
    j.bias_out = a.f32(O::bias);
    return run_job(j, Needs{true, false, false, 0}, a.n(), a.cx, "conv2d_forward");
}

template <> size_t cuda_workspace<op::CONV2D_BACKWARD>(const OperandsOf<op::CONV2D_BACKWARD> & a, int max_batch) {
    using O = op::CONV2D_BACKWARD;
    return workspace_of(a, max_batch, false, Needs{false, a.has(O::dweight), a.has(O::dx), a.has(O::dbias) ? a.i(O::cout) : 0});
}

// dy [n, cout, ho, wo] -> dx [n, cin, h, w] (+)= (optional), dw [cout, cin/groups, kh, kw], db [cout] (optional)
template <> Status cuda_run<op::CONV2D_BACKWARD>(const CudaArgs<op::CONV2D_BACKWARD> & a) {
    using O = op::CONV2D_BACKWARD;
    Job j = make_job(a.in.ints, false);
    j.dW = a.f32(O::dweight);
    j.img = j.dW ? a.f32(O::x) : nullptr;
    j.d = a.f32(O::dy);
    j.Wm = a.f32(O::weight);
    j.db_d = a.f32(O::dbias);
    j.dimg = a.f32(O::dx);
    j.dimg_acc = a.flag(O::accumulate_dx);
    return run_job(j, Needs{false, j.dW != nullptr, j.dimg != nullptr, j.db_d ? a.i(O::cout) : 0}, a.n(), a.cx, "conv2d_backward");
}

// ---- ConvTranspose2d -------------------------------------------------------------------------------

template <> size_t cuda_workspace<op::CONV_TRANSPOSE2D_FORWARD>(const OperandsOf<op::CONV_TRANSPOSE2D_FORWARD> & a, int max_batch) {
    return workspace_of(a, max_batch, true, Needs{false, false, true, 0});
}

// x [n, cin, h, w], w [cin, cout/groups, kh, kw], b [cout] or absent -> y [n, cout, ho, wo]
template <> Status cuda_run<op::CONV_TRANSPOSE2D_FORWARD>(const CudaArgs<op::CONV_TRANSPOSE2D_FORWARD> & a) {
    using O = op::CONV_TRANSPOSE2D_FORWARD;
    Job j = make_job(a.in.ints, true);
    j.d = a.f32(O::x);
    j.Wm = a.f32(O::weight);
    j.dimg = a.f32(O::y);
    j.bias_img = a.f32(O::bias);
    return run_job(j, Needs{false, false, true, 0}, a.n(), a.cx, "conv_transpose2d_forward");
}

template <> size_t cuda_workspace<op::CONV_TRANSPOSE2D_BACKWARD>(const OperandsOf<op::CONV_TRANSPOSE2D_BACKWARD> & a, int max_batch) {
    using O = op::CONV_TRANSPOSE2D_BACKWARD;
    return workspace_of(a, max_batch, true, Needs{a.has(O::dx), a.has(O::dweight), false, a.has(O::dbias) ? a.i(O::cout) : 0});
}

// dy [n, cout, ho, wo] -> dx [n, cin, h, w] (+)= (optional), dw [cin, cout/groups, kh, kw], db [cout] (optional)
template <> Status cuda_run<op::CONV_TRANSPOSE2D_BACKWARD>(const CudaArgs<op::CONV_TRANSPOSE2D_BACKWARD> & a) {
    using O = op::CONV_TRANSPOSE2D_BACKWARD;
    Job j = make_job(a.in.ints, true);
    j.img = a.f32(O::dy);
    j.dW = a.f32(O::dweight);
    j.d = j.dW ? a.f32(O::x) : nullptr;
    j.Wm = a.f32(O::weight);
    j.dout = a.f32(O::dx);
    j.dout_acc = a.flag(O::accumulate_dx);
    j.db_img = a.f32(O::dbias);
    return run_job(j, Needs{j.dout != nullptr, j.dW != nullptr, false, j.db_img ? a.i(O::cout) : 0}, a.n(), a.cx,
                   "conv_transpose2d_backward");
}

} // namespace nl
