"""Offset placement of rectangles (bytes x steps) in one arena.

This is dynamic storage allocation: each block has a size and a closed live
range of steps; blocks live at the same step must get disjoint byte ranges;
the arena is the highest end. Two families of placements live here:

- `greedy`: visit the blocks in one order and put each at the lowest offset
  (first fit, TFLite Micro's rule) or in the tightest gap (best fit) among
  the blocks already placed that are live at the same time.
- `search`: branch and bound over placement orders, exact when it finishes
  within its node budget.

Why the search may fix offsets by a rule instead of branching on them: take
an optimal placement and visit its blocks by increasing offset; first fit in
that order puts every block at or below its optimal offset (by induction,
everything placed before it still ends below it), so it is optimal too.
Repeating the argument on the new placement until nothing moves gives an
optimal placement whose first-fit offsets never decrease along the order.
Hence it suffices to enumerate orders in which every block goes to the
lowest free offset at or above the previous block's offset; with all placed
blocks at or below that offset, this is `max(previous offset, highest end
placed over the block's lifetime)` (the "skyline"), with no gap search.
Blocks at the same offset cannot overlap in time, so their relative order is
irrelevant: they are taken in index order, which removes permutations.
The same monotonicity gives the bound that prunes the search: every block
still to place sits above the current offset `o`, so at every step `t` the
arena needs at least `max(o, skyline[t]) + (bytes still to place live at t)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Block:
    """A rectangle to place: `size` bytes live from step `first` to `last`."""

    size: int
    first: int
    last: int

    def meets(self, other: Block) -> bool:
        """Live at a common step."""
        return self.first <= other.last and other.first <= self.last


# Visiting orders of the greedy placements; remaining ties go to the lower
# index. TFLite Micro's GreedyMemoryPlanner is "size" with first fit: largest
# first, equal sizes latest tensor first (it lists buffers from the tail, then
# sorts stably).
ORDERS: dict[str, Callable[[Block], tuple[int, ...]]] = {
    "size": lambda b: (-b.size, -b.first),
    "size, earliest first": lambda b: (-b.size, b.first),
    "first-use": lambda b: (b.first, -b.size),
    "size*lifetime": lambda b: (-b.size * (b.last - b.first + 1), b.first),
    "lifetime": lambda b: (b.first - b.last, -b.size),
}
FITS = ("first-fit", "best-fit")


def arena_of(blocks: Sequence[Block], offsets: Sequence[int]) -> int:
    return max((o + b.size for b, o in zip(blocks, offsets, strict=True)), default=0)


def greedy(blocks: Sequence[Block], order: str, fit: str) -> list[int]:
    """Offsets from visiting `blocks` in `order` and placing each by `fit`."""
    key = ORDERS[order]
    visit = sorted(range(len(blocks)), key=lambda i: (key(blocks[i]), i))
    offsets: list[int | None] = [None] * len(blocks)
    for i in visit:
        block = blocks[i]
        taken = sorted(
            (o, o + blocks[j].size)
            for j, o in enumerate(offsets)
            if o is not None and blocks[j].meets(block)
        )
        offsets[i] = _fit(block.size, taken, best=fit == "best-fit")
    return offsets


def _fit(size: int, taken: Sequence[tuple[int, int]], best: bool) -> int:
    """The lowest (or, if `best`, the tightest) gap of `size` bytes between the
    sorted byte ranges `taken`; the space above them all is the last resort."""
    chosen: tuple[int, int] | None = None  # (gap length, offset)
    cursor = 0
    for begin, end in taken:
        gap = begin - cursor
        if gap >= size:
            if not best:
                return cursor
            if chosen is None or gap < chosen[0]:
                chosen = (gap, cursor)
        cursor = max(cursor, end)
    return cursor if chosen is None else chosen[1]


@dataclass(frozen=True)
class SearchResult:
    offsets: list[int] | None  # None: nothing below the incumbent was found
    complete: bool  # the best is optimal: tree explored or floor reached


def search(
    blocks: Sequence[Block], incumbent: int, floor: int, budget: int
) -> SearchResult:
    """Offsets with an arena below `incumbent`, by branch and bound.

    Stops at the first placement reaching `floor` (a lower bound) or after
    `budget` nodes. Blocks are tried largest first, so the first descent is a
    greedy "fill the lowest level with the largest block that fits".
    """
    return _Search(blocks, incumbent, floor, budget).run()


class _Search:
    def __init__(
        self, blocks: Sequence[Block], incumbent: int, floor: int, budget: int
    ) -> None:
        # Index order = size descending: the tie rule then also means "larger
        # first at equal offset", which keeps the first descent greedy.
        self.order = sorted(
            range(len(blocks)), key=lambda i: (-blocks[i].size, blocks[i].first, i)
        )
        self.blocks = [blocks[i] for i in self.order]
        self.best = incumbent
        self.floor = floor
        self.budget = budget
        self.nodes = 0
        steps = max((b.last for b in blocks), default=-1) + 1
        self.skyline = np.zeros(steps, np.int64)
        self.pending = np.zeros(steps, np.int64)  # bytes not yet placed, per step
        for b in self.blocks:
            self.pending[b.first : b.last + 1] += b.size
        self.offsets: list[int | None] = [None] * len(self.blocks)
        self.found: list[int] | None = None

    def run(self) -> SearchResult:
        stopped = self._descend(0, -1, len(self.blocks))
        offsets = None
        if self.found is not None:
            offsets = [0] * len(self.blocks)
            for position, original in enumerate(self.order):
                offsets[original] = self.found[position]
        at_floor = self.found is not None and self.best <= self.floor
        return SearchResult(offsets, at_floor or not stopped)

    def _descend(self, level: int, previous: int, left: int) -> bool:
        """Place the remaining blocks at offsets >= `level`; True when the
        search must stop (budget spent or floor reached)."""
        if left == 0:
            self.best = int(self.skyline.max(initial=0))
            self.found = list(self.offsets)
            return self.best <= self.floor
        for offset, index in self._candidates(level, previous):
            block = self.blocks[index]
            if offset + block.size >= self.best:
                continue
            self.nodes += 1
            if self.nodes > self.budget:
                return True
            span = slice(block.first, block.last + 1)
            saved = self.skyline[span].copy()
            self.skyline[span] = offset + block.size
            self.pending[span] -= block.size
            self.offsets[index] = offset
            bound = int((np.maximum(self.skyline, offset) + self.pending).max())
            stop = bound < self.best and self._descend(offset, index, left - 1)
            self.offsets[index] = None
            self.pending[span] += block.size
            self.skyline[span] = saved
            if stop:
                return True
        return False

    def _candidates(self, level: int, previous: int) -> list[tuple[int, int]]:
        """(offset, index) of every block that may come next, lowest first."""
        result = []
        for index, block in enumerate(self.blocks):
            if self.offsets[index] is not None:
                continue
            offset = max(level, int(self.skyline[block.first : block.last + 1].max()))
            # Equal offsets go in index order (see the module docstring).
            if offset == level and index < previous:
                continue
            result.append((offset, index))
        result.sort()
        return result
