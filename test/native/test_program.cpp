// Program decoding and the runtime's error paths: every malformed Program is an error naming the
// instruction (never a crash), and a Session runs, stops and reports non-finite losses cleanly.
// Plain C++ (no Node): prints one line per check and ends with "N passed, N failed".
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>
#include "netloom.h"
#include "test-util.h"

// "what: detail" (the detail is the status the runtime returned).
static void check(bool ok, const std::string & what, const std::string & detail = "") {
    nltest::check(ok, detail.empty() ? what : what + ": " + detail);
}

// A tiny valid program: x[4] -> linear(4->3) -> CE(3), SGD. Buffers (offsets in 16-word units):
//  0 x (batched 4)  1 W [3x4]  2 b [3]  3 y (batched 3)  4 labels (i32, batched 1)
//  5 probs (batched 3)  6 loss  7 correct (i32)  8 dW  9 db  10 dy (batched 3)
struct Builder {
    int batch = 2;
    std::vector<int32_t> bufs;   // 4 words each
    std::vector<std::vector<int32_t>> fwd, bwd, step;
    int64_t top16 = 0;
    int add(int dt, int batched, int elems) {
        bufs.insert(bufs.end(), {dt, batched, elems, (int32_t)top16});
        int64_t words = (int64_t)elems * (batched ? batch : 1);
        top16 += (words + 15) / 16;
        return (int)bufs.size() / 4 - 1;
    }
    static std::vector<int32_t> ins(nl::Op op, std::vector<int32_t> b, std::vector<int32_t> i, std::vector<float> f = {}) {
        std::vector<int32_t> w{(int32_t)op, (int32_t)b.size(), (int32_t)i.size(), (int32_t)f.size()};
        w.insert(w.end(), b.begin(), b.end());
        w.insert(w.end(), i.begin(), i.end());
        for (float v : f) {
            int32_t bits;
            std::memcpy(&bits, &v, 4);
            w.push_back(bits);
        }
        return w;
    }
    std::vector<int32_t> words(std::vector<int32_t> io) const {
        std::vector<int32_t> w{nl::PROGRAM_MAGIC, nl::PROGRAM_VERSION, batch, (int32_t)top16, (int32_t)bufs.size() / 4,
                               (int32_t)fwd.size(), (int32_t)bwd.size(), (int32_t)step.size()};
        w.insert(w.end(), io.begin(), io.end());
        w.insert(w.end(), bufs.begin(), bufs.end());
        for (auto * sec : {&fwd, &bwd, &step})
            for (auto & i : *sec) w.insert(w.end(), i.begin(), i.end());
        return w;
    }
};

static Builder tiny(float lr = 0.1f) {
    Builder b;
    int x = b.add(0, 1, 4), W = b.add(0, 0, 12), bias = b.add(0, 0, 3), y = b.add(0, 1, 3), lab = b.add(1, 1, 1);
    int probs = b.add(0, 1, 3), loss = b.add(0, 0, 1), correct = b.add(1, 0, 1), dW = b.add(0, 0, 12), db = b.add(0, 0, 3),
        dy = b.add(0, 1, 3);
    b.fwd.push_back(Builder::ins(nl::Op::LINEAR_FORWARD, {x, W, bias, y}, {4, 3}));
    b.fwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_FORWARD, {y, lab, probs, loss, correct, -1}, {3, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::SOFTMAX_CROSS_ENTROPY_BACKWARD, {probs, lab, dy, -1}, {3, 0, -100, 0}, {0.f}));
    b.bwd.push_back(Builder::ins(nl::Op::LINEAR_BACKWARD, {dy, x, W, -1, dW, db}, {4, 3, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {W, dW, -1}, {0, 0}, {lr, 0, 0, 0}));
    b.step.push_back(Builder::ins(nl::Op::SGD_STEP, {bias, db, -1}, {0, 0}, {lr, 0, 0, 0}));
    return b;
}
static const std::vector<int32_t> IO = {0, 4, 3, 5, 6, 7, 3};   // io buffers + classes

static nl::Status decode(const std::vector<int32_t> & w) {
    nl::Program p;
    return nl::program_decode(w.data(), w.size(), p);
}

static void expect_error(const std::vector<int32_t> & w, nl_status code, const std::string & needle, const std::string & what) {
    nl::Status st = decode(w);
    bool ok = st.code == code && st.message.find(needle) != std::string::npos;
    check(ok, what, std::string(nl_status_code(st.code)) + " \"" + st.message + "\"");
}

int main() {
    check(decode(tiny().words(IO)).ok(), "a valid program decodes");

    auto w = tiny().words(IO);
    w[0] = 0x1234;
    expect_error(w, NL_STATUS_INVALID_PROGRAM, "bad magic", "bad magic number");
    w = tiny().words(IO);
    w[1] = 99;
    expect_error(w, NL_STATUS_INVALID_PROGRAM, "version 99", "future format version");
    w = tiny().words(IO);
    expect_error(std::vector<int32_t>(w.begin(), w.end() - 3), NL_STATUS_INVALID_PROGRAM, "instruction 5", "truncated inside the last instruction");
    expect_error(tiny().words({0, 4, 3, 5, 6, 7, 0}), NL_STATUS_SHAPE_MISMATCH, "how many classes", "labels without a class count");
    expect_error(std::vector<int32_t>(w.begin(), w.begin() + 5), NL_STATUS_INVALID_PROGRAM, "header", "truncated header");

    Builder b = tiny();
    b.fwd[1][0] = 77;
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "instruction 1 (forward #1): unknown opcode 77", "unknown opcode names the instruction");

    b = tiny();
    b.fwd[0][4 + 1] = 42;  // weight operand -> buffer 42
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "instruction 0 (forward #0, linear_forward): operand 'weight' names buffer 42", "buffer out of range");

    b = tiny();
    b.fwd[0][4 + 4 + 0] = 5;  // in_features 5, x holds 4
    expect_error(b.words(IO), NL_STATUS_SHAPE_MISMATCH, "instruction 0 (forward #0, linear_forward): operand 'x' (buffer 0) holds 4 values per sample, expected 5",
                 "shape mismatch names operand and sizes");

    b = tiny();
    b.bwd[1][4 + 3] = 9;  // dx -> db (fixed-size, wrong kind)
    expect_error(b.words(IO), NL_STATUS_SHAPE_MISMATCH, "instruction 3 (backward #1, linear_backward): operand 'dx'", "batched vs fixed buffer");

    b = tiny();
    b.fwd[0][1] = 3;  // wrong operand count
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "linear_forward takes 4, 2 and 0", "wrong operand count");

    b = tiny();
    b.step[0][4 + 3 + 2 + 0] = 0x7fc00000;  // lr = NaN
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "not a finite number", "NaN hyper-parameter");

    b = tiny();
    b.bufs[4 * 1 + 3] = 1 << 30;  // W's offset far outside the arena
    expect_error(b.words(IO), NL_STATUS_INVALID_PROGRAM, "outside the", "buffer outside the arena");

    expect_error(tiny().words({0, 4, 3, 5, 6, 1, 3}), NL_STATUS_SHAPE_MISMATCH, "correct", "well-known buffer with the wrong type");

    // ---- runtime ---------------------------------------------------------------------------------
    std::unique_ptr<nl::Session> s;
    auto words = tiny().words(IO);
    nl::Status st = nl::Session::create(words.data(), words.size(), 2, s);
    check(st.ok(), "session creates", st.message);
    if (!s) return 1;
    std::vector<float> W(12, 0.01f), bias(3, 0.f);
    check(s->set_buffer(1, W.data(), 48).ok() && s->set_buffer(2, bias.data(), 12).ok(), "parameters set");
    check(!s->set_buffer(1, W.data(), 40).ok(), "a wrongly sized parameter is refused");

    const int N = 64;
    std::vector<uint8_t> images(N * 4), labels(N);
    for (int i = 0; i < N; i++) {
        labels[i] = (uint8_t)(i % 3);
        for (int k = 0; k < 4; k++) images[i * 4 + k] = (uint8_t)(k == labels[i] ? 255 : 0);
    }
    labels[5] = 3;
    st = s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), N, 4);
    check(st.code == NL_STATUS_BAD_LABEL && st.message.find("sample 5 has label 3") != std::string::npos, "label outside the classes is refused", st.message);
    labels[5] = 2;
    check(s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), N, 4).ok(), "dataset accepted");
    check(s->set_dataset(nl::SPLIT_TEST, images.data(), labels.data(), N, 5).code == NL_STATUS_SHAPE_MISMATCH, "sample size mismatch refused");

    nl::EpochOptions o;
    o.count = N;
    o.batch = 2;
    o.train = true;
    double first = 0, last = 0;
    for (int e = 0; e < 20; e++) {
        nl::EpochResult r;
        st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
        if (e == 0) first = r.loss_sum / r.batches;
        last = r.loss_sum / r.batches;
        if (!st.ok()) break;
    }
    check(st.ok() && last < first * 0.5, "training a separable toy problem lowers the loss", std::to_string(first) + " -> " + std::to_string(last));
    check(s->steps() == 20 * 32, "one optimizer step per batch", std::to_string(s->steps()));

    std::vector<int32_t> bad_order(N, 0);
    bad_order[3] = N + 7;
    o.order = bad_order.data();
    nl::EpochResult r;
    st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    check(st.code == NL_STATUS_INVALID_ARGUMENT, "an order naming a sample outside the dataset is refused", st.message);
    o.order = nullptr;
    o.batch = 3;
    check(s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r).code == NL_STATUS_INVALID_ARGUMENT, "batch above the program's batch size is refused");
    o.batch = 2;

    // Stop from another thread: the epoch returns within one batch, stopped = true.
    std::vector<uint8_t> big(200000 * 4), big_labels(200000);
    for (size_t i = 0; i < big_labels.size(); i++) big_labels[i] = (uint8_t)(i % 3);
    s->set_dataset(nl::SPLIT_TRAIN, big.data(), big_labels.data(), 200000, 4);
    o.count = 200000;
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        s->request_stop();
    });
    st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    stopper.join();
    check(st.ok() && r.stopped && r.batches < 100000, "stop is honoured within the epoch", std::to_string(r.batches) + " batches");

    // A non-finite loss (here from a NaN weight): NON_FINITE at batch 1, nothing applied.
    Builder hot = tiny();
    auto hw = hot.words(IO);
    std::unique_ptr<nl::Session> s2;
    nl::Session::create(hw.data(), hw.size(), 1, s2);
    std::vector<float> W2(12, 1.f);
    W2[7] = NAN;
    s2->set_buffer(1, W2.data(), 48);
    s2->set_buffer(2, bias.data(), 12);
    s2->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), N, 4);
    o.count = N;
    st = s2->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    std::vector<float> after(12);
    s2->get_buffer(1, after.data(), 48);
    bool untouched = std::memcmp(after.data(), W2.data(), 48) == 0 && s2->steps() == 0;
    check(st.code == NL_STATUS_NON_FINITE && st.message.find("loss became NaN at batch 1 of") != std::string::npos &&
              st.message.find("before applying that batch") != std::string::npos && untouched,
          "a NaN/inf loss stops the run before that batch is applied", std::string(nl_status_code(st.code)) + " " + st.message);

    return nltest::finish();
}
