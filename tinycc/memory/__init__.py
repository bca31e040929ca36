"""Memory planning: buffer lifetimes from the graph, offsets in one static arena."""

from tinycc.memory.liveness import Liveness, graph_buffers, liveness_of, scratch_bytes
from tinycc.memory.planner import (
    Buffer,
    Plan,
    PlanError,
    check_plan,
    in_place_pairs,
    lower_bound,
    plan,
)

__all__ = [
    "Buffer",
    "Liveness",
    "Plan",
    "PlanError",
    "check_plan",
    "graph_buffers",
    "in_place_pairs",
    "liveness_of",
    "lower_bound",
    "plan",
    "scratch_bytes",
]
