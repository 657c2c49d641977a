// Program decoding and validation. Everything a kernel will assume about its operands (dtype,
// batched or not, element counts, arena bounds) is checked once, while decoding: the header and
// buffer table here, each instruction by its op's own check (ops/<family>.cpp, through the op
// table), so the kernels can run without checks and a malformed Program is reported as an error
// naming the instruction.
#include "program.h"
#include <cstring>
#include "op-check.h"
#include "op-table.h"

namespace nl {

namespace {

constexpr int64_t MAX_ARENA_WORDS = int64_t(1) << 34;   // 64 GiB: anything above is a corrupt file
constexpr int MAX_BATCH = 1 << 20;
constexpr int MAX_BUFFERS = 1 << 20;
constexpr int MAX_INSTRS = 1 << 22;

struct Reader {
    const int32_t * w;
    size_t n, pos = 0;
    bool take(int32_t & v) {
        if (pos >= n) return false;
        v = w[pos++];
        return true;
    }
};

// Runs the op's own check (ops/<family>.cpp) through the op table.
Status check_instr(const Program & p, const Instr & in, const std::string & where) {
    Checker c(p, where);
    op_info(in.op).check(c, in);
    return c.status();
}

} // namespace

Status program_decode(const int32_t * words, size_t n, Program & out) {
    if (!words || n < (size_t)HEADER_WORDS)
        return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("program is %zu words long, shorter than its %d-word header", n, HEADER_WORDS));
    if (words[0] != PROGRAM_MAGIC)
        return Status::error(NL_STATUS_INVALID_PROGRAM, "not a Netloom program (bad magic number)");
    if (words[1] != PROGRAM_VERSION)
        return Status::error(NL_STATUS_INVALID_PROGRAM,
                             fmt_str("program format version %d is not supported (this engine reads version %d)", words[1], PROGRAM_VERSION));
    Program p;
    p.max_batch = words[2];
    int64_t arena = words[3];
    int32_t nbuf = words[4], nf = words[5], nb = words[6], ns = words[7];
    if (p.max_batch < 1 || p.max_batch > MAX_BATCH)
        return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("batch size %d is out of range (1..%d)", p.max_batch, MAX_BATCH));
    if (arena < 0 || nbuf < 0 || nbuf > MAX_BUFFERS || nf < 0 || nb < 0 || ns < 0 || (int64_t)nf + nb + ns > MAX_INSTRS)
        return Status::error(NL_STATUS_INVALID_PROGRAM, "program header has negative or absurd counts");
    // arena_floats is stored in units of 16 words (one cache line) so that it fits in an int32.
    p.arena_words = arena * 16;
    int32_t ids[6];
    std::memcpy(ids, words + 8, sizeof ids);
    p.classes = words[14];
    if (p.classes < 0) return Status::error(NL_STATUS_INVALID_PROGRAM, "program header has a negative class count");
    const int32_t targets = words[15];

    Reader r{words, n, HEADER_WORDS};
    p.buffers.resize(nbuf);
    for (int32_t k = 0; k < nbuf; k++) {
        int32_t dt, batched, elems, offset16;
        if (!r.take(dt) || !r.take(batched) || !r.take(elems) || !r.take(offset16))
            return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("program ends inside buffer %d's description", k));
        if ((dt != 0 && dt != 1) || (batched != 0 && batched != 1) || elems <= 0 || offset16 < 0)
            return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("buffer %d has an invalid description (dtype %d, batched %d, elems %d)", k, dt, batched, elems));
        BufferDesc d{(DType)dt, batched == 1, elems, (int64_t)offset16 * 16};
        if (d.words(p.max_batch) > MAX_ARENA_WORDS || d.offset + d.words(p.max_batch) > p.arena_words)
            return Status::error(NL_STATUS_INVALID_PROGRAM,
                                 fmt_str("buffer %d (offset %lld, %lld words) lies outside the %lld-word arena", k,
                                         (long long)d.offset, (long long)d.words(p.max_batch), (long long)p.arena_words));
        p.buffers[k] = d;
    }
    if (p.arena_words > MAX_ARENA_WORDS)
        return Status::error(NL_STATUS_INVALID_PROGRAM, "program arena is larger than 64 GiB");

    std::vector<Instr> * sections[3] = {&p.forward, &p.backward, &p.step};
    const char * names[3] = {"forward", "backward", "step"};
    int32_t counts[3] = {nf, nb, ns};
    int index = 0;
    for (int s = 0; s < 3; s++) {
        sections[s]->resize(counts[s]);
        for (int32_t j = 0; j < counts[s]; j++, index++) {
            Instr & in = (*sections[s])[j];
            int32_t op, nbufs, nints, nfloats;
            std::string where = fmt_str("instruction %d (%s #%d", index, names[s], j);
            if (!r.take(op) || !r.take(nbufs) || !r.take(nints) || !r.take(nfloats))
                return Status::error(NL_STATUS_INVALID_PROGRAM, where + "): program ends inside it");
            if (op < 0 || op >= (int32_t)Op::COUNT)
                return Status::error(NL_STATUS_INVALID_PROGRAM, where + fmt_str("): unknown opcode %d (this engine knows 0..%d)", op, (int)Op::COUNT - 1));
            in.op = (Op)op;
            const OpInfo & info = op_info(in.op);
            where += std::string(", ") + info.name + ")";
            if (nbufs != info.n_buffers || nints != info.n_ints || nfloats != info.n_floats)
                return Status::error(NL_STATUS_INVALID_PROGRAM,
                                     where + fmt_str(": has %d buffers, %d int and %d float attributes; %s takes %d, %d and %d",
                                                     nbufs, nints, nfloats, info.name, info.n_buffers, info.n_ints, info.n_floats));
            in.bufs.resize(nbufs);
            in.ints.resize(nints);
            in.floats.resize(nfloats);
            bool ok = true;
            for (auto & v : in.bufs) ok = ok && r.take(v);
            for (auto & v : in.ints) ok = ok && r.take(v);
            for (auto & v : in.floats) {
                int32_t bits = 0;   // read only when take() succeeded; zero keeps the copy defined when it did not
                ok = ok && r.take(bits);
                std::memcpy(&v, &bits, 4);
            }
            if (!ok) return Status::error(NL_STATUS_INVALID_PROGRAM, where + ": program ends inside it");
            Status st = check_instr(p, in, where);
            if (!st.ok()) return st;
        }
    }
    if (r.pos != n)
        return Status::error(NL_STATUS_INVALID_PROGRAM, fmt_str("program has %zu unexpected words after its last instruction", n - r.pos));

    // Well-known buffers: checked like operands so the runtime can use them blindly.
    Checker c(p, "program header");
    if (ids[0] != -1) c.buf(ids[0], "input", DType::F32, BATCHED, ids[0] >= 0 && ids[0] < nbuf ? p.buffers[ids[0]].elems : 1);
    if (ids[1] != -1) c.buf(ids[1], "labels", DType::I32, BATCHED, 1);
    if (ids[2] != -1) c.buf(ids[2], "logits", DType::F32, BATCHED, ids[2] >= 0 && ids[2] < nbuf ? p.buffers[ids[2]].elems : 1);
    if (ids[3] != -1) c.buf(ids[3], "probs", DType::F32, BATCHED, ids[3] >= 0 && ids[3] < nbuf ? p.buffers[ids[3]].elems : 1);
    if (ids[4] != -1) c.buf(ids[4], "loss", DType::F32, FIXED, 1);
    if (ids[5] != -1) c.buf(ids[5], "correct", DType::I32, FIXED, 1);
    // Regression targets: any width, but float and one row per sample, so the runtime can gather
    // a dataset's target rows into it.
    if (targets != -1) c.buf(targets, "targets", DType::F32, BATCHED, targets >= 0 && targets < nbuf ? p.buffers[targets].elems : 1);
    if (ids[1] != -1 && p.classes <= 0) c.fail("a program that reads labels must say how many classes they index");
    if (!c.ok()) return c.status();
    p.input = ids[0];
    p.labels = ids[1];
    p.logits = ids[2];
    p.probs = ids[3];
    p.loss = ids[4];
    p.correct = ids[5];
    p.targets = targets;
    out = std::move(p);
    return {};
}

} // namespace nl
