"""The `tinycc` command: import, check, run and verify ONNX models.

Every failure a user can cause ends in one line `tinycc: error: ...` and exit
status 1; `--debug` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException

from tinycc.errors import TinyccError

if TYPE_CHECKING:
    from tinycc.targets.mcu.presets import Preset

# The second canonicalization folds what fold-qdq exposes (reshapes of
# quantized constants) and fuses activations into the quantized ops.
DEFAULT_PIPELINE = "graph-canonicalize,graph-fold-qdq,graph-canonicalize"


def run_guarded(
    action: Callable[[], object], *, debug: bool, prog: str = "tinycc"
) -> None:
    """Run `action`, turning every error into one line and exit status 1."""
    try:
        action()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as error:
        if debug:
            raise
        print(f"{prog}: error: {one_line(error)}", file=sys.stderr)
        sys.exit(1)


def one_line(error: Exception) -> str:
    from tinycc.ir import first_line

    if isinstance(error, TinyccError):
        return str(error)
    if isinstance(error, ParseError | VerifyException | DiagnosticException):
        return first_line(str(error), error)
    if isinstance(error, OSError):
        return f"{error.filename or ''}: {error.strerror or error}".lstrip(": ")
    return (
        f"internal error: {type(error).__name__}: {error} "
        "(please report it; --debug shows the traceback)"
    )


# Argument types -----------------------------------------------------------------


def parse_shape_spec(text: str) -> tuple[str, tuple[int, ...]]:
    """`name=1x3x224x224` -> ("name", (1, 3, 224, 224))."""
    name, sep, dims = text.rpartition("=")
    try:
        if not sep or not name:
            raise ValueError
        shape = tuple(int(d) for d in dims.lower().split("x"))
        if min(shape) < 1:
            raise ValueError
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not NAME=DIMS like input=1x3x224x224"
        ) from None
    return name, shape


def input_shapes(args: argparse.Namespace) -> dict[str, tuple[int, ...]]:
    return dict(args.input_shape or [])


# Loading models -------------------------------------------------------------------


def load_model(path: str, args: argparse.Namespace, pipeline: str = ""):
    """An `.onnx` (imported) or `.mlir` (parsed) model as a graph module."""
    from tinycc.ir import read_module

    if not Path(path).exists():
        raise TinyccError(f"{path}: no such file")
    if path.endswith(".mlir"):
        module = read_module(path)
    else:
        from tinycc.importer import import_onnx

        module = import_onnx(path, input_shapes=input_shapes(args)).module
    if pipeline:
        apply_pipeline(module, pipeline)
    return module


def apply_pipeline(module, spec: str) -> None:
    from xdsl.passes import PassPipeline

    from tinycc.ir import make_context
    from tinycc.registry import get_all_passes

    try:
        pipeline = PassPipeline.parse_spec(get_all_passes(), spec)
    except Exception as error:
        raise TinyccError(f"bad pass pipeline '{spec}': {error}") from error
    pipeline.apply(make_context(), module)
    module.verify()


def read_arrays(specs: Sequence[str] | None) -> dict[str | None, np.ndarray]:
    """`--input in.npy` (the only input) or `--input name=in.npy`, repeated."""
    arrays: dict[str | None, np.ndarray] = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = None, spec
        try:
            arrays[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise TinyccError(f"{path}: cannot read numpy array ({error})") from error
    return arrays


def bind_inputs(module, given: dict[str | None, np.ndarray]) -> dict[str, np.ndarray]:
    from tinycc.signature import inputs

    names = [port.name for port in inputs(module)]
    if None in given:
        if len(names) != 1 or len(given) != 1:
            raise TinyccError(
                f"the model has inputs {', '.join(names)}: pass --input NAME=FILE.npy "
                "for each"
            )
        return {names[0]: given[None]}
    return dict(given)  # type: ignore[arg-type]


# Commands ---------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> None:
    from tinycc.ir import print_module, write_module

    module = load_model(args.model, args, args.passes)
    if args.output is None:
        sys.stdout.write(print_module(module)[0])
        return
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    write_module(module, args.output)
    print(f"wrote {args.output}", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> None:
    from tinycc.importer import check_onnx

    problems = check_onnx(args.model, input_shapes=input_shapes(args))
    if not problems:
        print(f"{args.model}: supported")
        return
    for problem in problems:
        print(f"{args.model}: {problem}")
    print(f"{args.model}: {len(problems)} unsupported node(s)", file=sys.stderr)
    sys.exit(1)


def cmd_run(args: argparse.Namespace) -> None:
    from tinycc.interpreter import run_module

    module = load_model(args.model, args, args.passes)
    outputs = run_module(module, bind_inputs(module, read_arrays(args.input)))
    wanted = read_output_specs(args.output, list(outputs))
    for name, path in wanted.items():
        np.save(path, outputs[name])
        print(
            f"wrote {path} ({name}, {outputs[name].dtype}{list(outputs[name].shape)})",
            file=sys.stderr,
        )


def read_output_specs(specs: Sequence[str] | None, names: list[str]) -> dict[str, str]:
    """`--output out.npy` (first output) or `--output name=out.npy`, repeated."""
    wanted: dict[str, str] = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep:
            name, path = names[0], spec
        if name not in names:
            raise TinyccError(
                f"the model has no output '{name}' (it has {', '.join(names)})"
            )
        wanted[name] = path
    return wanted


def cmd_verify(args: argparse.Namespace) -> None:
    if args.layerwise:
        cmd_layerwise(args)
        return
    import json

    from tinycc.verify import verify_against_onnxruntime

    report = verify_against_onnxruntime(
        args.model,
        inputs=read_arrays(args.input),
        input_shapes=input_shapes(args),
        pipeline=args.passes,
        seed=args.seed,
        target=args.target,
        rounding=args.int8_rounding,
        expected=read_arrays(args.expected),
        ram=args.ram,
        flash=args.flash,
    )
    for name, path in read_output_specs(args.output, list(report.outputs)).items():
        np.save(path, report.outputs[name])
    print(json.dumps(report.json(), sort_keys=True) if args.json else report.text())
    if not report.ok:
        sys.exit(1)


def cmd_layerwise(args: argparse.Namespace) -> None:
    """`verify --layerwise`: a diagnostic table, not a pass/fail check."""
    import json

    from tinycc.layerwise import layerwise, table

    for option in ("target", "expected", "output", "ram", "flash"):
        if getattr(args, option):
            raise TinyccError(
                f"--layerwise compares the reference interpreter with "
                f"onnxruntime layer by layer; it takes no --{option}"
            )
    rows = layerwise(
        args.model,
        inputs=read_arrays(args.input),
        input_shapes=input_shapes(args),
        pipeline=args.passes,
        seed=args.seed,
        rounding=args.int8_rounding,
    )
    if args.json:
        print(json.dumps([row.json() for row in rows], sort_keys=True))
        return
    print(
        f"{args.model}: reference interpreter (int8 rounding "
        f"{args.int8_rounding}) vs onnxruntime, layer by layer"
    )
    print(table(rows))


def cmd_compile(args: argparse.Namespace) -> None:
    from tinycc.compile import (
        LEVELS,
        compile_model,
        default_pipeline,
        model_identifier,
        quantize_pass,
        summary,
        write_outputs,
    )
    from tinycc.ir import print_module, write_module

    name = args.name or model_identifier(args.model)
    io_in_arena = args.io == "arena"
    target = check_project(args)
    quantize = {
        "quantize": args.quantize,
        "calibration": args.calibration,
        "calibration_method": args.calibration_method,
    }
    if args.print_pipeline:
        quantizer = quantize_pass(
            args.quantize, args.calibration, args.calibration_method
        )
        print(default_pipeline(name, io_in_arena, args.int8_rounding, quantizer))
        return
    stop_at = args.emit if args.emit in LEVELS else "loop"
    module, compiled = compile_model(
        args.model,
        target=args.target,
        name=name,
        pipeline=args.passes,
        io_in_arena=io_in_arena,
        input_shapes=input_shapes(args),
        stop_at=stop_at,
        rounding=args.int8_rounding,
        **quantize,
    )
    if args.emit in LEVELS:
        if args.output is None:
            sys.stdout.write(print_module(module)[0])
        else:
            Path(args.output).mkdir(parents=True, exist_ok=True)
            write_module(module, Path(args.output) / f"{name}.{args.emit}.mlir")
        return
    if compiled is None:
        raise TinyccError("the pipeline given with -p does not reach the loop level")
    budget = args.ram_budget
    if budget is not None and compiled.report["arena_bytes"] > budget:
        raise TinyccError(
            f"{args.model}: arena {compiled.report['arena_bytes']:,} B exceeds "
            f"--ram-budget {budget:,} B (peak at layer "
            f"'{compiled.report['peak_layer']}')"
        )
    directory = Path(args.output or ".")
    if target is None:
        written = write_outputs(compiled, directory)
    else:
        from tinycc.project import example_feeds, export

        feeds = example_feeds(args.model, read_arrays(args.input), input_shapes(args))
        written = export(
            compiled,
            args.model,
            directory,
            args.project,
            target,
            feeds,
            given=bool(args.input),
        )
    print(summary(compiled))
    print("wrote " + ", ".join(str(p) for p in written), file=sys.stderr)


def check_project(args: argparse.Namespace) -> Preset | None:
    """`compile --project`'s target preset, checked to go with the project
    kind before anything is compiled; None without --project."""
    if args.project is None:
        if args.input:
            raise TinyccError("--input is the input of the --project example")
        return None
    if args.emit != "c" or args.print_pipeline:
        raise TinyccError("--project writes C: it takes no --emit or --print-pipeline")
    from tinycc.project import check
    from tinycc.targets.mcu import preset

    target = preset(args.target)
    check(args.project, target)
    return target


def parse_bytes(text: str) -> int:
    """`65536`, `64k`, `64K`, `1m`: a byte count."""
    units = {"": 1, "k": 1024, "m": 1024 * 1024}
    number, unit = text[:-1], text[-1:].lower()
    if unit.isdigit():
        number, unit = text, ""
    if unit not in units or not number.isdigit():
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a size like 65536, 64k or 1m"
        )
    return int(number) * units[unit]


# Parser -------------------------------------------------------------------------------


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line and exit status 1, like every other error."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(1)


def build_parser() -> argparse.ArgumentParser:
    from tinycc.targets.mcu import PRESETS

    parser = OneLineParser(
        prog="tinycc",
        description="Compile ONNX neural networks for microcontrollers.",
    )
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )

    def command(name: str, handler, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        sub.add_argument("model", help="an .onnx model (or imported .mlir)")
        sub.add_argument(
            "--input-shape",
            action="append",
            type=parse_shape_spec,
            metavar="NAME=DIMS",
            help="fix a dynamic input shape, e.g. input=1x3x224x224",
        )
        return sub

    def with_rounding(sub: argparse.ArgumentParser) -> None:
        from tinycc.integer import ROUNDINGS

        sub.add_argument(
            "--int8-rounding",
            choices=ROUNDINGS,
            default="tflite",
            help="integer semantics of quantized ops: TFLite's reference kernels "
            "(bit-exact with TFLite Micro) or ONNX's single rounding (default "
            "tflite)",
        )

    def with_pipeline(sub: argparse.ArgumentParser, default: str) -> None:
        sub.add_argument(
            "-p",
            "--passes",
            default=default,
            metavar="PIPELINE",
            help=f"graph passes to run after import (default '{default}', '' none)",
        )

    sub = command("import", cmd_import, "import an ONNX model into graph-dialect IR")
    sub.add_argument(
        "-o", "--output", help="model.mlir (weights go to model.weights.npz)"
    )
    with_pipeline(sub, DEFAULT_PIPELINE)

    command("check", cmd_check, "list every unsupported op, attribute and dtype")

    sub = command("run", cmd_run, "run a model with the reference interpreter")
    sub.add_argument(
        "--input", action="append", metavar="[NAME=]FILE.npy", required=True
    )
    sub.add_argument(
        "--output", action="append", metavar="[NAME=]FILE.npy", required=True
    )
    with_pipeline(sub, "")

    sub = command("verify", cmd_verify, "compare tinycc with onnxruntime on a model")
    sub.add_argument("--input", action="append", metavar="[NAME=]FILE.npy")
    sub.add_argument("--output", action="append", metavar="[NAME=]FILE.npy")
    sub.add_argument(
        "--expected",
        action="append",
        metavar="[NAME=]FILE.npy",
        help="expected outputs (e.g. TFLite Micro's): integers must match bit for bit",
    )
    sub.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    sub.add_argument(
        "--target",
        choices=list(PRESETS),
        help="compile for this target and run the C, on the host or in QEMU "
        "(default: the interpreter)",
    )
    sub.add_argument(
        "--ram",
        type=parse_bytes,
        metavar="BYTES",
        help="replace the RAM of the target's part (e.g. 64k)",
    )
    sub.add_argument(
        "--flash",
        type=parse_bytes,
        metavar="BYTES",
        help="replace the flash of the target's part (e.g. 1m)",
    )
    sub.add_argument(
        "--layerwise",
        action="store_true",
        help="compare the interpreter with onnxruntime layer by layer (a table)",
    )
    sub.add_argument("--json", action="store_true", help="one JSON object on stdout")
    with_rounding(sub)
    with_pipeline(sub, DEFAULT_PIPELINE)

    sub = command("compile", cmd_compile, "compile a model to C")
    sub.add_argument("-o", "--output", metavar="DIR", help="output directory (.)")
    sub.add_argument("--target", default="host", choices=list(PRESETS))
    sub.add_argument("--name", help="C prefix of the API (default: from the file)")
    sub.add_argument(
        "--io",
        choices=["arena", "user"],
        default="arena",
        help="input/output in the arena (least RAM) or the caller's buffers",
    )
    sub.add_argument(
        "--emit",
        choices=["graph", "tile", "loop", "c"],
        default="c",
        help="print the IR at a level instead of writing C",
    )
    sub.add_argument("--print-pipeline", action="store_true")
    with_rounding(sub)
    sub.add_argument(
        "--quantize",
        choices=["int8"],
        help="quantize a float model to int8 first (post-training, static; "
        "TFLite's scheme), calibrated on --calibration",
    )
    sub.add_argument(
        "--calibration",
        metavar="SAMPLES",
        help="calibration inputs for --quantize: a .npy whose first axis "
        "enumerates samples, or a .npz with one such array per input name",
    )
    sub.add_argument(
        "--calibration-method",
        choices=["minmax", "percentile"],
        default="minmax",
        help="activation ranges: min/max seen (default) or clipped to the "
        "99.99th percentile of |x|",
    )
    sub.add_argument("--ram-budget", type=parse_bytes, metavar="BYTES")
    sub.add_argument(
        "--project",
        choices=["make", "cmake", "esp-idf"],
        help="also write a project that builds an example program around the "
        "model: a Makefile or CMakeLists.txt (host, Cortex-M), or an ESP-IDF "
        "component (esp32, esp32s3)",
    )
    sub.add_argument(
        "--input",
        action="append",
        metavar="[NAME=]FILE.npy",
        help="the input the --project example runs on (default: the random "
        "input of verify --seed 0)",
    )
    sub.add_argument("-p", "--passes", metavar="PIPELINE", help="replace the pipeline")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    run_guarded(lambda: args.handler(args), debug=args.debug)


if __name__ == "__main__":
    main()
