# SPDX-License-Identifier: GPL-2.0-only
# Ground truth for CPython interpreter frames (test_profile_python_frames.sh): main calls
# outer, outer calls hot, hot does arithmetic in a loop until the deadline (seconds in
# argv[1]). Nothing but Python code runs under hot; the pid is printed first. With "sleep" as
# argv[2], hot sleeps instead (time.sleep, 5 ms at a time): the off-CPU ground truth. With
# "thread", outer runs in a second thread and main waits for it in Thread.join, 5 ms at a
# time (blocked without the GIL: its frames are found in the interpreter's thread list).
import os
import sys
import threading
import time


def hot(deadline):
    n = 0
    if len(sys.argv) > 2 and sys.argv[2] == "sleep":
        while time.monotonic() < deadline:
            time.sleep(0.005)
            n += 1
        return n
    while True:
        for i in range(20000):
            n = (n * 31 + i) % 1000003
        if time.monotonic() >= deadline:
            return n


def outer(deadline):
    return hot(deadline)


def main():
    print(os.getpid(), flush=True)
    deadline = time.monotonic() + float(sys.argv[1])
    if len(sys.argv) > 2 and sys.argv[2] == "thread":
        t = threading.Thread(target=outer, args=(deadline,))
        t.start()
        while t.is_alive():
            t.join(0.005)
        return
    outer(deadline)


main()
