"""Run a command as a subprocess and measure it: wall time and the memory of its whole process tree.

Memory is sampled from ``/proc`` (Linux): every ``interval`` seconds a thread sums the resident set size
(RSS) of the child and all its descendants (e.g. ``cx-nightly`` and the ``dbt`` processes it starts). A
*sample* is that sum at one moment (``time.time()`` seconds, the clock Dagster stamps its events with).
Pages shared between processes count once per process, so the sum can overstate what the machine used; a
process that lives shorter than the interval can be missed. As a cross-check, ``ru_maxrss`` from
``os.wait4`` is the largest RSS any *single* process of the tree reached (kernel accounting, never missed,
but not a sum).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class MemorySample:
    """RSS in bytes summed over the process tree at ``t`` (epoch seconds)."""

    t: float
    rss: int


def _parent_map() -> dict[int, int]:
    """pid -> parent pid of every process visible in ``/proc``."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # exited meanwhile
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            parents[int(entry.name)] = int(fields[1])
    return parents


def tree_pids(root: int, parents: Mapping[int, int] | None = None) -> list[int]:
    """``root`` and all its descendants (those still alive)."""
    parents = _parent_map() if parents is None else parents
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def rss_bytes(pid: int) -> int:
    """Resident set size of one process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> int:
    """RSS in bytes summed over ``root`` and its descendants."""
    return sum(rss_bytes(pid) for pid in tree_pids(root))


class TreeSampler(threading.Thread):
    """Samples :func:`tree_rss` of ``root`` every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, root: int, interval: float = 0.25) -> None:
        super().__init__(name=f"rss-sampler-{root}", daemon=True)
        self.root = root
        self.interval = interval
        self.samples: list[MemorySample] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            self.samples.append(MemorySample(time.time(), tree_rss(self.root)))
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> list[MemorySample]:
        self._stop_event.set()
        self.join()
        return self.samples


@dataclass
class Measured:
    """One measured subprocess.

    ``wall_s``: seconds from start to exit (``time.perf_counter``); ``started_at`` / ``ended_at``: the same
    moments as epoch seconds; ``samples``: tree RSS samples; ``ru_maxrss``: largest RSS in bytes of any single
    process of the tree (``os.wait4``).
    """

    command: list[str]
    returncode: int
    wall_s: float
    started_at: float
    ended_at: float
    samples: list[MemorySample] = field(default_factory=list)
    ru_maxrss: int = 0
    log_path: Path | None = None

    @property
    def peak_rss(self) -> int:
        """Largest tree RSS sample in bytes (0 without samples)."""
        return max((s.rss for s in self.samples), default=0)

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def peak_in_windows(samples: Sequence[MemorySample], windows: Iterable[tuple[float, float]]) -> int | None:
    """Largest sample taken inside any of the ``(start, end)`` windows (epoch seconds).

    A window shorter than the sampling interval may hold no sample; it then counts the sample nearest to its
    middle. None when there are no samples or no windows.
    """
    if not samples:
        return None
    peak: int | None = None
    for start, end in windows:
        inside = [s.rss for s in samples if start <= s.t <= end]
        if inside:
            value = max(inside)
        else:
            middle = (start + end) / 2
            value = min(samples, key=lambda s: abs(s.t - middle)).rss
        peak = value if peak is None else max(peak, value)
    return peak


def run_measured(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path | None = None,
    interval: float = 0.25,
) -> Measured:
    """Run ``command`` with stdout and stderr to ``log_path``, sampling its tree's memory meanwhile."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        started_at = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(list(command), env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid, interval)
        sampler.start()
        try:
            # wait4 (not Popen.wait) for the child's resource usage: ru_maxrss of it and its reaped children.
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            sampler.stop()
            raise
        wall_s = time.perf_counter() - started
        ended_at = time.time()
        proc.returncode = os.waitstatus_to_exitcode(status)
        samples = sampler.stop()
    return Measured(
        command=list(command),
        returncode=proc.returncode,
        wall_s=wall_s,
        started_at=started_at,
        ended_at=ended_at,
        samples=samples,
        ru_maxrss=usage.ru_maxrss * 1024,  # Linux reports kilobytes
        log_path=log_path,
    )
