// Float datasets (CSV rows) in the runtime: the float gather kernel, regression targets gathered in
// the epoch's order, the v3 program header's `targets` word and its validation, the optional eval
// `outputs`, and every refusal (wrong kind of dataset, wrong widths, non-finite values, sizes this
// machine cannot hold) as a Status with a message, never a crash.
// Plain C++ (no Node): prints one line per check and ends with "N passed, N failed".
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>
#include "netloom.h"
#include "program-builder.h"
#include "test-util.h"

// "what: detail" (the detail is the status the runtime returned).
static void check(bool ok, const std::string & what, const std::string & detail = "") {
    nltest::check(ok, detail.empty() ? what : what + ": " + detail);
}
static std::string said(const nl::Status & st) { return std::string(nl_status_code(st.code)) + " \"" + st.message + "\""; }
static bool says(const nl::Status & st, nl_status code, const std::string & needle) {
    return st.code == code && st.message.find(needle) != std::string::npos;
}

// Program words, assembled by hand (test_program.cpp's Builder, plus the v3 targets word).
// Builder: the shared hand-built Program (program-builder.h), batch 4 here.
struct Builder : ProgramBuilder {
    Builder() { batch = 4; }
};

// y = x (a copy, so the output row IS the gathered input row) and MSELoss(y, targets), width W.
// Buffers: 0 x  1 y  2 targets  3 loss.  Forward only: an evaluation program.
constexpr int W = 3;
static Builder identity() {
    Builder b;
    int x = b.add(0, 1, W), y = b.add(0, 1, W), t = b.add(0, 1, W), loss = b.add(0, 0, 1);
    b.fwd.push_back(Builder::ins(nl::Op::COPY, {x, y}, {W, 0}));
    b.fwd.push_back(Builder::ins(nl::Op::POINT_LOSS_FORWARD, {y, t, loss}, {0, W, 0}, {1.f}));
    return b;
}
static const std::vector<int32_t> IDENTITY_IO = {0, -1, 1, -1, 3, -1, 0, 2};

// Linear regression: y = x W^T + b (3 -> 1), MSELoss against 1 target, SGD lr 0.1.
// Buffers: 0 x  1 W  2 b  3 y  4 targets  5 loss  6 dW  7 db  8 dy
static Builder linreg() {
    Builder b;
    int x = b.add(0, 1, 3), Wt = b.add(0, 0, 3), bias = b.add(0, 0, 1), y = b.add(0, 1, 1), t = b.add(0, 1, 1), loss = b.add(0, 0, 1);
    int dW = b.add(0, 0, 3), db = b.add(0, 0, 1), dy = b.add(0, 1, 1);
    b.fwd.push_back(Builder::ins(nl::Op::LINEAR_FORWARD, {x, Wt, bias, y}, {3, 1}));
    b.fwd.push_back(Builder::ins(nl::Op::POINT_LOSS_FORWARD, {y, t, loss}, {0, 1, 0}, {1.f}));
    b.bwd.push_back(Builder::ins(nl::Op::POINT_LOSS_BACKWARD, {y, t, dy, -1}, {0, 1, 0, 0, 0}, {1.f}));
    b.bwd.push_back(Builder::ins(nl::Op::LINEAR_BACKWARD, {dy, x, Wt, -1, dW, db}, {3, 1, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {Wt, dW, -1}, {0, 0}, {0.1f, 0, 0, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {bias, db, -1}, {0, 0}, {0.1f, 0, 0, 0}));
    return b;
}
static const std::vector<int32_t> LINREG_IO = {0, -1, 3, -1, 5, -1, 0, 4};

// Classification from float features: x[3] -> linear(3->3) -> CE, SGD. Buffers:
// 0 x  1 W  2 b  3 y  4 labels  5 probs  6 loss  7 correct  8 dW  9 db  10 dy
static Builder classifier() {
    Builder b;
    int x = b.add(0, 1, 3), Wt = b.add(0, 0, 9), bias = b.add(0, 0, 3), y = b.add(0, 1, 3), lab = b.add(1, 1, 1);
    int probs = b.add(0, 1, 3), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1), dW = b.add(0, 0, 9), db = b.add(0, 0, 3), dy = b.add(0, 1, 3);
    b.fwd.push_back(Builder::ins(nl::Op::LINEAR_FORWARD, {x, Wt, bias, y}, {3, 3}));
    b.fwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {y, lab, probs, loss, correct, -1}, {3, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dy, -1}, {3, 0, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::LINEAR_BACKWARD, {dy, x, Wt, -1, dW, db}, {3, 3, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {Wt, dW, -1}, {0, 0}, {0.5f, 0, 0, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {bias, db, -1}, {0, 0}, {0.5f, 0, 0, 0}));
    return b;
}
static const std::vector<int32_t> CLASSIFIER_IO = {0, 4, 3, 5, 6, 7, 3, -1};

static std::unique_ptr<nl::Session> create(const std::vector<int32_t> & w, nl::Status & st) {
    std::unique_ptr<nl::Session> s;
    st = nl::Session::create(w.data(), w.size(), 2, s);
    return s;
}

static nl::Status decode(const std::vector<int32_t> & w) {
    nl::Program p;
    return nl::program_decode(w.data(), w.size(), p);
}

int main() {
    nltest::Rng rng(20260505);

    // ---- the kernel --------------------------------------------------------------------------
    {
        const int N = 37, F = 5, n = 11;
        std::vector<float> rows = nltest::randv(rng, (size_t)N * F, 100.f);
        std::vector<uint8_t> labels(N);
        for (int i = 0; i < N; i++) labels[i] = (uint8_t)(i * 7 % 251);
        std::vector<int32_t> index(n);
        for (int i = 0; i < n; i++) index[i] = rng.below(N);
        std::vector<float> out((size_t)n * F, -1.f);
        std::vector<int32_t> lab(n, -1);
        nl::gather_batch_f32(rows.data(), labels.data(), F, index.data(), n, out.data(), lab.data());
        bool same = true;
        for (int i = 0; i < n; i++) {
            same = same && std::memcmp(&out[(size_t)i * F], &rows[(size_t)index[i] * F], F * sizeof(float)) == 0;
            same = same && lab[i] == labels[index[i]];
        }
        check(same, "gather_batch_f32 copies the indexed rows bit for bit (no scaling) and their labels");
        std::vector<float> out2((size_t)n * F, -1.f);
        nl::gather_batch_f32(rows.data(), nullptr, F, index.data(), n, out2.data(), nullptr);
        check(out2 == out, "gather_batch_f32 without labels gathers the same rows");
    }

    // ---- the program header ------------------------------------------------------------------
    check(decode(identity().words(IDENTITY_IO)).ok(), "a v3 program with a targets buffer decodes", said(decode(identity().words(IDENTITY_IO))));
    {
        nl::Program p;
        auto w = identity().words(IDENTITY_IO);
        nl::program_decode(w.data(), w.size(), p);
        check(p.targets == 2 && p.labels == -1 && p.classes == 0, "the header's targets word is the program's targets buffer");
    }
    nl::Status st = decode(identity().words(IDENTITY_IO, 2));
    check(says(st, NL_STATUS_INVALID_PROGRAM, "version 2 is not supported (this engine reads version 3)"), "a version-2 program is refused by version", said(st));
    {
        auto w = identity().words(IDENTITY_IO);
        st = decode(std::vector<int32_t>(w.begin(), w.begin() + 15));
        check(says(st, NL_STATUS_INVALID_PROGRAM, "shorter than its 16-word header"), "a 15-word header is too short now", said(st));
    }
    {
        Builder b = identity();
        int lab = b.add(1, 1, 1);   // an int32 per-sample buffer
        st = decode(b.words({0, -1, 1, -1, 3, -1, 0, lab}));
        check(says(st, NL_STATUS_SHAPE_MISMATCH, "program header: operand 'targets' (buffer 4) must be float32"), "int32 targets are refused", said(st));
        st = decode(b.words({0, -1, 1, -1, 3, -1, 0, 3}));
        check(says(st, NL_STATUS_SHAPE_MISMATCH, "operand 'targets' (buffer 3) must be per-sample (batched)"), "fixed-size targets are refused", said(st));
        st = decode(b.words({0, -1, 1, -1, 3, -1, 0, 99}));
        check(says(st, NL_STATUS_INVALID_PROGRAM, "operand 'targets' names buffer 99, but the program has 5 buffers"), "targets naming a missing buffer are refused", said(st));
        st = decode(b.words({0, -1, 1, -1, 3, -1, 0, -7}));
        check(!st.ok() && st.message.find("targets") != std::string::npos, "a negative targets id other than -1 is refused", said(st));
    }

    // ---- gathering features and targets in the epoch's order ------------------------------
    const int N = 23;   // not a multiple of the batch: the last batch is short
    std::vector<float> feats = nltest::randv(rng, (size_t)N * W, 10.f);
    std::vector<int32_t> order(N);
    for (int i = 0; i < N; i++) order[i] = (i * 5 + 3) % N;
    {
        auto s = create(identity().words(IDENTITY_IO), st);
        check(st.ok(), "the identity program creates", said(st));
        if (!s) return nltest::finish();
        // targets = the features themselves: every batch's MSE is exactly 0 only if the target rows
        // are gathered in the same order as the feature rows.
        st = s->set_dataset_f32(nl::SPLIT_TEST, feats.data(), nullptr, feats.data(), N, W, W);
        check(st.ok(), "a float dataset with targets is accepted", said(st));
        std::vector<float> outputs((size_t)N * W, -1.f), losses(6, -1.f);
        nl::EpochOptions o;
        o.count = N;
        o.batch = 4;
        o.train = false;
        o.order = order.data();
        o.outputs = outputs.data();
        o.batch_losses = losses.data();
        nl::EpochResult r;
        st = s->run_epoch(nl::SPLIT_TEST, o, nullptr, nullptr, r);
        bool rows_ok = st.ok();
        for (int k = 0; k < N; k++) rows_ok = rows_ok && std::memcmp(&outputs[(size_t)k * W], &feats[(size_t)order[k] * W], W * 4) == 0;
        check(rows_ok, "eval outputs hold each visited sample's row, gathered as it is (bit for bit, in order)", said(st));
        bool zero = st.ok() && r.batches == 6;
        for (float l : losses) zero = zero && l == 0.f;
        check(zero, "targets are gathered in the features' order (MSE of x against itself is 0 in every batch)");

        // Shifted targets: t = x + 1 everywhere gives MSE exactly 1 per batch.
        std::vector<float> shifted(feats);
        for (auto & v : shifted) v += 1.f;
        std::vector<float> expect(6);
        for (int bi = 0; bi < 6; bi++) {
            double sum = 0;
            int n = std::min(4, N - bi * 4);
            for (int k = bi * 4; k < bi * 4 + n; k++)
                for (int j = 0; j < W; j++) {
                    double d = (double)feats[(size_t)order[k] * W + j] - (double)shifted[(size_t)order[k] * W + j];
                    sum += d * d;
                }
            expect[bi] = (float)(sum / (n * W));
        }
        s->set_dataset_f32(nl::SPLIT_TEST, feats.data(), nullptr, shifted.data(), N, W, W);
        st = s->run_epoch(nl::SPLIT_TEST, o, nullptr, nullptr, r);
        nltest::Cmp c;
        for (int bi = 0; bi < 6; bi++) c.add(losses[bi], expect[bi], 1e-6 * std::fabs(expect[bi]));
        check(st.ok() && c.ok, "each batch's loss is the MSE of its own rows and targets (short last batch included)", std::to_string(c.max_err));

        o.train = true;
        check(s->run_epoch(nl::SPLIT_TEST, o, nullptr, nullptr, r).code == NL_STATUS_INVALID_ARGUMENT, "outputs in a training epoch are refused");
        o.train = false;

        // refusals ------------------------------------------------------------------------------
        std::vector<uint8_t> u8((size_t)N * W, 1), labels(N, 0);
        st = s->set_dataset(nl::SPLIT_TRAIN, u8.data(), labels.data(), N, W);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "regression targets, but this dataset has class labels only"), "a uint8 (labels only) dataset is refused by a targets program", said(st));
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, feats.data(), labels.data(), nullptr, N, W, 0);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "regression targets, but this dataset has none"), "a float dataset with labels but no targets is refused", said(st));
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, feats.data(), nullptr, feats.data(), N, W, 2);
        check(says(st, NL_STATUS_SHAPE_MISMATCH, "dataset samples have 2 target values but the model's loss compares 3"), "a target width the loss does not compare is refused", said(st));
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, feats.data(), nullptr, feats.data(), N, W + 1, W);
        check(says(st, NL_STATUS_SHAPE_MISMATCH, "dataset samples hold 4 values but the model's input takes 3"), "a feature count the input does not take is refused", said(st));
        std::vector<float> bad(feats);
        bad[2 * W + 1] = NAN;
        st = s->set_dataset_f32(nl::SPLIT_TEST, bad.data(), nullptr, feats.data(), N, W, W);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "sample 2, feature 1 is NaN"), "a NaN feature is refused, naming the sample and feature", said(st));
        bad = feats;
        bad[5 * W] = INFINITY;
        st = s->set_dataset_f32(nl::SPLIT_TEST, feats.data(), nullptr, bad.data(), N, W, W);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "sample 5, target 0 is infinite"), "an infinite target is refused, naming the sample", said(st));
        st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "no training data was loaded"), "refused datasets leave nothing half-loaded", said(st));
        st = s->run_epoch(nl::SPLIT_TEST, o, nullptr, nullptr, r);
        check(st.ok() && r.samples == N && std::memcmp(outputs.data() + W, &feats[(size_t)order[1] * W], W * 4) == 0,
              "a refused dataset leaves the split loaded before untouched", said(st));
    }

    // ---- borrowing: the caller's arrays read in place, no copy (the Node binding's mode) ---------
    {
        std::vector<float> rows = nltest::randv(rng, (size_t)N * W, 10.f);
        auto epoch_outputs = [&](nl::Session & s) {
            std::vector<float> out((size_t)N * W, -1.f);
            nl::EpochOptions o;
            o.count = N;
            o.batch = 4;
            o.train = false;
            o.outputs = out.data();
            nl::EpochResult r;
            nl::Status st2 = s.run_epoch(nl::SPLIT_TEST, o, nullptr, nullptr, r);
            return st2.ok() ? out : std::vector<float>();
        };
        auto copying = create(identity().words(IDENTITY_IO), st);
        auto borrowing = create(identity().words(IDENTITY_IO), st);
        if (!copying || !borrowing) return nltest::finish();
        borrowing->borrow_datasets(true);
        st = copying->set_dataset_f32(nl::SPLIT_TEST, rows.data(), nullptr, rows.data(), N, W, W);
        check(st.ok(), "a copied float dataset is accepted", said(st));
        st = borrowing->set_dataset_f32(nl::SPLIT_TEST, rows.data(), nullptr, rows.data(), N, W, W);
        check(st.ok(), "a borrowed float dataset is accepted", said(st));
        std::vector<float> before(rows);
        for (auto & v : rows) v += 1.f;   // the caller changes its array after handing it over
        check(epoch_outputs(*copying) == before, "a copying session reads its own copy (the caller's later change is not seen)");
        check(epoch_outputs(*borrowing) == rows, "a borrowing session reads the caller's array in place (no copy of its own)");
        std::vector<float> bad(rows);
        bad[W] = NAN;
        st = borrowing->set_dataset_f32(nl::SPLIT_TEST, bad.data(), nullptr, rows.data(), N, W, W);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "sample 1, feature 0 is NaN"), "a borrowed dataset is checked as a copied one is", said(st));
        check(epoch_outputs(*borrowing) == rows, "a refused borrowed dataset leaves the split it replaced in place");
    }

    // ---- training on targets ---------------------------------------------------------------
    {
        auto s = create(linreg().words(LINREG_IO), st);
        check(st.ok(), "the linear-regression program creates", said(st));
        if (!s) return nltest::finish();
        const int M = 64;
        std::vector<float> x = nltest::randv(rng, (size_t)M * 3), t(M);
        for (int i = 0; i < M; i++) t[i] = 2.f * x[i * 3] - 1.f * x[i * 3 + 1] + 0.5f * x[i * 3 + 2] + 0.25f;
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, x.data(), nullptr, t.data(), M, 3, 1);
        check(st.ok(), "regression rows accepted", said(st));
        nl::EpochOptions o;
        o.count = M;
        o.batch = 4;
        nl::EpochResult r;
        double first = 0, last = 0;
        for (int e = 0; e < 40 && st.ok(); e++) {
            st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
            (e == 0 ? first : last) = r.loss_sum / r.batches;
        }
        std::vector<float> Wt(3), b(1);
        s->get_buffer(1, Wt.data(), 12);
        s->get_buffer(2, b.data(), 4);
        bool fit = std::fabs(Wt[0] - 2.f) < 1e-3f && std::fabs(Wt[1] + 1.f) < 1e-3f && std::fabs(Wt[2] - 0.5f) < 1e-3f && std::fabs(b[0] - 0.25f) < 1e-3f;
        check(st.ok() && last < 1e-6 && fit, "SGD on gathered targets recovers y = 2a - b + 0.5c + 0.25",
              nltest::format("loss %.3g -> %.3g, w = %.4f %.4f %.4f, b = %.4f", first, last, Wt[0], Wt[1], Wt[2], b[0]));
    }

    // ---- classification from float features -------------------------------------------------
    {
        auto s = create(classifier().words(CLASSIFIER_IO), st);
        check(st.ok(), "the float-feature classifier creates", said(st));
        if (!s) return nltest::finish();
        const int M = 60;
        std::vector<float> x((size_t)M * 3);
        std::vector<uint8_t> lab(M);
        for (int i = 0; i < M; i++) {
            lab[i] = (uint8_t)(i % 3);
            for (int j = 0; j < 3; j++) x[(size_t)i * 3 + j] = (j == lab[i] ? 3.f : -1.f) + 0.1f * rng.uniform();
        }
        lab[7] = 3;
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, x.data(), lab.data(), nullptr, M, 3, 0);
        check(says(st, NL_STATUS_BAD_LABEL, "sample 7 has label 3 but the model predicts 3 classes"), "a float dataset's labels are checked against the classes", said(st));
        lab[7] = 1;
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, x.data(), nullptr, x.data(), M, 3, 3);
        check(says(st, NL_STATUS_INVALID_ARGUMENT, "class labels, but this dataset has none"), "regression targets for a class-label program are refused", said(st));
        st = s->set_dataset_f32(nl::SPLIT_TRAIN, x.data(), lab.data(), nullptr, M, 3, 0);
        s->set_dataset_f32(nl::SPLIT_TEST, x.data(), lab.data(), nullptr, M, 3, 0);
        nl::EpochOptions o;
        o.count = M;
        o.batch = 4;
        nl::EpochResult r;
        for (int e = 0; e < 5 && st.ok(); e++) st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
        o.train = false;
        if (st.ok()) st = s->run_epoch(nl::SPLIT_TEST, o, nullptr, nullptr, r);
        check(st.ok() && r.correct == M, "a classifier trains on float features with class labels", said(st) + " " + std::to_string(r.correct) + "/" + std::to_string(M));
    }

    // ---- memory: sizes this machine cannot hold are refused before anything is touched -------
    {
        const uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
        // Two per-sample buffers of 2^27 floats at batch 32: 16 GiB each, 32 GiB in all (within the
        // format's 64 GiB limit, beyond this machine).
        if (phys > 0 && phys < (uint64_t(30) << 30)) {
            Builder b;
            b.batch = 32;
            int x = b.add(0, 1, 1 << 27), loss = b.add(0, 0, 1), t = b.add(0, 1, 1 << 27);
            b.fwd.push_back(Builder::ins(nl::Op::POINT_LOSS_FORWARD, {x, t, loss}, {0, 1 << 27, 0}, {1.f}));
            auto s = create(b.words({x, -1, x, -1, loss, -1, 0, t}), st);
            check(!s && says(st, NL_STATUS_OUT_OF_MEMORY, "at batch size 32) need 32.0 GiB, but only") &&
                      st.message.find("of memory is available") != std::string::npos &&
                      st.message.find("lower the batch size") != std::string::npos,
                  "an arena larger than the memory available is refused with the sizes and the fix", said(st));
        } else {
            std::printf("note: the out-of-memory check needs a machine with under 30 GiB (this one has %.1f GiB)\n", (double)phys / (1 << 30));
        }
    }

    return nltest::finish();
}
