// The cases the CUDA parity program (test/native-cuda/parity.cpp) runs: one row per op pair and shape,
// {op, shape, forward tolerance, backward tolerance, note}. The op is the layer: "linear" means
// linear_forward and linear_backward (ops.def), and so on. The tolerance bounds every output element:
//   |cuda - cpu| <= tol * max(1, max |cpu|)   (relative to the output's scale, as PyTorch's TF32 tests)
// Shape grammar: space-separated key=value words and flags.
//   n (batch), and for linear: in, out; for conv2d / conv_transpose2d: cin h w cout, k=KHxKW,
//   s=SHxSW, pad=PH0,PH1,PW0,PW1 (top, bottom, left, right), d=DHxDW, groups, opad=OHxOW (transposed
//   only: output_padding; conv_transpose2d pads symmetrically, ph0 == ph1 and pw0 == pw1);
//   flags: bias (the layer has one: db is checked), dx (dx is wanted), acc (accumulate_dx: dx starts
//   non-zero), mode=tf32|fp32 (the backend's TF32 setting; on sm_75 tf32 runs the fp32 path).
// Each engineer's rows stay in their own marked block (they merge without conflicts).
#pragma once

struct OpCase {
    const char * op;
    const char * shape;
    double forward_tol;
    double backward_tol;
    const char * note;
};

static const OpCase kOpCases[] = {
    // ---- cuda-gemm: linear, conv2d, conv_transpose2d (native/cuda/ops/linear.cu, conv.cu) ----
    {"linear", "n=1 in=1 out=1 bias dx mode=tf32", 1e-2, 1e-2, "smallest: one row, one feature, K = 1; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=1 in=1 out=1 bias dx mode=fp32", 1e-4, 1e-4, "smallest: one row, one feature, K = 1; exact fp32, summation order differs from the CPU"},
    {"linear", "n=3 in=7 out=5 bias dx acc mode=tf32", 1e-2, 1e-2, "K = 7 (not a multiple of 8 or 16), accumulate_dx; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=3 in=7 out=5 bias dx acc mode=fp32", 1e-4, 1e-4, "K = 7 (not a multiple of 8 or 16), accumulate_dx; exact fp32, summation order differs from the CPU"},
    {"linear", "n=65 in=33 out=70 dx mode=tf32", 1e-2, 1e-2, "no bias; M and N one past a 64 tile, K = 33; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=65 in=33 out=70 dx mode=fp32", 1e-4, 1e-4, "no bias; M and N one past a 64 tile, K = 33; exact fp32, summation order differs from the CPU"},
    {"linear", "n=70 in=129 out=10 bias mode=tf32", 1e-2, 1e-2, "no dx (first layer); K = 129; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=70 in=129 out=10 bias mode=fp32", 1e-4, 1e-4, "no dx (first layer); K = 129; exact fp32, summation order differs from the CPU"},
    {"linear", "n=1 in=300 out=1 bias dx mode=tf32", 1e-2, 1e-2, "N = 1, M = 1; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=1 in=300 out=1 bias dx mode=fp32", 1e-4, 1e-4, "N = 1, M = 1; exact fp32, summation order differs from the CPU"},
    {"linear", "n=64 in=784 out=512 bias dx mode=tf32", 1e-2, 1e-2, "quickstart layer 1 (dx absent there; checked anyway); TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=64 in=784 out=512 bias dx mode=fp32", 1e-4, 1e-4, "quickstart layer 1 (dx absent there; checked anyway); exact fp32, summation order differs from the CPU"},
    {"linear", "n=64 in=512 out=10 bias dx mode=tf32", 1e-2, 1e-2, "quickstart head; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=64 in=512 out=10 bias dx mode=fp32", 1e-4, 1e-4, "quickstart head; exact fp32, summation order differs from the CPU"},
    {"linear", "n=256 in=3136 out=128 bias dx mode=tf32", 1e-2, 1e-2, "fashion-cnn head at batch 256: long K; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"linear", "n=256 in=3136 out=128 bias dx mode=fp32", 1e-4, 5e-4, "fashion-cnn head at batch 256: long K; exact fp32, summation order differs from the CPU; long batch reduction in dW"},
    {"conv2d", "n=3 cin=3 h=9 w=8 cout=5 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 bias dx mode=tf32", 1e-2, 1e-2, "in = 3 channels, K = 27; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=3 cin=3 h=9 w=8 cout=5 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 bias dx mode=fp32", 1e-4, 1e-4, "in = 3 channels, K = 27; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=2 cin=4 h=11 w=10 cout=6 k=3x2 s=2x2 pad=2,1,0,3 d=2x2 groups=2 bias dx acc mode=tf32", 1e-2, 1e-2, "stride 2 + dilation 2 + asymmetric padding, groups = 2; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=2 cin=4 h=11 w=10 cout=6 k=3x2 s=2x2 pad=2,1,0,3 d=2x2 groups=2 bias dx acc mode=fp32", 1e-4, 1e-4, "stride 2 + dilation 2 + asymmetric padding, groups = 2; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=3 cin=6 h=5 w=7 cout=9 k=3x3 s=1x1 pad=0,0,0,0 d=1x1 groups=3 dx mode=tf32", 1e-2, 1e-2, "groups = 3, no bias, K = 18; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=3 cin=6 h=5 w=7 cout=9 k=3x3 s=1x1 pad=0,0,0,0 d=1x1 groups=3 dx mode=fp32", 1e-4, 1e-4, "groups = 3, no bias, K = 18; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=4 cin=5 h=6 w=5 cout=7 k=1x1 s=1x1 pad=0,0,0,0 d=1x1 groups=1 bias dx acc mode=tf32", 1e-2, 1e-2, "1x1 conv: the direct path (no im2col); TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=4 cin=5 h=6 w=5 cout=7 k=1x1 s=1x1 pad=0,0,0,0 d=1x1 groups=1 bias dx acc mode=fp32", 1e-4, 1e-4, "1x1 conv: the direct path (no im2col); exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=3 cin=5 h=7 w=6 cout=3 k=1x1 s=2x2 pad=0,0,0,0 d=1x1 groups=1 bias dx mode=tf32", 1e-2, 1e-2, "1x1 with stride 2: im2col path; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=3 cin=5 h=7 w=6 cout=3 k=1x1 s=2x2 pad=0,0,0,0 d=1x1 groups=1 bias dx mode=fp32", 1e-4, 1e-4, "1x1 with stride 2: im2col path; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=2 cin=4 h=6 w=6 cout=4 k=3x3 s=2x1 pad=1,1,1,1 d=1x1 groups=4 bias dx mode=tf32", 1e-2, 1e-2, "depthwise (groups = channels), unequal strides; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=2 cin=4 h=6 w=6 cout=4 k=3x3 s=2x1 pad=1,1,1,1 d=1x1 groups=4 bias dx mode=fp32", 1e-4, 1e-4, "depthwise (groups = channels), unequal strides; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=2 cin=65 h=4 w=3 cout=3 k=2x3 s=1x1 pad=1,0,1,1 d=1x1 groups=1 bias dx mode=tf32", 1e-2, 1e-2, "K = 390 over 65 channels, even kernel with asymmetric padding; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=2 cin=65 h=4 w=3 cout=3 k=2x3 s=1x1 pad=1,0,1,1 d=1x1 groups=1 bias dx mode=fp32", 1e-4, 1e-4, "K = 390 over 65 channels, even kernel with asymmetric padding; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=3 cin=4 h=1 w=17 cout=5 k=1x3 s=1x2 pad=0,0,1,1 d=1x1 groups=1 bias dx mode=tf32", 1e-2, 1e-2, "Conv1d as h = kh = 1; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=3 cin=4 h=1 w=17 cout=5 k=1x3 s=1x2 pad=0,0,1,1 d=1x1 groups=1 bias dx mode=fp32", 1e-4, 1e-4, "Conv1d as h = kh = 1; exact fp32, summation order differs from the CPU"},
    {"conv2d", "n=256 cin=1 h=28 w=28 cout=32 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 bias mode=tf32", 1e-2, 1e-2, "fashion-cnn conv1 at batch 256 (no dx); dW sums 200704 products; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=256 cin=1 h=28 w=28 cout=32 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 bias mode=fp32", 1e-4, 5e-4, "fashion-cnn conv1 at batch 256 (no dx); dW sums 200704 products; exact fp32, summation order differs from the CPU; long batch reduction in dW"},
    {"conv2d", "n=256 cin=32 h=14 w=14 cout=64 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 bias dx mode=tf32", 1e-2, 1e-2, "fashion-cnn conv2 at batch 256; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv2d", "n=256 cin=32 h=14 w=14 cout=64 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 bias dx mode=fp32", 1e-4, 5e-4, "fashion-cnn conv2 at batch 256; exact fp32, summation order differs from the CPU; long batch reduction in dW"},
    {"conv_transpose2d", "n=3 cin=3 h=5 w=4 cout=5 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 opad=0x0 bias dx mode=tf32", 1e-2, 1e-2, "in = 3 channels; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv_transpose2d", "n=3 cin=3 h=5 w=4 cout=5 k=3x3 s=1x1 pad=1,1,1,1 d=1x1 groups=1 opad=0x0 bias dx mode=fp32", 1e-4, 1e-4, "in = 3 channels; exact fp32, summation order differs from the CPU"},
    {"conv_transpose2d", "n=2 cin=4 h=5 w=4 cout=6 k=3x2 s=2x2 pad=1,1,0,0 d=2x2 groups=2 opad=1x1 bias dx acc mode=tf32", 1e-2, 1e-2, "stride 2 + dilation 2 + output_padding, groups = 2; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv_transpose2d", "n=2 cin=4 h=5 w=4 cout=6 k=3x2 s=2x2 pad=1,1,0,0 d=2x2 groups=2 opad=1x1 bias dx acc mode=fp32", 1e-4, 1e-4, "stride 2 + dilation 2 + output_padding, groups = 2; exact fp32, summation order differs from the CPU"},
    {"conv_transpose2d", "n=2 cin=6 h=3 w=4 cout=3 k=2x2 s=3x3 pad=0,0,0,0 d=1x1 groups=3 opad=2x1 dx mode=tf32", 1e-2, 1e-2, "stride > kernel (output pixels no tap reaches), groups = 3, no bias; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv_transpose2d", "n=2 cin=6 h=3 w=4 cout=3 k=2x2 s=3x3 pad=0,0,0,0 d=1x1 groups=3 opad=2x1 dx mode=fp32", 1e-4, 1e-4, "stride > kernel (output pixels no tap reaches), groups = 3, no bias; exact fp32, summation order differs from the CPU"},
    {"conv_transpose2d", "n=3 cin=5 h=4 w=5 cout=7 k=1x1 s=1x1 pad=0,0,0,0 d=1x1 groups=1 opad=0x0 bias dx mode=tf32", 1e-2, 1e-2, "1x1: the direct path; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv_transpose2d", "n=3 cin=5 h=4 w=5 cout=7 k=1x1 s=1x1 pad=0,0,0,0 d=1x1 groups=1 opad=0x0 bias dx mode=fp32", 1e-4, 1e-4, "1x1: the direct path; exact fp32, summation order differs from the CPU"},
    {"conv_transpose2d", "n=2 cin=8 h=4 w=4 cout=3 k=4x4 s=2x2 pad=1,1,1,1 d=1x1 groups=1 opad=0x0 bias dx mode=tf32", 1e-2, 1e-2, "DCGAN-style 4x4 stride 2 upsampling; TF32 (10-bit mantissa operands, fp32 accumulate), as PyTorch's TF32 tests"},
    {"conv_transpose2d", "n=2 cin=8 h=4 w=4 cout=3 k=4x4 s=2x2 pad=1,1,1,1 d=1x1 groups=1 opad=0x0 bias dx mode=fp32", 1e-4, 1e-4, "DCGAN-style 4x4 stride 2 upsampling; exact fp32, summation order differs from the CPU"},
    // ---- end cuda-gemm ----
};
