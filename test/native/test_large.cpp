// Large shapes without large memory: the kernels of issue 10's model at its real size.
// Plain program: one line per check, a final "N passed, N failed" line, non-zero exit on failure.
//
// Issue 10: Input [1,28,28] -> Conv2d(1, 1, kernel_size=1, padding=3000) -> Flatten -> Linear(->10)
// at batch 64 killed the process with SIGSEGV. Every activation there is [64, 6028^2]: 2.3e9 values,
// more than 2^31. This program runs those kernels at those sizes:
//   - conv2d forward/backward at the issue's geometry, on one sample in real memory (145 MB), with
//     every output value checked (this is where the crash was: im2col's row ranges);
//   - linear forward/backward with x [64, 6028^2] and its gradient: tensors of 2.3e9 values that
//     are *aliased*: one small memfd mapped over and over, so they cost a few MB of RAM. All values
//     of an aliased tensor are equal by construction (inputs are filled with one constant, and every
//     element of an aliased output receives the same value), so results are still exact.
//   - the Program decoder on the issue's program (arena offsets past 2^31 words).
// Every tensor has an inaccessible guard page range before and after it: an index that wraps or
// runs past its tensor faults at once instead of corrupting memory silently.
//
// NETLOOM_TEST_SMALL=1 (the sanitizer build) runs the linear part with 2 rows instead of 64.
#include "kernels.h"
#include "program.h"
#include "program-builder.h"
#include "threadpool.h"
#include "test-util.h"
#include <sys/mman.h>
#include <unistd.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace nltest;

namespace {

const size_t GUARD = (size_t)1 << 20;   // inaccessible bytes on each side of a tensor
const size_t CHUNK = (size_t)8 << 20;   // the physical memory behind an aliased tensor

// A float tensor with guard ranges around it: real (anonymous) memory, or `count` floats that all
// alias one CHUNK of a memfd filled with `fill`.
struct Tensor {
    float * data = nullptr;
    size_t count = 0;
    char * base = nullptr;
    size_t span = 0;
    int fd = -1;

    static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

    bool map(size_t n, bool aliased, float fill) {
        count = n;
        const size_t bytes = round_up(n * sizeof(float), aliased ? CHUNK : GUARD);
        span = bytes + 2 * GUARD;
        base = (char *)mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) return false;
        char * at = base + GUARD;
        if (!aliased) {
            if (mprotect(at, bytes, PROT_READ | PROT_WRITE) != 0) return false;
            data = (float *)at;
            for (size_t i = 0; i < n; i++) data[i] = fill;
            return true;
        }
        fd = memfd_create("netloom-test-large", 0);
        if (fd < 0 || ftruncate(fd, (off_t)CHUNK) != 0) return false;
        for (size_t o = 0; o < bytes; o += CHUNK)
            if (mmap(at + o, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) return false;
        data = (float *)at;
        for (size_t i = 0; i < CHUNK / sizeof(float); i++) data[i] = fill;
        return true;
    }
    // true when every float of the physical chunk (aliased) or of the tensor equals v
    bool all_equal(float v) const {
        const size_t n = fd >= 0 ? CHUNK / sizeof(float) : count;
        for (size_t i = 0; i < n; i++)
            if (data[i] != v) return false;
        return true;
    }
    ~Tensor() {
        if (base && base != MAP_FAILED) munmap(base, span);
        if (fd >= 0) close(fd);
    }
};

// Issue 10's convolution: [1, 28, 28] -> [1, 6028, 6028], kernel 1, padding 3000.
nl::ConvShape issue_conv() {
    nl::ConvShape s{};
    s.cin = 1; s.h = 28; s.w = 28; s.cout = 1; s.kh = 1; s.kw = 1; s.sh = 1; s.sw = 1;
    s.ph0 = s.ph1 = s.pw0 = s.pw1 = 3000; s.dh = 1; s.dw = 1; s.groups = 1; s.ho = 6028; s.wo = 6028;
    return s;
}

void test_conv(nl::ThreadPool * pool, const char * tag) {
    const nl::ConvShape s = issue_conv();
    const size_t P = (size_t)s.ho * s.wo;
    Tensor x, y, dy;
    if (!x.map(28 * 28, false, 0.f) || !y.map(P, false, -7.f) || !dy.map(P, false, 1.f)) {
        check(false, "conv2d %s: could not map the test tensors", tag);
        return;
    }
    for (int i = 0; i < 28 * 28; i++) x.data[i] = (float)(i % 17) * 0.25f;
    const float w = 0.5f, b = 0.125f;
    nl::conv2d_forward(pool, s, x.data, &w, &b, y.data, 1);
    size_t bad = 0;
    for (size_t oh = 0; oh < (size_t)s.ho; oh++)
        for (size_t ow = 0; ow < (size_t)s.wo; ow++) {
            const bool inside = oh >= 3000 && oh < 3028 && ow >= 3000 && ow < 3028;
            const float want = inside ? w * x.data[(oh - 3000) * 28 + (ow - 3000)] + b : b;
            bad += y.data[oh * s.wo + ow] != want;
        }
    check(bad == 0, "conv2d %s: issue 10's Conv2d(k=1, padding=3000) on 28x28: all %zu outputs right (%zu wrong)", tag, P, bad);

    float dw = NAN, db = NAN;
    nl::conv2d_backward(pool, s, dy.data, x.data, &w, nullptr, &dw, &db, 1, false);
    double sx = 0;
    for (int i = 0; i < 28 * 28; i++) sx += x.data[i];
    check(dw == (float)sx && std::fabs(db - (double)P) <= 1e-6 * (double)P,
          "conv2d %s: backward at the same size: dweight %.9g (want %.9g), dbias %.9g (want %zu)", tag, dw, sx, db, P);
}

void test_linear(nl::ThreadPool * pool, int64_t n) {
    const int64_t in = 6028LL * 6028, out = 10;
    Tensor x, w, dx, dw;
    const float c = 0.5f, d = 0.25f;
    if (!x.map((size_t)(n * in), true, c) || !w.map((size_t)(out * in), true, d) || !dx.map((size_t)(n * in), true, NAN) ||
        !dw.map((size_t)(out * in), true, NAN)) {
        check(false, "linear: could not map the aliased tensors");
        return;
    }
    std::vector<float> b(out), y((size_t)(n * out), NAN), dy((size_t)(n * out), 1.f), db(out, NAN);
    for (int64_t j = 0; j < out; j++) b[j] = (float)j;
    nl::linear_forward(pool, x.data, w.data, b.data(), y.data(), n, in, out);
    // every product is c*d = 1/8; float sums of 3.6e7 of them agree with the exact value to ~1e-5
    double worst = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < out; j++) {
            const double want = (double)in * c * d + (double)j;
            worst = std::fmax(worst, std::fabs(y[i * out + j] - want) / want);
        }
    check(worst < 1e-4, "linear forward: x [%lld, %lld] (%.3g values, over 2^31 when 64 rows) gives %.9g + bias in every output (rel err %.2g)",
          (long long)n, (long long)in, (double)n * in, (double)in * c * d, worst);

    nl::linear_backward(pool, dy.data(), x.data, w.data, dx.data, dw.data, db.data(), n, in, out, false);
    bool db_ok = true;
    for (int64_t j = 0; j < out; j++) db_ok = db_ok && db[j] == (float)n;
    check(dw.all_equal((float)n * c), "linear backward: dweight [10, %lld] = %lld * %.2g everywhere", (long long)in, (long long)n, c);
    check(dx.all_equal((float)out * d), "linear backward: dx [%lld, %lld] = 10 * %.2g everywhere", (long long)n, (long long)in, d);
    check(db_ok, "linear backward: dbias = %lld", (long long)n);
}

// The issue's program decodes: its arena passes 2^32 words and offsets pass 2^31 words.
void test_decode() {
    ProgramBuilder pb;
    pb.batch = 64;
    const int P = 6028 * 6028;
    int x = pb.add(0, 1, 784), cw = pb.add(0, 0, 1), cb = pb.add(0, 0, 1), act = pb.add(0, 1, P);
    int fw = pb.add(0, 0, P * 10), fb = pb.add(0, 0, 10), logits = pb.add(0, 1, 10);
    int dact = pb.add(0, 1, P);
    pb.fwd.push_back(ProgramBuilder::ins(nl::Op::CONV2D_FORWARD, {x, cw, cb, act},
                                         {1, 28, 28, 1, 1, 1, 1, 1, 3000, 3000, 3000, 3000, 1, 1, 1, 6028, 6028}));
    pb.fwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_FORWARD, {act, fw, fb, logits}, {P, 10}));
    pb.fwd.push_back(ProgramBuilder::ins(nl::Op::COPY, {act, dact}, {P, 0}));
    std::vector<int32_t> words = pb.words({x, -1, logits, -1, -1, -1, 0, -1});
    nl::Program prog;
    nl::Status st = nl::program_decode(words.data(), words.size(), prog);
    const int64_t want_top = (int64_t)pb.top16 * 16;
    check(st.ok() && prog.arena_words == want_top && prog.buffers[dact].offset > ((int64_t)1 << 31) &&
              prog.buffers[act].words(64) == 64LL * P,
          "program decode: the issue's program (arena %lld words, an activation of %lld) decodes: %s", (long long)prog.arena_words,
          (long long)prog.buffers[act].words(64), st.ok() ? "ok" : st.message.c_str());
}

} // namespace

int main() {
    const char * small = std::getenv("NETLOOM_TEST_SMALL");
    const bool is_small = small && *small && std::strcmp(small, "0") != 0;
    nl::ThreadPool p1(1), p2(2);
    test_decode();
    test_conv(&p1, "1 thread");
    test_conv(&p2, "2 threads");
    test_linear(&p2, is_small ? 2 : 64);
    return finish();
}
