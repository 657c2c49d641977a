// The Backend contract (native/core/backend.h), checked on the CPU backend through the interface
// only: what any backend (CUDA next) must do for the Session. Buffers round-trip host -> device ->
// host at the planner's offsets, a dataset is copied or borrowed and gathered into the input,
// labels and targets buffers, an instruction runs from the kernel table, and the gradient check
// tells finite, infinite and NaN apart. A second backend runs this same file against itself.
// Plain C++ (no Node): prints one line per check and ends with "N passed, N failed".
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>
#include "netloom.h"
#include "program-builder.h"
#include "test-util.h"

using nltest::check;

namespace {

// x [3] (batched) -> linear(3 -> 2) -> y; labels; targets [2]; a gradient g [5] the check watches.
struct Fixture {
    ProgramBuilder b;
    int x, W, bias, y, lab, tgt, g;
    nl::Program prog;
    Fixture() {
        b.batch = 4;
        x = b.add(0, 1, 3);
        W = b.add(0, 0, 6);
        bias = b.add(0, 0, 2);
        y = b.add(0, 1, 2);
        lab = b.add(1, 1, 1);
        tgt = b.add(0, 1, 2);
        g = b.add(0, 0, 5);
        b.fwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_FORWARD, {x, W, bias, y}, {3, 2}));
        auto w = b.words({x, lab, y, -1, -1, -1, 3, tgt});
        nl::Status st = nl::program_decode(w.data(), w.size(), prog);
        check(st.ok(), std::string("the fixture program decodes") + (st.ok() ? "" : ": " + st.message));
    }
};

void check_buffers(nl::Backend & be, const Fixture & f) {
    const std::vector<float> W{1, 2, 3, -1, 0.5f, 0};
    std::vector<float> back(6, -7.f);
    nl::Status st = be.set_buffer(f.W, W.data(), 24);
    if (st.ok()) st = be.get_buffer(f.W, back.data(), 24);
    check(st.ok() && back == W, "%s: a buffer reads back what was written", be.name());
    std::vector<float> zeros(2, 1.f);
    st = be.get_buffer(f.bias, zeros.data(), 8);
    check(st.ok() && zeros[0] == 0.f && zeros[1] == 0.f, "%s: a fresh arena is zeroed", be.name());
}

void check_run(nl::Backend & be, const Fixture & f) {
    const std::vector<float> W{1, 2, 3, -1, 0.5f, 0}, bias{0.25f, -2}, x{1, 0, 2, -1, 1, 1};   // two rows
    be.set_buffer(f.W, W.data(), 24);
    be.set_buffer(f.bias, bias.data(), 8);
    be.set_buffer(f.x, x.data(), 24);
    nl::StepState s;
    s.n = 2;
    nl::Status st = be.run(f.prog.forward[0], s);
    if (st.ok()) st = be.synchronize();
    std::vector<float> y(4);
    if (st.ok()) st = be.get_buffer(f.y, y.data(), 16);
    // y = x W^T + b: row 0 (1, 0, 2) -> (1 + 6, -1 + 0) + b; row 1 (-1, 1, 1) -> (-1 + 2 + 3, 1 + 0.5) + b
    const std::vector<float> want{7.25f, -3.f, 4.25f, -0.5f};
    check(st.ok() && y == want, "%s: linear_forward runs from the kernel table (y = %g %g %g %g)", be.name(), y[0], y[1], y[2], y[3]);
}

void check_datasets(nl::Backend & be, const Fixture & f, bool borrow) {
    const char * how = borrow ? "borrowed" : "copied";
    const std::vector<uint8_t> images{0, 51, 255, 102, 153, 204}, labels{2, 1};
    nl::DatasetView v;
    v.images = images.data();
    v.labels = labels.data();
    v.count = 2;
    v.sample_size = 3;
    nl::Status st = be.set_dataset(nl::SPLIT_TRAIN, v, borrow);
    const int32_t order[2] = {1, 0};
    if (st.ok()) st = be.gather_batch(nl::SPLIT_TRAIN, order, 2);
    std::vector<float> x(6);
    int32_t lab[2] = {-1, -1};
    if (st.ok()) st = be.get_buffer(f.x, x.data(), 24);
    if (st.ok()) st = be.get_buffer(f.lab, lab, 8);
    check(st.ok() && x[0] == 102 / 255.f && x[2] == 204 / 255.f && x[3] == 0.f && x[4] == 51 / 255.f && x[5] == 1.f && lab[0] == 1 && lab[1] == 2,
          "%s: a %s uint8 split is gathered in order, scaled by 1/255, with its labels", be.name(), how);

    const std::vector<float> features{1, 2, 3, 4, 5, 6, 7, 8, 9}, targets{10, 11, 20, 21, 30, 31};
    nl::DatasetView fv;
    fv.is_float = true;
    fv.features = features.data();
    fv.targets = targets.data();
    fv.count = 3;
    fv.sample_size = 3;
    fv.target_size = 2;
    st = be.set_dataset(nl::SPLIT_TEST, fv, borrow);
    const int32_t pick[1] = {2};
    if (st.ok()) st = be.gather_batch(nl::SPLIT_TEST, pick, 1);
    std::vector<float> row(3), t(2);
    if (st.ok()) st = be.get_buffer(f.x, row.data(), 12);
    if (st.ok()) st = be.get_buffer(f.tgt, t.data(), 8);
    check(st.ok() && row == std::vector<float>{7, 8, 9} && t == std::vector<float>{30, 31},
          "%s: a %s float split is gathered as it is, with its regression targets", be.name(), how);
}

void check_gradients(nl::Backend & be, const Fixture & f) {
    nl::Status st = be.watch_gradients({f.g, f.W});
    std::vector<float> g(5, 0.5f);
    be.set_buffer(f.g, g.data(), 20);
    const bool finite = st.ok() && be.gradients_finite();
    g[3] = INFINITY;
    be.set_buffer(f.g, g.data(), 20);
    const bool inf = !be.gradients_finite() && !be.gradients_have_nan();
    g[1] = NAN;
    be.set_buffer(f.g, g.data(), 20);
    const bool nan = !be.gradients_finite() && be.gradients_have_nan();
    check(finite && inf && nan, "%s: the gradient check tells finite, infinite and NaN apart", be.name());
}

} // namespace

int main() {
    Fixture f;
    for (bool borrow : {false, true}) {
        std::unique_ptr<nl::Backend> cpu;
        nl::Status st = nl::cpu_backend_create(2, cpu);
        if (st.ok()) st = cpu->alloc_buffers(f.prog);
        check(st.ok() && cpu->threads() >= 1, std::string("the CPU backend starts and allocates the fixture's buffers") + (st.ok() ? "" : ": " + st.message));
        if (!st.ok()) break;
        if (!borrow) {
            check_buffers(*cpu, f);
            check_run(*cpu, f);
            check_gradients(*cpu, f);
        }
        check_datasets(*cpu, f, borrow);
    }
    return nltest::finish();
}
