// The op table (op-table.h) and the Checker the ops' validations are written with (op-check.h).
#include "op-table.h"
#include <cstdarg>
#include <cstdio>
#include "kernels.h"
#include "op-check.h"

namespace nl {

namespace {
// Names in a stringified ops.def list: "" is none, else one more than its commas.
constexpr int count_names(const char * s) {
    bool any = false;
    int commas = 0;
    for (; *s; s++) {
        if (*s == ',') commas++;
        else if (*s != ' ') any = true;
    }
    return any ? commas + 1 : 0;
}
#define NL_STR(...) #__VA_ARGS__
template <class O> void check_entry(Checker & c, const Instr & in) { check_op<O>(c, OperandsOf<O>{in}); }

const OpInfo OP_TABLE[] = {
#define NL_OP(e, name, operands, ints, floats) \
    {name, count_names(NL_STR operands), count_names(NL_STR ints), count_names(NL_STR floats), NL_STR operands, NL_STR ints, NL_STR floats, &check_entry<op::e>},
#include "ops.def"
#undef NL_OP
};
#undef NL_STR
static_assert(sizeof(OP_TABLE) / sizeof(OP_TABLE[0]) == (size_t)Op::COUNT, "ops.def and Op disagree");
static_assert((int)Op::COUNT == 41, "update engine/compile/ops.ts and this count together");
} // namespace

const OpInfo & op_info(Op op) { return OP_TABLE[(int)op]; }
int op_count() { return (int)Op::COUNT; }

std::string op_list_name(const char * list, int k) {
    std::string s(list);
    size_t at = 0;
    for (int j = 0; j < k && at != std::string::npos; j++) {
        at = s.find(',', at);
        if (at != std::string::npos) at++;
    }
    if (at == std::string::npos) return "?";
    size_t end = s.find(',', at);
    std::string name = s.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const size_t first = name.find_first_not_of(' '), last = name.find_last_not_of(' ');
    return first == std::string::npos ? "?" : name.substr(first, last - first + 1);
}

std::string fmt_str(const char * f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

bool Checker::fail(const std::string & m) {
    if (st_.ok()) st_ = Status::error(NL_STATUS_SHAPE_MISMATCH, where_ + ": " + m);
    return false;
}

bool Checker::invalid(const std::string & m) {
    if (st_.ok()) st_ = Status::error(NL_STATUS_INVALID_PROGRAM, where_ + ": " + m);
    return false;
}

bool Checker::buf(int32_t b, const char * role, DType dt, Rows rows, int64_t elems, Presence presence) {
    if (!st_.ok()) return false;
    const bool batched = rows == BATCHED;
    if (b == -1) return presence == OPTIONAL ? true : fail(fmt_str("operand '%s' is required but absent", role));
    if (b < 0 || b >= (int32_t)p_.buffers.size())
        return invalid(fmt_str("operand '%s' names buffer %d, but the program has %zu buffers", role, b, p_.buffers.size()));
    const BufferDesc & d = p_.buffers[b];
    if (d.dtype != dt) return fail(fmt_str("operand '%s' (buffer %d) must be %s", role, b, dt == DType::F32 ? "float32" : "int32"));
    if (d.batched != batched)
        return fail(fmt_str("operand '%s' (buffer %d) must be %s", role, b, batched ? "per-sample (batched)" : "a fixed-size buffer"));
    if (d.elems != elems)
        return fail(fmt_str("operand '%s' (buffer %d) holds %lld values%s, expected %lld", role, b, (long long)d.elems,
                            batched ? " per sample" : "", (long long)elems));
    return true;
}

bool Checker::positive(int64_t v, const char * what) {
    return v > 0 ? true : invalid(fmt_str("%s must be positive, got %lld", what, (long long)v));
}

bool Checker::flag(int32_t v, const char * what) {
    return v == 0 || v == 1 ? true : invalid(fmt_str("%s must be 0 or 1, got %d", what, v));
}

bool Checker::finite(float v, const char * what) {
    return std::isfinite(v) ? true : invalid(fmt_str("%s is not a finite number", what));
}

bool Checker::reduction(int32_t v) {
    return v >= 0 && v < REDUCTION_COUNT ? true : fail(fmt_str("reduction %d is not 0 (mean) or 1 (sum)", v));
}

int64_t Checker::elems_of(int32_t id) const { return id >= 0 && id < (int32_t)p_.buffers.size() ? p_.buffers[id].elems : -1; }

} // namespace nl
