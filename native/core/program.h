// Program: the engine's compiled graph, as the native runtime executes it.
//
// A Program is a flat list of kernel instructions over numbered buffers, in three sections:
// forward, backward and optimizer step. Shapes are static for a maximum batch size; "batched"
// buffers hold `elems` values PER SAMPLE and are sized for max_batch rows, the others hold
// `elems` values in total (parameters, gradients, optimizer state, scalars). All buffers live in
// one arena at offsets chosen by the engine's memory planner (buffers whose lifetimes do not
// overlap may share memory).
//
// Wire format (Int32 words, little-endian, produced by engine/compile/program.ts):
//   header   : MAGIC VERSION max_batch arena_floats n_buffers n_forward n_backward n_step
//              input labels logits probs loss correct                  (buffer ids, -1 = none)
//              classes                                                  (labels must be < classes)
//              targets                                                  (buffer id, -1 = none; v3)
//   buffers  : n_buffers x [dtype batched elems offset]                (dtype 0 = f32, 1 = i32)
//   instrs   : (n_forward + n_backward + n_step) x
//              [opcode n_buffers n_int n_float  buffer ids...  ints...  float bits...]
// decode() validates everything before anything runs; a bad Program is an error naming the
// instruction, never a crash.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "status.h"

namespace nl {

// The opcodes, one per ops.def row (op-table.h has what each one takes and how it is checked).
enum class Op : int32_t {
#define NL_OP(e, name, operands, ints, floats) e,
#include "ops.def"
#undef NL_OP
    COUNT
};

constexpr int32_t PROGRAM_MAGIC = 0x47504c4e;  // "NLPG"
// Version 3 added the `targets` word: float regression targets a dataset supplies per sample
// (f32, batched, one row of `elems` values per sample), gathered like the labels.
constexpr int32_t PROGRAM_VERSION = 3;
constexpr int HEADER_WORDS = 16;

enum class DType : int32_t { F32 = 0, I32 = 1 };

struct BufferDesc {
    DType dtype;
    bool batched;
    int64_t elems;   // per sample when batched, else total
    int64_t offset;  // in 4-byte words from the arena start
    int64_t words(int batch) const { return batched ? elems * batch : elems; }
};

struct Instr {
    Op op;
    std::vector<int32_t> bufs;
    std::vector<int32_t> ints;
    std::vector<float> floats;
};

struct Program {
    int max_batch = 0;
    int64_t arena_words = 0;
    std::vector<BufferDesc> buffers;
    std::vector<Instr> forward, backward, step;
    // Well-known buffers (-1 when absent: an inference-only program has no labels/loss).
    // labels: int32 class indices [batch, 1]; targets: float regression targets [batch, elems].
    int32_t input = -1, labels = -1, logits = -1, probs = -1, loss = -1, correct = -1, targets = -1;
    int32_t classes = 0;   // what dataset labels index (0 = labels not read)
};

struct Status {
    nl_status code = NL_STATUS_OK;
    std::string message;
    bool ok() const { return code == NL_STATUS_OK; }
    static Status error(nl_status c, std::string m) { return Status{c, std::move(m)}; }
};

// Decodes and validates words[0..n). On failure returns the error and leaves `out` unspecified.
Status program_decode(const int32_t * words, size_t n, Program & out);

} // namespace nl
