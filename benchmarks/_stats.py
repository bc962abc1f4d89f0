"""Statistics and printing: percentiles, medians, ratios, the machine, CPU and RSS of a
process, aligned tables, the `--size`/`--quick` arguments."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def ratio(a: float, b: float) -> str:
    return "n/a" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}"


def machine() -> str:
    """`nproc`, the CPU model and the Python version: quoted beside every figure."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cpu, {model}, Python {platform.python_version()}"


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc/PID/status (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time a process has used so far (from /proc/PID/stat).

    CPU per delivery is the figure least disturbed by other jobs on a shared machine:
    wall-clock rates drop when the cores are busy elsewhere, CPU seconds per unit do not.
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def header(title: str, args: argparse.Namespace | None = None) -> None:
    print(f"== {title}")
    print(f"machine: {machine()}")
    if args is not None:
        shown = ", ".join(f"{k}={v}" for k, v in vars(args).items() if k != "child")
        print(f"settings: {shown}")


def table(rows: Sequence[Sequence[object]]) -> None:
    """Print rows as aligned columns (first row is the heading)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        print(
            "  "
            + "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def size_arg(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    parser.add_argument("--size", type=int, default=default, help=f"{what} (default {default})")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny run that only checks the script works"
    )
