#!/usr/bin/env python3
"""How long fdatasync takes on this disk: 2 KB writes into a preallocated file, each followed by
fdatasync (what a database worker's group commit does), for a few seconds. Run it before and
after a load run: if its maximum is tens of milliseconds, so will the load run's p99 be.

    python3 crates/todo/load/disk_check.py [directory] [seconds]
"""
import os
import sys
import time

directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
path = os.path.join(directory, "todo-disk-check.bin")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
try:
    os.posix_fallocate(fd, 0, 64 << 20)
    os.fsync(fd)
    times, offset = [], 0
    end = time.time() + seconds
    while time.time() < end and offset < (64 << 20) - 2000:
        os.pwrite(fd, b"x" * 2000, offset)
        offset += 2000
        t = time.perf_counter()
        os.fdatasync(fd)
        times.append(time.perf_counter() - t)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
n = len(times)
ms = lambda q: times[min(n - 1, int(n * q))] * 1e3
print(f"fdatasync x{n}: p50 {ms(0.5):.2f} ms, p99 {ms(0.99):.2f} ms, "
      f"p99.9 {ms(0.999):.2f} ms, max {times[-1] * 1e3:.2f} ms")
