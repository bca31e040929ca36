"""`tinycc-opt`: xdsl-opt with tinycc's dialects, passes and weights side file.

    tinycc-opt model.mlir -p 'graph-canonicalize,graph-fold-qdq' -o out.mlir

Reads `model.weights.npz` next to the input (or `--weights FILE`) and, with
`-o out.mlir`, writes `out.weights.npz` beside the output. `.onnx` inputs are
imported on the fly. Only xDSLOptMain's `register_*` hooks and its two I/O
steps are overridden; its driver logic stays upstream.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import IO

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.targets.mlir import MLIRTarget
from xdsl.utils.exceptions import VerifyException
from xdsl.xdsl_opt_main import xDSLOptMain

from tinycc import weights
from tinycc.errors import TinyccError
from tinycc.ir import first_line, write_ir
from tinycc.registry import get_all_dialects, get_all_passes
from tinycc.targets.c.target import CTarget


@dataclass(frozen=True)
class AliasingMLIRTarget(MLIRTarget):
    """xDSL's `mlir` target, printing per-axis quantized types by alias."""

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        if self.print_generic_format or self.syntax_highlight:
            super().emit(ctx, module, output)
            return
        write_ir(
            module,
            output,
            print_properties_as_attributes=self.print_properties_as_attributes,
            print_debuginfo=self.print_debuginfo,
        )


class TinyccOptMain(xDSLOptMain):
    def register_all_dialects(self) -> None:
        super().register_all_dialects()
        for name, factory in get_all_dialects().items():
            self.ctx.register_dialect(name, factory)

    def register_all_passes(self) -> None:
        super().register_all_passes()
        for name, factory in get_all_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        super().register_all_targets()
        self.available_targets["mlir"] = lambda: AliasingMLIRTarget
        self.available_targets["c"] = lambda: CTarget

    def register_all_frontends(self) -> None:
        super().register_all_frontends()

        def parse_onnx(stream: IO[bytes]) -> ModuleOp:
            from tinycc.importer import import_onnx

            return import_onnx(stream.read(), name=self.get_input_name()).module

        self.available_frontends["onnx"] = parse_onnx

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
        arg_parser.add_argument(
            "--weights",
            help="weights side file to read (default: <input>.weights.npz if present)",
        )
        arg_parser.add_argument(
            "--weights-out",
            help="weights side file to write (default: <output>.weights.npz with -o)",
        )

    def parse_chunk(self, chunk: IO[bytes], file_extension: str, start_offset: int = 0):
        with weights.reading(self._input_weights()):
            return super().parse_chunk(chunk, file_extension, start_offset)

    def apply_passes(self, prog: ModuleOp) -> None:
        try:
            super().apply_passes(prog)
        except VerifyException as error:
            if self.args.verify_diagnostics:
                raise  # xDSLOptMain.run prints it and exits 0
            message = first_line(str(error), error)
            raise TinyccError(
                f"{self.get_input_name()}: invalid IR: {message}"
            ) from error

    def output_resulting_program(self, prog: ModuleOp) -> str:
        with weights.collecting() as arrays:
            text = super().output_resulting_program(prog)
        target = self._output_weights_path()
        if arrays and target is not None:
            weights.save_npz(target, arrays)
        return text

    def _input_weights(self) -> dict:
        if self.args.weights is not None:
            return weights.load_npz(self.args.weights)
        if self.args.input_file is None:
            return {}
        side = weights.side_file_path(self.args.input_file)
        return weights.load_npz(side) if side.exists() else {}

    def _output_weights_path(self) -> str | None:
        if self.args.weights_out is not None:
            return self.args.weights_out
        if self.args.output_file is not None:
            return str(weights.side_file_path(self.args.output_file))
        return None


def main(argv: list[str] | None = None) -> None:
    from tinycc.cli import run_guarded

    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    args = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--debug"]
    run_guarded(lambda: TinyccOptMain(args=args).run(), debug=debug, prog="tinycc-opt")
