#include "status.h"

const char * nl_status_code(nl_status s) {
    switch (s) {
        case NL_STATUS_OK: return "NL_OK";
        case NL_STATUS_INVALID_ARGUMENT: return "NL_INVALID_ARGUMENT";
        case NL_STATUS_INVALID_PROGRAM: return "NL_INVALID_PROGRAM";
        case NL_STATUS_SHAPE_MISMATCH: return "NL_SHAPE_MISMATCH";
        case NL_STATUS_BAD_LABEL: return "NL_BAD_LABEL";
        case NL_STATUS_OUT_OF_MEMORY: return "NL_OOM";
        case NL_STATUS_NON_FINITE: return "NL_NON_FINITE";
        case NL_STATUS_STOPPED: return "NL_STOPPED";
        case NL_STATUS_INTERNAL: return "NL_INTERNAL";
        case NL_STATUS_COUNT: break;
    }
    return "NL_UNKNOWN";
}
