// The shape grammar of test/native-cuda/op-cases.h, parsed once for every program that reads the
// table (the parity program on a GPU, the emulations on the CPU), so they agree on what a row means.
//
//   "n=3 k=3x2 pad=2,1,0,3 kind=GELU bias"  ->  n: {3}, k: {3, 2}, pad: {2, 1, 0, 3}, kind: {GELU}, bias: {}
//
// A value splits at ',' and, when it is made of digits and 'x' only ("3x2"), at 'x'. In the cuda-ops
// block a comma list means one case per value ("step=1,3,1000": three cases); in the GEMM block
// (linear, conv2d, conv_transpose2d) it is one tuple (pad=top,bottom,left,right): expand() knows which.
#pragma once
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include "op-cases.h"

namespace opcase {

struct Shape {
    std::map<std::string, std::vector<std::string>> kv;   // a flag maps to an empty list
    std::vector<std::string> words;                      // as written (expand() puts the case's value in)

    bool has(const std::string & key) const { return kv.count(key) != 0; }
    // The idx-th number of `key`'s value; `dflt` when the key or that position is absent.
    double num(const std::string & key, size_t idx = 0, double dflt = 0) const {
        auto it = kv.find(key);
        return it == kv.end() || it->second.size() <= idx ? dflt : std::strtod(it->second[idx].c_str(), nullptr);
    }
    int i(const std::string & key, size_t idx = 0, int dflt = 0) const { return (int)num(key, idx, dflt); }
    std::string str(const std::string & key, const std::string & dflt = "") const {
        auto it = kv.find(key);
        return it == kv.end() || it->second.empty() ? dflt : it->second[0];
    }
    // The shape as written (after expand(): the case's one value of each list), for the report lines.
    std::string text() const;
};

inline bool all_digits_and_x(const std::string & v) {
    if (v.empty()) return false;
    for (char ch : v)
        if (ch != 'x' && (ch < '0' || ch > '9')) return false;
    return true;
}

inline std::vector<std::string> split(const std::string & v, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : v + sep) {
        if (ch == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += ch;
        }
    }
    return out;
}

inline Shape parse_shape(const std::string & shape) {
    Shape s;
    std::istringstream words(shape);
    std::string wd;
    while (words >> wd) {
        s.words.push_back(wd);
        const size_t eq = wd.find('=');
        if (eq == std::string::npos) {
            s.kv[wd] = {};
            continue;
        }
        std::vector<std::string> vals;
        for (const std::string & part : split(wd.substr(eq + 1), ','))
            for (const std::string & v : all_digits_and_x(part) ? split(part, 'x') : std::vector<std::string>{part}) vals.push_back(v);
        s.kv[wd.substr(0, eq)] = vals;
    }
    return s;
}

inline std::string Shape::text() const {
    std::string out;
    for (const std::string & wd : words) out += (out.empty() ? "" : " ") + wd;
    return out;
}

// linear, conv2d, conv_transpose2d: the GEMM block, whose comma lists are tuples.
inline bool is_gemm_op(const std::string & op) { return op == "linear" || op == "conv2d" || op == "conv_transpose2d"; }

// Keys of the cuda-ops block whose comma list means one case per value (the block's header; a
// pool's pad=1x1 is a pair, not a list).
inline bool is_case_list(const std::string & key) {
    return key == "step" || key == "lr_override" || key == "first" || key == "grad_inf_at" || key == "beta1_override";
}

// One Shape per case of the row: the cartesian product of its case lists.
inline std::vector<Shape> expand(const OpCase & row) {
    std::vector<Shape> out{parse_shape(row.shape)};
    if (is_gemm_op(row.op)) return out;
    const Shape base = out[0];
    for (const auto & [key, vals] : base.kv) {
        if (!is_case_list(key) || vals.size() < 2) continue;
        std::vector<Shape> next;
        for (const Shape & s : out)
            for (const std::string & v : vals) {
                Shape t = s;
                t.kv[key] = {v};
                for (std::string & wd : t.words)
                    if (wd.rfind(key + "=", 0) == 0) wd = key + "=" + v;
                next.push_back(t);
            }
        out = next;
    }
    return out;
}

} // namespace opcase
