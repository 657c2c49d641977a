// One Netloom training epoch of FashionMNIST on CUDA, timed: the GPU machine's side of the
// comparison with PyTorch eager (run.sh prints them side by side). The Program and how to
// initialise it come from a fixture dumped by the TypeScript compiler (dump-programs.mjs), since
// there is no Node on the GPU machine; the images from the raw IDX files.
//
//   bench_cuda <programs/NAME-bBATCH.bin> <FashionMNIST raw folder> [--cpu]
// prints "RESULT netloom-cuda NAME-bBATCH <seconds> <mean loss> <accuracy> <test accuracy>" (or
// netloom-cpu). The timed epoch is the training pass and then a test pass over the 10,000 test
// images in eval mode, as the quickstart's epoch (and torch_eager.py's) has it.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>
#include "cuda-loader.h"
#include "netloom.h"
#include "test-util.h"

namespace {

bool read_file(const std::string & path, std::vector<char> & out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    return true;
}

// An IDX file's payload after its header (dims big-endian int32s): images [n, 28, 28] or labels [n].
bool read_idx(const std::string & path, int dims, std::vector<uint8_t> & out, int64_t & count) {
    std::vector<char> raw;
    if (!read_file(path, raw) || raw.size() < (size_t)(4 + 4 * dims)) return false;
    auto be32 = [&](size_t at) { return (int64_t)((uint8_t)raw[at] << 24 | (uint8_t)raw[at + 1] << 16 | (uint8_t)raw[at + 2] << 8 | (uint8_t)raw[at + 3]); };
    count = be32(4);
    const size_t header = 4 + 4 * (size_t)dims;
    out.assign(raw.begin() + (long)header, raw.end());
    return true;
}

// The fixture (dump-programs.mjs's layout).
struct Fixture {
    std::vector<int32_t> words;
    struct Init { int32_t buffer, elems, mode; float value; std::vector<float> data; };
    std::vector<Init> inits;
    int32_t classes = 0, input_elems = 0;
};

bool read_fixture(const std::string & path, Fixture & fx) {
    std::vector<char> raw;
    if (!read_file(path, raw) || raw.size() % 4) return false;
    std::vector<int32_t> w(raw.size() / 4);
    std::memcpy(w.data(), raw.data(), raw.size());
    size_t at = 0;
    auto next = [&]() { return at < w.size() ? w[at++] : 0; };
    if (next() != 0x43474c4e || next() != 1) return false;
    const int32_t n = next();
    fx.words.assign(w.begin() + (long)at, w.begin() + (long)at + n);
    at += (size_t)n;
    const int32_t inits = next();
    for (int32_t k = 0; k < inits; k++) {
        Fixture::Init in{next(), next(), next(), 0.f, {}};
        int32_t bits = next();
        std::memcpy(&in.value, &bits, 4);
        if (in.mode == 2) {
            in.data.resize((size_t)in.elems);
            std::memcpy(in.data.data(), w.data() + at, (size_t)in.elems * 4);
            at += (size_t)in.elems;
        }
        fx.inits.push_back(in);
    }
    fx.classes = next();
    fx.input_elems = next();
    return at == w.size();
}

} // namespace

int main(int argc, char ** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: bench_cuda <program.bin> <FashionMNIST raw folder> [--cpu]\n");
        return 2;
    }
    const std::string fixture = argv[1], raw = argv[2];
    const bool on_cpu = argc > 3 && std::string(argv[3]) == "--cpu";
    std::string name = fixture.substr(fixture.rfind('/') + 1);
    name = name.substr(0, name.rfind('.'));
    Fixture fx;
    std::vector<uint8_t> images, labels, t_images, t_labels;
    int64_t n_images = 0, n_labels = 0, n_test = 0, n_test_labels = 0;
    if (!read_fixture(fixture, fx) || !read_idx(raw + "/train-images-idx3-ubyte", 3, images, n_images) ||
        !read_idx(raw + "/train-labels-idx1-ubyte", 1, labels, n_labels) || n_images != n_labels ||
        !read_idx(raw + "/t10k-images-idx3-ubyte", 3, t_images, n_test) || !read_idx(raw + "/t10k-labels-idx1-ubyte", 1, t_labels, n_test_labels) ||
        n_test != n_test_labels) {
        std::fprintf(stderr, "bench_cuda: cannot read %s or the IDX files in %s\n", fixture.c_str(), raw.c_str());
        return 2;
    }
    std::unique_ptr<nl::Backend> be;
    nl::Status st = on_cpu ? nl::cpu_backend_create(0, be) : nl::cuda_backend_create(0, true, be);
    std::unique_ptr<nl::Session> s;
    if (st.ok()) st = nl::Session::create(fx.words.data(), fx.words.size(), std::move(be), s);
    nltest::Rng rng(0);
    for (size_t k = 0; st.ok() && k < fx.inits.size(); k++) {
        const Fixture::Init & in = fx.inits[k];
        std::vector<float> v = in.mode == 2 ? in.data : std::vector<float>((size_t)in.elems, in.value);
        if (in.mode == 0)
            for (float & x : v) x = rng.uniform(-in.value, in.value);
        st = s->set_buffer(in.buffer, v.data(), v.size() * 4);
    }
    if (st.ok()) st = s->set_dataset(nl::SPLIT_TRAIN, images.data(), labels.data(), n_images, 784);
    if (st.ok()) st = s->set_dataset(nl::SPLIT_TEST, t_images.data(), t_labels.data(), n_test, 784);
    if (!st.ok()) {
        std::fprintf(stderr, "bench_cuda: %s\n", st.message.c_str());
        return 1;
    }
    const int batch = s->program().max_batch;
    nl::EpochOptions o;
    o.batch = batch;
    o.count = std::min<int64_t>(n_images, 20 * batch);   // warm-up: graphs captured, kernels loaded
    nl::EpochResult r;
    st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    o.count = n_images;
    const auto t0 = std::chrono::steady_clock::now();
    if (st.ok()) st = s->run_epoch(nl::SPLIT_TRAIN, o, nullptr, nullptr, r);
    nl::EpochOptions t = o;
    t.train = false;
    t.count = n_test;
    nl::EpochResult tr;
    if (st.ok()) st = s->run_epoch(nl::SPLIT_TEST, t, nullptr, nullptr, tr);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!st.ok()) {
        std::fprintf(stderr, "bench_cuda: %s\n", st.message.c_str());
        return 1;
    }
    std::printf("RESULT netloom-%s %s %.3f %.4f %.4f %.4f\n", on_cpu ? "cpu" : "cuda", name.c_str(), sec, r.loss_sum / (double)r.batches,
                (double)r.correct / (double)r.samples, (double)tr.correct / (double)tr.samples);
    return 0;
}
