#include "CSystem.h"

#include <sys/prctl.h>
#include <sys/resource.h>

int kt_disable_dumping(void) {
    struct rlimit none = {0, 0};
    int a = setrlimit(RLIMIT_CORE, &none);
    int b = prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return (a == 0 && b == 0) ? 0 : -1;
}

int kt_is_dumpable(void) { return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0); }
