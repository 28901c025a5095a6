// Process hygiene for keyturn. prctl is variadic, which Swift cannot call.
#ifndef KEYTURN_CSYSTEM_H
#define KEYTURN_CSYSTEM_H

/// Marks the process not dumpable: no core file, and other processes of the same user can
/// neither ptrace it nor read its memory through /proc. Returns 0 or -1.
int kt_disable_dumping(void);

/// 1 if the process is dumpable, 0 if not, -1 on error.
int kt_is_dumpable(void);

#endif
