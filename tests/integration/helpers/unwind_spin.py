# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for unwinding CPython (test_profile_unwind_python.sh): a known Python
# function, spin_hot, burns the CPU calling time.time() until the deadline (seconds in
# argv[1]); the pid is printed first.
import os
import sys
import time


def spin_hot(deadline):
    n = 0
    while time.time() < deadline:
        n += 1
    return n


print(os.getpid(), flush=True)
spin_hot(time.time() + float(sys.argv[1]))
