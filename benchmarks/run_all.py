#!/usr/bin/env python
"""Run every benchmark script, each in its own process, and say which failed.

CI runs ``python benchmarks/run_all.py --quick``: each ``bench_*.py`` with its ``--quick`` flag
(small cases, one repeat), so the scripts never rot. There are no thresholds here: a benchmark
prints ratios against a baseline measured in the same process, and this runner only checks that
each one runs to the end (exit code 0). Without ``--quick`` the full benchmarks run (long).

Usage::

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--timeout SECONDS]
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

EXTRA_QUICK_ARGS = {
    # the before/after comparison in CI: this checkout against itself (HEAD), one repeat
    "bench_before_after.py": ["--repeat", "1"],
}


def scripts(only: list[str] | None) -> list[str]:
    """The benchmark scripts, sorted; ``only``: names (with or without ``bench_`` and ``.py``)."""
    found = sorted(glob.glob(os.path.join(HERE, "bench_*.py")))
    if not only:
        return found
    want = {o.removeprefix("bench_").removesuffix(".py") for o in only}
    chosen = [f for f in found if os.path.basename(f)[len("bench_"):-3] in want]
    missing = want - {os.path.basename(f)[len("bench_"):-3] for f in chosen}
    if missing:
        raise SystemExit(f"no benchmark named {sorted(missing)}; there are "
                         f"{[os.path.basename(f) for f in found]}")
    return chosen


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each benchmark's --quick mode (CI)")
    ap.add_argument("--only", nargs="+", default=None, help="run only these benchmarks")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per benchmark before it counts as failed (default: 600 with --quick, none without)")
    args = ap.parse_args()
    timeout = args.timeout if args.timeout is not None else (600.0 if args.quick else None)
    env = {**os.environ, "MPLBACKEND": "Agg"}
    failed, times = [], {}
    for path in scripts(args.only):
        name = os.path.basename(path)
        cmd = [sys.executable, path] + (["--quick", *EXTRA_QUICK_ARGS.get(name, [])] if args.quick else [])
        print(f"\n===== {name} {' '.join(cmd[2:])}", flush=True)
        start = time.perf_counter()
        try:
            rc = subprocess.run(cmd, cwd=os.path.dirname(HERE), env=env, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        times[name] = time.perf_counter() - start
        if rc != 0:
            failed.append(f"{name} ({'timed out after %.0f s' % timeout if rc == 'timeout' else f'exit {rc}'})")
    print("\n===== benchmarks: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    if failed:
        print("FAILED: " + "; ".join(failed))
        return 1
    print(f"all {len(times)} ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
