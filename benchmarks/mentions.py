"""How long reading one comment's mentions and commands takes, for the worst comments.

GitHub caps a comment at 65,536 characters. Each shape below fills that (or comes close)
with what could make a markdown parser slow — hundreds of mentions, one long paragraph,
runs of unmatched brackets, backticks, emphasis or "<", deep quotes, thousands of open
HTML tags, a long table — and `read_commands` (what mention-reply runs per comment) is
timed on it. Prints the median and worst time per shape and how many mentions it found.

    python -m benchmarks.mentions [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from benchmarks._common import machine
from ghapp.skills.mention_reply.mentions import find_mentions, read_commands

LIMIT = 65536
SLUG = "bench"


def _fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


SHAPES: dict[str, Callable[[int], str]] = {
    "500 command lines": lambda n: _fill("@bench label add bug\n", n),
    "mentions in one paragraph": lambda n: _fill("thanks @bench and @bench, ", n),
    "prose, no mention": lambda n: _fill("The quick brown fox jumps over the dog. ", n),
    "list of mentions": lambda n: _fill("- @bench label add x\n  > quoted @bench\n", n),
    "unmatched [": lambda n: _fill("[", n - 20) + " @bench help",
    "unmatched `": lambda n: _fill("` x ", n - 20) + " @bench help",
    "emphasis runs": lambda n: _fill("*a **b _c ", n - 20) + " @bench help",
    "unmatched <": lambda n: _fill("< a <b ", n - 20) + " @bench help",
    "open HTML tags": lambda n: _fill("<span><code>", n - 20) + " @bench help",
    "closing tags": lambda n: _fill("</span></b>", n - 20) + " @bench help",
    "deep quotes": lambda n: _fill("> ", n // 2) + "@bench\n" + _fill("@bench hi\n", n // 2),
    "nested lists": lambda n: "".join(f"{'  ' * (i % 40)}- @bench\n" for i in range(n // 50)),
    "long table": lambda n: "| a | b |\n| - | - |\n" + _fill("| @bench x | `y` |\n", n),
    "entities": lambda n: _fill("&amp;&#64;bench &lt; ", n),
    "HTML comments": lambda n: _fill("<!-- @bench --> @bench ", n),
    "bare URLs": lambda n: _fill("https://example.com/@bench www.x.org @bench ", n),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="4 KiB comments, one round")
    args = parser.parse_args()
    size = 4096 if args.quick else LIMIT
    rounds = 1 if args.quick else args.rounds
    print(f"machine: {machine()}")
    print(f"comment size: {size} characters, {rounds} round(s) each, read_commands")
    print(f"{'shape':<28} {'median ms':>10} {'worst ms':>10} {'mentions':>9}")
    for name, make in SHAPES.items():
        comment = make(size)[:LIMIT]
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            read_commands(comment, SLUG)
            times.append((time.perf_counter() - started) * 1000)
        found = len(find_mentions(comment, SLUG))
        print(f"{name:<28} {statistics.median(times):>10.1f} {max(times):>10.1f} {found:>9}")


if __name__ == "__main__":
    main()
