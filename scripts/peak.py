#!/usr/bin/env python3
"""Runs a command and prints its peak resident memory and wall time: `peak_mb seconds`.

The peak is of the whole process tree (the command and every descendant, summed), sampled
from /proc every 20 ms: Compressor's CLI does its video work in a child process, which GNU
time's maximum (one process's) would not add up. The command's own output goes to /dev/null
unless PEAK_OUTPUT names a file."""
import os
import subprocess
import sys
import time


def resident_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as listed:
                found += [int(c) for c in listed.read().split()]
    except OSError:
        pass
    return found


def tree(pid):
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def main():
    sink = open(os.environ.get("PEAK_OUTPUT", os.devnull), "w")
    started = time.monotonic()
    process = subprocess.Popen(sys.argv[1:], stdout=sink, stderr=sink)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(resident_kb(p) for p in tree(process.pid)))
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        sys.exit(f"{sys.argv[1]} failed with status {process.returncode}")
    print(f"{peak / 1024:.0f} {elapsed:.1f}")


main()
