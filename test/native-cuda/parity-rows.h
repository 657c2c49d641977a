// Every row of test/native-cuda/op-cases.h as a small Program run through the Backend interface
// (parity-rows.cpp): the same instructions on the CPU backend and on the CUDA backend, compared with
// the row's own tolerances.
#pragma once
#include <map>
#include <string>
#include <vector>
#include "backend.h"
#include "op-case-parse.h"
#include "program-builder.h"

namespace parity {

// What a buffer holds after the case ran, for the comparison.
enum class Role { Input, Forward, Backward };

// One case of a row (a row with case lists has several): its program, its buffers' initial contents
// and roles, the step values it runs with, and the tolerances.
struct RowCase {
    std::string label;                          // "op [shape]"
    ProgramBuilder b;
    std::vector<Role> role;                     // per buffer id
    std::vector<bool> is_int;                   // per buffer id: compared exactly
    std::vector<std::vector<float>> init;       // per buffer id, whole batch (raw words for ints)
    double fwd_tol = 0, bwd_tol = -1;           // -1: that direction does not exist
    bool tf32 = true;                           // which CUDA backend (GEMM rows: mode=)
    bool check_mode = false;                    // optimizer rows run through check_step, nothing written
    nl::StepState s;
    std::string skip;                           // non-empty: cannot be run through the Backend interface (why)
};

// Builds the cases of one table row; false with `why` when the row does not parse into a valid shape.
bool build_row(const OpCase & row, std::vector<RowCase> & out, std::string & why);

// Runs every row on `cpu` and, when given, on the CUDA backends (tf32 / exact fp32); one line per case
// through nltest::check. Returns the number of failed cases.
int run_table(nl::Backend & cpu, nl::Backend * cuda_tf32, nl::Backend * cuda_fp32);

// The comparison's own check (no GPU): it passes the CPU's buffers against themselves and fails them
// with one float 1e-5 off (softmax, tolerance 1e-6) or one int index off by one (max_pool2d, exact).
bool comparison_catches_errors();

} // namespace parity
