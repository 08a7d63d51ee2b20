"""Everything the channel simulators share: calendar, population, state, schedule, usage and delivery."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cx_warehouse.generator.catalog import Catalog
from cx_warehouse.generator.clock import Clock
from cx_warehouse.generator.delivery import Delivery
from cx_warehouse.generator.population import Population
from cx_warehouse.generator.state import Schedule, State, Usage

if TYPE_CHECKING:
    from cx_warehouse.generator.crm import CrmRecords


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent random stream per purpose, so one channel's draws never shift another's."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))


@dataclass
class World:
    seed: int
    clock: Clock
    pop: Population
    catalog: Catalog
    crm: CrmRecords
    state: State
    schedule: Schedule
    usage: Usage
    delivery: Delivery
    _rngs: dict[str, np.random.Generator] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def rng(self, name: str) -> np.random.Generator:
        """The random stream of a channel (created on first use)."""
        if name not in self._rngs:
            self._rngs[name] = stream(self.seed, name)
        return self._rngs[name]

    def ids(self, prefix: str, n: int, width: int) -> list[str]:
        """``n`` new sequential identifiers such as ``WO00001234`` (``prefix`` + zero-padded number)."""
        if n == 0:
            return []
        first = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = first + n - 1
        numbers = np.arange(first, first + n).astype("U")
        return np.strings.add(prefix, np.strings.zfill(numbers, width)).tolist()
