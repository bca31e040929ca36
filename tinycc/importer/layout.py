"""Layout tags: how an IR tensor's axes relate to its ONNX tensor's axes.

Every imported value carries a permutation `perm` with the meaning of the
`onnx.perm` attribute: `ir_array = np.transpose(onnx_array, perm)`. ONNX
tensors are NCHW; the graph dialect wants NHWC for convolutions, pooling and
friends, so activations between such ops carry `NHWC = (0, 2, 3, 1)` and no
transpose is ever emitted between them. Ops that do not care about the layout
(elementwise, concat, slice, ...) keep their operand's tag and renumber their
axes; ops that do care ask for a specific layout, and only then does the
importer emit a `graph.transpose` (or a `graph.reshape`, when the permutation
only moves axes of extent 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tinycc.importer.problems import Unsupported

Perm = tuple[int, ...]

NHWC: Perm = (0, 2, 3, 1)


def identity(rank: int) -> Perm:
    return tuple(range(rank))


def is_identity(perm: Perm) -> bool:
    return perm == identity(len(perm))


def channels_last(rank: int) -> Perm:
    """`[N, C, D1, ..., Dk] -> [N, D1, ..., Dk, C]` (identity for rank <= 2)."""
    if rank <= 2:
        return identity(rank)
    return (0, *range(2, rank), 1)


def inverse(perm: Perm) -> Perm:
    result = [0] * len(perm)
    for i, p in enumerate(perm):
        result[p] = i
    return tuple(result)


def permute(values: Sequence[int], perm: Perm) -> tuple[int, ...]:
    """The IR order of per-axis ONNX values (shapes, starts, pads...)."""
    return tuple(values[p] for p in perm)


def unpermute(values: Sequence[int], perm: Perm) -> tuple[int, ...]:
    """The ONNX order of per-axis IR values."""
    return permute(values, inverse(perm))


def relative(source: Perm, target: Perm) -> Perm:
    """The `graph.transpose` perm taking a tensor from layout `source` to `target`."""
    back = inverse(source)
    return tuple(back[t] for t in target)


def after_transpose(perm: Perm, onnx_perm: Perm) -> Perm:
    """The tag of `Transpose(x, onnx_perm)` when it reuses `x`'s IR tensor as is."""
    back = inverse(onnx_perm)
    return tuple(back[p] for p in perm)


def moves_only_unit_axes(perm: Perm, shape: Sequence[int]) -> bool:
    """True if transposing `shape` by `perm` keeps the data order (a reshape)."""
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


def ir_axis(perm: Perm, onnx_axis: int) -> int:
    return perm.index(onnx_axis)


def without_axes(perm: Perm, axes: Iterable[int]) -> Perm:
    """The tag left when ONNX `axes` are removed (squeeze, reduce keepdims=0)."""
    removed = set(axes)
    kept = [p for p in perm if p not in removed]
    order = sorted(kept)
    return tuple(order.index(p) for p in kept)


def with_new_axes(perm: Perm, axes: Iterable[int]) -> Perm:
    """The tag after inserting unit ONNX `axes` (output numbering), as unsqueeze.

    A new axis goes to the IR position equal to its ONNX position: it has
    extent 1, so any position works, and this one keeps an identity tag one.
    """
    new = sorted(axes)
    old_numbers = [i for i in range(len(perm) + len(new)) if i not in new]
    result = [old_numbers[p] for p in perm]
    for axis in new:
        result.insert(axis, axis)
    return tuple(result)


def normalize_axis(axis: int, rank: int) -> int:
    """An ONNX axis in `[-rank, rank)` as a non-negative one."""
    if not -rank <= axis < rank:
        raise Unsupported(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis
