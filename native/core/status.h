// nl_status: every fallible native call returns one of these; nothing in core/ aborts the host.
// The names travel unchanged to JavaScript as error codes (NL_ + name).
#pragma once

typedef enum nl_status {
    NL_STATUS_OK = 0,
    NL_STATUS_INVALID_ARGUMENT,   // a caller passed something malformed (null, negative size, ...)
    NL_STATUS_INVALID_PROGRAM,    // the Program failed validation (message names the instruction)
    NL_STATUS_SHAPE_MISMATCH,     // buffer sizes do not agree with an instruction's attributes
    NL_STATUS_BAD_LABEL,          // a class label outside [0, classes)
    NL_STATUS_OUT_OF_MEMORY,      // an allocation failed, or would not fit the memory available (message: the buffer, its size)
    NL_STATUS_NON_FINITE,         // loss became NaN or infinite
    NL_STATUS_STOPPED,            // a run was stopped on request (not an error for the user)
    NL_STATUS_INTERNAL,           // a bug: an invariant we check failed
    NL_STATUS_COUNT
} nl_status;

#ifdef __cplusplus
extern "C" {
#endif
// "NL_INVALID_PROGRAM", ... : the stable code shared by native, engine and api.
const char * nl_status_code(nl_status s);
#ifdef __cplusplus
}
#endif
