"""Kill -9 soak of the history: writers SIGKILLed at random instants while others write.

Run: ``python bench/bench_kill.py [--kills 200] [--writers 3] [--seed 1]``. Prints
``kills: N, messages acknowledged: M, lost: L, unreadable files: U`` and the time
taken; exits 1 when anything was lost or unreadable. The driver is
``tests/unit/storage/kill_soak.py`` (the test suite runs a short version of it):
several ``history_child soak`` writers share one history, appending to one shared
session and creating, filling, checkpointing, renaming, editing and deleting their
own; one chosen at random is killed after a random number of acknowledged
operations and replaced, until ``--kills`` kills; then every acknowledged message
must be stored (checkpoints at least as long as acknowledged, each writer's order
kept in the shared session), every file must parse, and opening must need no repair.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.storage.kill_soak import run_soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        result = run_soak(Path(tmp) / "history", args.kills, writers=args.writers, seed=args.seed)
        took = time.perf_counter() - began
    print(result.summary())
    print(f"  {args.writers} writers at a time, seed {args.seed}, {took:.1f} s")
    for line in result.lost[:10] + result.unreadable[:10] + result.notices[:10]:
        print(f"  {line}")
    sys.exit(1 if result.lost or result.unreadable or result.notices else 0)


if __name__ == "__main__":
    main()
