// Hand-built Programs for the C++ tests and benchmarks: buffers and instructions in the wire
// format native/core/program.h documents, so a test can make exactly the (valid or broken)
// program it needs without the TypeScript compiler.
//
//   ProgramBuilder b; b.batch = 4;
//   int x = b.add(0 /*f32*/, 1 /*batched*/, 4 /*elems per sample*/);  ...
//   b.fwd.push_back(ProgramBuilder::ins(nl::Op::LINEAR_FORWARD, {x, W, bias, y}, {4, 3}));
//   auto words = b.words({input, labels, logits, probs, loss, correct, classes, targets});
//
// Buffer offsets are assigned in 16-word units, one after another (no sharing).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>
#include "program.h"

struct ProgramBuilder {
    int batch = 2;
    std::vector<int32_t> bufs;   // 4 words each: dtype batched elems offset
    std::vector<std::vector<int32_t>> fwd, bwd, step;
    int64_t top16 = 0;

    // dt: 0 = f32, 1 = i32; returns the buffer id
    int add(int dt, int batched, int elems) {
        bufs.insert(bufs.end(), {dt, batched, elems, (int32_t)top16});
        top16 += ((int64_t)elems * (batched ? batch : 1) + 15) / 16;
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

    // io: input labels logits probs loss correct classes targets (the header's well-known buffers)
    std::vector<int32_t> words(const std::vector<int32_t> & io, int version = nl::PROGRAM_VERSION) const {
        std::vector<int32_t> w{nl::PROGRAM_MAGIC, version, batch, (int32_t)top16, (int32_t)bufs.size() / 4,
                               (int32_t)fwd.size(), (int32_t)bwd.size(), (int32_t)step.size()};
        w.insert(w.end(), io.begin(), io.end());
        w.insert(w.end(), bufs.begin(), bufs.end());
        for (auto * sec : {&fwd, &bwd, &step})
            for (auto & i : *sec) w.insert(w.end(), i.begin(), i.end());
        return w;
    }
};
