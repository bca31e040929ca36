"""The static arena planner: one byte offset per buffer, the least arena.

A schedule is a list of steps (one op each); a `Buffer` is live from the step
that writes it to the last step that reads it, both included. Buffers live
at a common step need disjoint bytes, except an in-place pair: a buffer
with `alias_of = a` may take `a`'s offset when `a`'s last step is its first
(the op reads `a` element by element while writing the result over it).

The layer-by-layer lower bound is the most bytes live at one step, in-place
pairs counted once at the step they share. Sizes are rounded up to the
alignment before anything is counted, so the bound and the arena are in the
same units (both are figures of aligned buffers).

`plan` tries several greedy placements (TFLite Micro's "largest first, lowest
offset that fits" among them), then a branch and bound (`placement.search`)
seeded with the best of them, and stops as soon as a plan meets the lower
bound. In-place pairs are first all taken (each pair becomes one block: the
bound counts them that way); when the result misses the bound, taking none
and then toggling pairs one at a time are tried as well, keeping whatever
gives the smaller arena. Everything is deterministic: ties go to the order
of `buffers`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tinycc.memory import placement
from tinycc.memory.placement import Block

KINDS = ("input", "output", "activation", "scratch")

# Nodes of each exact search: at most ~0.3 s on 150 buffers (measured on
# random instances); the reference models reach their bound without it.
SEARCH_BUDGET = 20_000


@dataclass(frozen=True)
class Buffer:
    name: str
    size: int  # bytes
    first: int  # first step it is live (written)
    last: int  # last step it is live (read)
    kind: str  # "input" | "output" | "activation" | "scratch"
    # May take the offset of this buffer (in-place op) when that buffer's last
    # step is this buffer's first.
    alias_of: str | None = None

    def meets(self, other: Buffer) -> bool:
        """Live at a common step."""
        return self.first <= other.last and other.first <= self.last


@dataclass(frozen=True)
class Plan:
    offsets: dict[str, int]
    arena_bytes: int
    lower_bound_bytes: int
    peak_step: int
    live_at_peak: tuple[str, ...]
    strategy: str  # which ordering / search produced it


class PlanError(ValueError):
    """A malformed buffer list, or a plan that breaks an invariant."""


def lower_bound(
    buffers: Sequence[Buffer], alignment: int = 16
) -> tuple[int, int, tuple[str, ...]]:
    """(bytes, step, names live there): the most bytes live at one step.

    Sizes are rounded up to `alignment`; an in-place pair counts once (its
    larger member) at the step it shares. The first step with the most bytes
    is reported.
    """
    _validate(buffers, alignment)
    if not buffers:
        return 0, 0, ()
    live = _profile(
        Block(_aligned(b.size, alignment), b.first, b.last) for b in buffers
    )
    for target, buffer in in_place_pairs(buffers):
        shared = min(_aligned(target.size, alignment), _aligned(buffer.size, alignment))
        live[buffer.first] -= shared
    peak = max(live)
    step = live.index(peak)
    names = tuple(b.name for b in buffers if b.first <= step <= b.last)
    return peak, step, names


def in_place_pairs(buffers: Sequence[Buffer]) -> list[tuple[Buffer, Buffer]]:
    """The (target, buffer) pairs that may share an offset, all at once.

    A pair is legal when `buffer.alias_of` names `target` and `target` dies at
    `buffer`'s first step. Two buffers born at that step cannot both take
    `target`'s bytes (they are live together), so each target keeps the pair
    that saves the most; and a chain a -> b -> c is kept only when `b` lives
    more than one step (otherwise `a` and `c` would share bytes at that step).
    """
    candidates = sorted(
        _legal_pairs(buffers), key=lambda pair: -min(pair[0].size, pair[1].size)
    )
    taken_targets: set[str] = set()
    pairs: list[tuple[Buffer, Buffer]] = []
    for target, buffer in candidates:
        if target.name in taken_targets:
            continue
        pairs.append((target, buffer))
        taken_targets.add(target.name)
    successors = {b.name for _, b in pairs}
    return [
        (t, b) for t, b in pairs if not (t.name in successors and t.first == t.last)
    ]


def plan(
    buffers: Sequence[Buffer], alignment: int = 16, budget: int = SEARCH_BUDGET
) -> Plan:
    """Offsets (multiples of `alignment`) for `buffers` in the least arena found.

    `budget` bounds the nodes of each exact search; the plan is the best of
    the greedy placements and the search, and meets the lower bound whenever
    the search finds a placement that does.
    """
    bound, step, names = lower_bound(buffers, alignment)
    pairs = in_place_pairs(buffers)
    best = _place(buffers, pairs, alignment, bound, budget)
    if best.arena > bound and pairs:
        best = _decide_in_place(buffers, pairs, best, alignment, bound, budget)
    return Plan(best.offsets, best.arena, bound, step, names, best.strategy)


def check_plan(buffers: Sequence[Buffer], plan: Plan) -> None:
    """Raise `PlanError` unless every buffer has an offset inside the arena and
    no two buffers live at a common step share a byte (in-place pairs at the
    same offset excepted)."""
    _validate(buffers, 1)
    missing = [b.name for b in buffers if b.name not in plan.offsets]
    if missing:
        raise PlanError(f"no offset for {', '.join(missing)}")
    for b in buffers:
        offset = plan.offsets[b.name]
        if offset < 0 or offset + b.size > plan.arena_bytes:
            raise PlanError(
                f"{b.name} at [{offset}, {offset + b.size}) is outside the arena "
                f"of {plan.arena_bytes} bytes"
            )
    in_place = {(t.name, b.name) for t, b in _legal_pairs(buffers)}
    ordered = sorted(buffers, key=lambda b: b.first)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.first > a.last:
                break
            if _share_bytes(a, b, plan.offsets) and not _in_place_ok(
                a, b, plan.offsets, in_place
            ):
                raise PlanError(
                    f"{a.name} and {b.name} are live at step "
                    f"{max(a.first, b.first)} and overlap at offsets "
                    f"{plan.offsets[a.name]} and {plan.offsets[b.name]}"
                )


# Choosing placements -----------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    offsets: dict[str, int]
    arena: int
    strategy: str

    def relabel(self, note: str) -> _Candidate:
        return _Candidate(self.offsets, self.arena, f"{self.strategy}, {note}")


def _place(
    buffers: Sequence[Buffer],
    pairs: Iterable[tuple[Buffer, Buffer]],
    alignment: int,
    bound: int,
    budget: int,
) -> _Candidate:
    """The best placement with `pairs` sharing their offsets: the greedy
    placements, then (with a `budget`) the search seeded with their best.

    A chain of in-place buffers becomes one block as large as its largest
    member for the chain's whole life. That is exact for equal sizes (all
    that `graph_buffers` proposes) and wastes the difference otherwise.
    """
    groups = _groups(buffers, pairs)
    blocks = [
        Block(max(_aligned(b.size, alignment) for b in g), g[0].first, g[-1].last)
        for g in groups
    ]
    tried = [
        (placement.greedy(blocks, order, fit), f"{fit}/{order}")
        for order in placement.ORDERS
        for fit in placement.FITS
    ]
    # min keeps the first of equals: deterministic.
    offsets, strategy = min(tried, key=lambda t: placement.arena_of(blocks, t[0]))
    arena = placement.arena_of(blocks, offsets)
    floor = max([bound, *_profile(blocks)])
    if arena > floor and budget > 0:
        found = placement.search(blocks, arena, floor, budget)
        if found.offsets is not None:
            offsets, strategy = found.offsets, "branch and bound"
            arena = placement.arena_of(blocks, offsets)
        if found.complete:
            strategy += " (proven optimal)"
    by_name = {b.name: o for g, o in zip(groups, offsets, strict=True) for b in g}
    return _Candidate(by_name, arena, strategy)


def _decide_in_place(
    buffers: Sequence[Buffer],
    pairs: list[tuple[Buffer, Buffer]],
    best: _Candidate,
    alignment: int,
    bound: int,
    budget: int,
) -> _Candidate:
    """Take none of the pairs, then toggle them one at a time (greedy
    placements only, to bound the work), keeping any smaller arena."""
    chosen = list(pairs)
    none = _place(buffers, [], alignment, bound, budget)
    if none.arena < best.arena:
        best, chosen = none.relabel("no in-place"), []
    for pair in pairs:
        trial = [p for p in chosen if p != pair] if pair in chosen else [*chosen, pair]
        result = _place(buffers, trial, alignment, bound, budget=0)
        if result.arena < best.arena:
            best = result.relabel(f"{len(trial)} of {len(pairs)} in-place pairs")
            chosen = trial
    return best


def _groups(
    buffers: Sequence[Buffer], pairs: Iterable[tuple[Buffer, Buffer]]
) -> list[list[Buffer]]:
    """Buffers joined by in-place pairs, each chain in time order."""
    after = {t.name: b for t, b in pairs}
    successors = {b.name for b in after.values()}
    groups = []
    for b in buffers:
        if b.name in successors:
            continue
        chain = [b]
        while chain[-1].name in after:
            chain.append(after[chain[-1].name])
        groups.append(chain)
    return groups


def _profile(blocks: Iterable[Block]) -> list[int]:
    """Bytes live at each step."""
    live: list[int] = []
    for b in blocks:
        live.extend([0] * (b.last + 1 - len(live)))
        for step in range(b.first, b.last + 1):
            live[step] += b.size
    return live


# Checking ------------------------------------------------------------------------


def _validate(buffers: Sequence[Buffer], alignment: int) -> None:
    if alignment < 1:
        raise PlanError(f"alignment must be positive, got {alignment}")
    names = [b.name for b in buffers]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise PlanError(f"duplicate buffer names: {', '.join(duplicates)}")
    for b in buffers:
        if b.size < 0 or not 0 <= b.first <= b.last or b.kind not in KINDS:
            raise PlanError(f"malformed buffer {b}")


def _legal_pairs(buffers: Sequence[Buffer]) -> list[tuple[Buffer, Buffer]]:
    by_name = {b.name: b for b in buffers}
    return [
        (by_name[b.alias_of], b)
        for b in buffers
        if b.alias_of in by_name and by_name[b.alias_of].last == b.first
    ]


def _share_bytes(a: Buffer, b: Buffer, offsets: dict[str, int]) -> bool:
    oa, ob = offsets[a.name], offsets[b.name]
    return a.size > 0 and b.size > 0 and oa < ob + b.size and ob < oa + a.size


def _in_place_ok(
    a: Buffer, b: Buffer, offsets: dict[str, int], pairs: set[tuple[str, str]]
) -> bool:
    same = offsets[a.name] == offsets[b.name]
    return same and ((a.name, b.name) in pairs or (b.name, a.name) in pairs)


def _aligned(size: int, alignment: int) -> int:
    return math.ceil(size / alignment) * alignment
