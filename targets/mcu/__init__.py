"""Microcontroller targets: presets, a bare-metal harness, QEMU runs.

- `presets`: `--target` names to a core's compiler, flags, features and a
  real part's RAM/flash (`preset(name, ram, flash)`);
- `build`: generated C + the harness in `data/` -> an ELF for the part,
  with its text/data/bss and static stack bound (`stack`);
- `run`: the ELF in QEMU, inputs and outputs through semihosting.
"""

from tinycc.targets.mcu.presets import PRESETS, Preset, preset

__all__ = ["PRESETS", "Preset", "preset"]
