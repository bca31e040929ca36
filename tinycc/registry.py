"""Lazy registries of tinycc's dialects and passes (like xDSL's `universe`).

Factories import their module only when asked for, so `tinycc-opt --help`
stays fast however many passes there are.
"""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import Dialect
from xdsl.passes import ModulePass


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    def get_graph() -> Dialect:
        from tinycc.dialects.graph import Graph

        return Graph

    def get_quant() -> Dialect:
        from tinycc.dialects.quant import Quant

        return Quant

    def get_tile() -> Dialect:
        from tinycc.dialects.tile import Tile

        return Tile

    return {"graph": get_graph, "quant": get_quant, "tile": get_tile}


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    def get_graph_canonicalize() -> type[ModulePass]:
        from tinycc.passes.graph_canonicalize import GraphCanonicalizePass

        return GraphCanonicalizePass

    def get_graph_fold_qdq() -> type[ModulePass]:
        from tinycc.passes.graph_fold_qdq import GraphFoldQDQPass

        return GraphFoldQDQPass

    def get_graph_quantize() -> type[ModulePass]:
        from tinycc.passes.graph_quantize import GraphQuantizePass

        return GraphQuantizePass

    def get_graph_u8_to_i8() -> type[ModulePass]:
        from tinycc.passes.graph_u8_to_i8 import GraphU8ToI8Pass

        return GraphU8ToI8Pass

    def get_graph_int8_rounding() -> type[ModulePass]:
        from tinycc.passes.graph_int8_rounding import GraphInt8RoundingPass

        return GraphInt8RoundingPass

    def get_lower_graph_to_tile() -> type[ModulePass]:
        from tinycc.passes.conversions.graph_to_tile import LowerGraphToTilePass

        return LowerGraphToTilePass

    def get_bufferize() -> type[ModulePass]:
        from tinycc.passes.conversions.tile_to_loop import BufferizePass

        return BufferizePass

    def get_tile() -> type[ModulePass]:
        from tinycc.passes.tile import TilePass

        return TilePass

    return {
        "graph-canonicalize": get_graph_canonicalize,
        "graph-fold-qdq": get_graph_fold_qdq,
        "graph-quantize": get_graph_quantize,
        "graph-u8-to-i8": get_graph_u8_to_i8,
        "graph-int8-rounding": get_graph_int8_rounding,
        "lower-graph-to-tile": get_lower_graph_to_tile,
        "bufferize": get_bufferize,
        "tile": get_tile,
    }
