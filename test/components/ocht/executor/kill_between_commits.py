"""A stream worker that dies by SIGKILL right after its Nth SQL commit, before the
Kafka offsets of that batch are committed (the window exactly-once must cover).

Usage: python kill_between_commits.py PIPELINE HOME KILL_AT [DRAIN_SECONDS]
(KILL_AT 0: never killed.)
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from ocht.executor import Plan, Runner, RunRequest, RunServices
from ocht.observability import configure_logging

if __name__ == "__main__":
    configure_logging("json", "warning")
    pipeline, home, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    drain = float(sys.argv[4]) if len(sys.argv) > 4 else None
    calls = [0]

    def arm(plan: Plan) -> None:
        source: Any = next(s for s in plan.sources.values() if hasattr(s, "poll_batch"))
        commit = source.commit

        def commit_or_die(offsets: Any) -> None:
            calls[0] += 1
            if calls[0] == kill_at:  # the SQL transaction (rows, offsets, state) committed
                os.kill(os.getpid(), signal.SIGKILL)
            commit(offsets)

        source.commit = commit_or_die

    Runner(RunServices(home=home)).stream(RunRequest(pipeline, drain=drain), on_ready=arm)
