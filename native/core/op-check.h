// Checker: the operand and attribute checks an op's validation is written with (ops/<family>.cpp).
// Everything a kernel will assume about its operands (dtype, batched or not, element counts) is
// checked once, when the Program is decoded; the first failure is kept, with a message that names
// the instruction, the operand and the sizes.
#pragma once
#include <cmath>
#include <string>
#include "op-table.h"

namespace nl {

std::string fmt_str(const char * f, ...) __attribute__((format(printf, 1, 2)));

constexpr DType F32 = DType::F32, I32 = DType::I32;
enum Rows : bool { FIXED = false, BATCHED = true };       // a buffer's `batched` flag, by name
enum Presence : bool { REQUIRED = false, OPTIONAL = true };

class Checker {
public:
    Checker(const Program & p, std::string where) : p_(p), where_(std::move(where)) {}
    const Status & status() const { return st_; }
    bool ok() const { return st_.ok(); }
    const Program & program() const { return p_; }

    bool fail(const std::string & m);                        // NL_STATUS_SHAPE_MISMATCH
    bool invalid(const std::string & m);                     // NL_STATUS_INVALID_PROGRAM
    // Buffer `id` must exist (or be -1 when optional) and match dtype / batched / elems; `role`
    // names it in the message.
    bool buf(int32_t id, const char * role, DType dt, Rows rows, int64_t elems, Presence presence = REQUIRED);
    bool positive(int64_t v, const char * what);
    bool flag(int32_t v, const char * what);
    bool finite(float v, const char * what);
    bool reduction(int32_t v);                               // a reduction.def code
    // elems of buffer id, or -1 when there is no such buffer (the operand check then reports it)
    int64_t elems_of(int32_t id) const;

    // The same checks on op O's named operands and attributes, named as ops.def names them.
    template <class O> bool buf(const OperandsOf<O> & a, typename O::Buf k, DType dt, Rows rows, int64_t elems,
                                Presence presence = REQUIRED) {
        if (!ok()) return false;
        return buf(a.id(k), op_list_name(op_info(O::code).operands, k).c_str(), dt, rows, elems, presence);
    }
    template <class O> bool positive(const OperandsOf<O> & a, typename O::Int k) {
        return positive(a.i(k), op_list_name(op_info(O::code).int_attrs, k).c_str());
    }
    template <class O> bool flag(const OperandsOf<O> & a, typename O::Int k) {
        return flag(a.i(k), op_list_name(op_info(O::code).int_attrs, k).c_str());
    }
    template <class O> bool finite(const OperandsOf<O> & a, typename O::Float k) {
        return finite(a.f(k), op_list_name(op_info(O::code).float_attrs, k).c_str());
    }

private:
    const Program & p_;
    std::string where_;
    Status st_;
};

} // namespace nl
