"""`--target` presets: what tinycc knows about each microcontroller.

A preset names a core and a real part built around it: the cross compiler
and its flags (the ABI: soft or hard float), the instruction-set features
the kernels may use (FPU, Arm DSP, Helium/MVE), the part's RAM and flash
(what a model must fit, overridable with `with_memory`), and, for the cores
QEMU emulates here, the machine that runs it and where the part's memory
sits in that machine's map (DESIGN.md §6).

The parts:

- cortex-m0plus: Raspberry Pi RP2040, 264 KiB SRAM, 2 MiB QSPI flash (Pico);
  QEMU has no M0+ machine with enough RAM (micro:bit: 16 KiB), so it runs on
  mps2-an385's Cortex-M3, which does not fault on the unaligned word loads an
  M0+ faults on (GCC emits none for Armv6-M; only C that casts misaligned
  pointers would);
- cortex-m3: ST STM32F103RB, 20 KiB SRAM, 128 KiB flash;
- cortex-m4: Nordic nRF52840, 256 KiB RAM, 1 MiB flash;
- cortex-m7: ST STM32F746, 320 KiB SRAM, 1 MiB flash (single-precision FPU,
  hence fpv5-sp-d16);
- cortex-m33: Nordic nRF5340 application core, 512 KiB RAM, 1 MiB flash;
- cortex-m55: Arm Corstone-300 (the MPS3 AN547 FPGA image QEMU models),
  512 KiB DTCM for data, 512 KiB ITCM for code and weights;
- xtensa-lx106: Espressif ESP8266EX, 80 KiB data RAM, 1 MiB of flash mapped
  for code (ESP-12F modules carry 4 MiB);
- esp32: Espressif ESP32, 520 KiB SRAM, 4 MiB flash (ESP32-WROOM-32);
- esp32s3: Espressif ESP32-S3, 512 KiB SRAM, 8 MiB flash (ESP32-S3-WROOM-1-N8).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from tinycc.errors import TinyccError

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Region:
    """A range of a machine's address space."""

    origin: int
    size: int


@dataclass(frozen=True)
class Machine:
    """A QEMU machine (`qemu-system-arm -M name`): where code and data go.

    `code` must start at the address the core fetches its vector table from
    at reset (the machine's initial VTOR)."""

    name: str
    code: Region
    data: Region


def _mps2(name: str) -> Machine:
    """An MPS2 FPGA image without TrustZone: 4 MiB of SSRAM for code at 0,
    4 MiB for data at 0x20000000."""
    return Machine(name, Region(0x0000_0000, 4 * MIB), Region(0x2000_0000, 4 * MIB))


# DESIGN.md §6; addresses from QEMU 7.2's hw/arm/mps2.c and mps2-tz.c.
MPS2_AN385 = _mps2("mps2-an385")  # Cortex-M3
MPS2_AN386 = _mps2("mps2-an386")  # Cortex-M4
MPS2_AN500 = _mps2("mps2-an500")  # Cortex-M7
# Secure aliases: the M33 boots secure with its vector table at 0x10000000.
MPS2_AN505 = Machine(
    "mps2-an505", Region(0x1000_0000, 4 * MIB), Region(0x3800_0000, 2 * MIB)
)
# Corstone-300: ITCM at 0 (the initial VTOR), DTCM at 0x20000000.
MPS3_AN547 = Machine(
    "mps3-an547", Region(0x0000_0000, 512 * KIB), Region(0x2000_0000, 512 * KIB)
)

ARM_GCC = "arm-none-eabi-gcc"
ARM_INSTALL = "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi"


@dataclass(frozen=True)
class Preset:
    """One `--target`: a core, its compiler and flags, and a real part."""

    name: str
    part: str
    compiler: str  # the C compiler's executable
    install: str  # how to install it: "apt-get install ..."
    flags: tuple[str, ...]  # CPU and ABI flags
    ram: int | None  # bytes of the part's RAM (None: the host, no part)
    flash: int | None  # bytes of the part's flash (code, weights)
    fpu: bool = False  # single-precision floating point in hardware
    dsp: bool = False  # the Arm DSP extension (SMLAD, SXTB16, SSAT...)
    mve: bool = False  # Helium, the M-profile vector extension
    machine: Machine | None = None  # the QEMU machine that runs it, if any

    @property
    def features(self) -> tuple[str, ...]:
        """The feature names, for reports: ("fpu", "dsp", ...)."""
        flags = {"fpu": self.fpu, "dsp": self.dsp, "mve": self.mve}
        return tuple(name for name, present in flags.items() if present)

    def with_memory(self, ram: int | None = None, flash: int | None = None):
        """This preset with the part's RAM and/or flash replaced."""
        return replace(
            self,
            ram=self.ram if ram is None else ram,
            flash=self.flash if flash is None else flash,
        )


def _cortex_m(
    name: str, part: str, float_flags: tuple[str, ...], ram: int, flash: int, **kw
) -> Preset:
    """A Cortex-M core with GCC's flags for it: -mcpu, Thumb, the float ABI."""
    flags = (f"-mcpu={name}", "-mthumb", *float_flags)
    return Preset(name, part, ARM_GCC, ARM_INSTALL, flags, ram, flash, **kw)


def _xtensa(name: str, part: str, compiler: str, ram: int, flash: int, **kw):
    """An Xtensa core with its own GCC (calls may span the whole flash)."""
    install = (
        "apt-get install gcc-xtensa-lx106 binutils-xtensa-lx106"
        if name == "xtensa-lx106"
        else "install ESP-IDF's toolchain"
    )
    return Preset(name, part, compiler, install, ("-mlongcalls",), ram, flash, **kw)


SOFT = ("-mfloat-abi=soft",)
HARD = ("-mfloat-abi=hard",)

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "host", "the build machine", "cc", "apt-get install gcc", (), None, None
        ),
        _cortex_m(
            "cortex-m0plus",
            "Raspberry Pi RP2040",
            SOFT,
            264 * KIB,
            2 * MIB,
            machine=MPS2_AN385,
        ),
        _cortex_m(
            "cortex-m3", "ST STM32F103RB", SOFT, 20 * KIB, 128 * KIB, machine=MPS2_AN385
        ),
        _cortex_m(
            "cortex-m4",
            "Nordic nRF52840",
            (*HARD, "-mfpu=fpv4-sp-d16"),
            256 * KIB,
            1 * MIB,
            fpu=True,
            dsp=True,
            machine=MPS2_AN386,
        ),
        _cortex_m(
            "cortex-m7",
            "ST STM32F746",
            (*HARD, "-mfpu=fpv5-sp-d16"),
            320 * KIB,
            1 * MIB,
            fpu=True,
            dsp=True,
            machine=MPS2_AN500,
        ),
        _cortex_m(
            "cortex-m33",
            "Nordic nRF5340 (application core)",
            HARD,
            512 * KIB,
            1 * MIB,
            fpu=True,
            dsp=True,
            machine=MPS2_AN505,
        ),
        _cortex_m(
            "cortex-m55",
            "Arm Corstone-300",
            HARD,
            512 * KIB,
            512 * KIB,
            fpu=True,
            dsp=True,
            mve=True,
            machine=MPS3_AN547,
        ),
        _xtensa(
            "xtensa-lx106", "Espressif ESP8266EX", "xtensa-lx106-elf-gcc", 80 * KIB, MIB
        ),
        _xtensa(
            "esp32",
            "Espressif ESP32",
            "xtensa-esp32-elf-gcc",
            520 * KIB,
            4 * MIB,
            fpu=True,
        ),
        _xtensa(
            "esp32s3",
            "Espressif ESP32-S3",
            "xtensa-esp32s3-elf-gcc",
            512 * KIB,
            8 * MIB,
            fpu=True,
        ),
    )
}


def preset(name: str, ram: int | None = None, flash: int | None = None) -> Preset:
    """The preset called `name`, with its part's memory overridden if asked."""
    found = PRESETS.get(name)
    if found is None:
        raise TinyccError(f"unknown target '{name}' (available: {', '.join(PRESETS)})")
    return found.with_memory(ram, flash)
