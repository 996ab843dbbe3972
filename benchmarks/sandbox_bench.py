"""Cost of the CPU/memory budget on code from diagrams: µs per evaluation, with the budget vs the
sandbox as it was before it (RestrictedPython alone, read from git history).

    .venv/bin/python benchmarks/sandbox_bench.py

Prints the median and lower quartile of 7 runs (the machine is shared: timings are noisy).
"""

from __future__ import annotations

import importlib.util
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from engine.sandbox import SandboxEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[1]
BEFORE = "4247b41"  # the last commit before the budget
CONDITION = "amount < 5000 and approved and channel in ('phone', 'web')"
SCRIPT = "score = sum([x * 2 for x in range(20)])\nlabel = 'ok' if score > 3 else 'low'\nitems.append(len(label))"
LOOP = "total = 0\ni = 0\nwhile i < 10000:\n    total += i\n    i += 1"


def _unbudgeted():
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{BEFORE}:engine/sandbox.py"], capture_output=True,
                            text=True, check=True).stdout
    path = pathlib.Path(tempfile.mkdtemp()) / "sandbox_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("sandbox_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["sandbox_before"] = module
    spec.loader.exec_module(module)
    return module.SandboxEnvironment()


def _runs(fn, n: int) -> list[float]:
    out = []
    for _ in range(7):
        began = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - began) / n * 1e6)
    return out


def main() -> None:
    old, new = _unbudgeted(), SandboxEnvironment()
    data = {"amount": 100, "approved": True, "channel": "web"}
    rows = [
        ("condition", lambda env: env.evaluate(CONDITION, dict(data)), 20000),
        ("script (20-item comprehension)", lambda env: env.execute(SCRIPT, {"items": []}), 5000),
        ("loop of 10,000 iterations", lambda env: env.execute(LOOP, {}), 20),
    ]
    print(f"{'evaluation':34} {'before µs (q1)':>18} {'with budget µs (q1)':>22} {'overhead µs':>12}")
    for name, fn, n in rows:
        a, b = _runs(lambda fn=fn: fn(old), n), _runs(lambda fn=fn: fn(new), n)
        med_a, med_b = statistics.median(a), statistics.median(b)
        print(f"{name:34} {med_a:9.1f} ({sorted(a)[1]:7.1f}) {med_b:11.1f} ({sorted(b)[1]:8.1f}) {med_b - med_a:12.1f}")


if __name__ == "__main__":
    main()
