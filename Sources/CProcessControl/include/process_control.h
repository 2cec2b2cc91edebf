// prctl(2) is variadic in C, so Swift cannot call it: these wrappers give it fixed arguments.
#ifndef RINGTRAIN_PROCESS_CONTROL_H
#define RINGTRAIN_PROCESS_CONTROL_H

/// Asks the kernel to send `signal` to this process when its parent exits (Linux
/// PR_SET_PDEATHSIG); returns 0, or -1 with errno set (and -1 on other systems).
int ringtrain_set_parent_death_signal(int signal);

#endif
