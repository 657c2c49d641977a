// The op table: for every opcode of ops.def, its name, its operand and attribute counts and
// names, and the function that validates an instruction of it (beside its CPU kernel, in
// native/core/ops/<family>.cpp). program_decode() checks each instruction through this table;
// a backend runs it through its own kernel table (backend.h), indexed by the same opcode.
//
// Named positions. For each op, op::<ENUM> holds three enums generated from its ops.def row:
//   op::LINEAR_FORWARD::Buf   { x, weight, bias, y }           operand positions
//   op::LINEAR_FORWARD::Int   { in_features, out_features }    int attribute positions
//   op::LINEAR_FORWARD::Float { }                              float attribute positions
// so a check or a kernel reads `a.f32(O::weight)`, never `bufs[1]`. The accessors (OperandsOf)
// take only the matching enum, so an int attribute's name cannot index the operands.
#pragma once
#include <cstddef>
#include <string>
#include "program.h"

namespace nl {

#define NL_UNPAREN(...) __VA_ARGS__
namespace op {
#define NL_OP(e, name, operands, ints, floats)            \
    struct e {                                            \
        enum Buf : int { NL_UNPAREN operands };           \
        enum Int : int { NL_UNPAREN ints };               \
        enum Float : int { NL_UNPAREN floats };           \
        static constexpr Op code = Op::e;                 \
    };
#include "ops.def"
#undef NL_OP
} // namespace op
#undef NL_UNPAREN

// Typed, named access to one instruction's operands and attributes (op O).
template <class O> struct OperandsOf {
    const Instr & in;
    int32_t id(typename O::Buf k) const { return in.bufs[k]; }          // buffer id, -1 when absent
    bool has(typename O::Buf k) const { return in.bufs[k] >= 0; }
    int32_t i(typename O::Int k) const { return in.ints[k]; }
    bool flag(typename O::Int k) const { return in.ints[k] != 0; }
    float f(typename O::Float k) const { return in.floats[k]; }
};

class Checker;
typedef void (*CheckFn)(Checker & c, const Instr & in);

struct OpInfo {
    const char * name;
    int n_buffers, n_ints, n_floats;   // the lengths of the lists below
    const char * operands;             // "x, weight, bias, y": the names, as ops.def lists them
    const char * int_attrs;
    const char * float_attrs;
    CheckFn check;                     // validates an instruction's operands and attributes
};
const OpInfo & op_info(Op op);
int op_count();

// The k-th name of a comma-separated list of OpInfo ("weight" for k = 1 of "x, weight, bias, y").
std::string op_list_name(const char * list, int k);

// Each op's check, defined beside its kernels in ops/<family>.cpp (a missing one fails to link).
template <class O> void check_op(Checker & c, const OperandsOf<O> & a);
#define NL_OP(e, name, operands, ints, floats) template <> void check_op<op::e>(Checker & c, const OperandsOf<op::e> & a);
#include "ops.def"
#undef NL_OP

} // namespace nl
