# Sourced by the README commands: a virtual environment with tinycc and its
# test dependencies, on a fresh Debian 12 machine (Python 3.11, root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
# The Cortex-M cross compiler, newlib and QEMU: int8 models are compiled for
# a soft-float Cortex-M0+ to show their code is float-free, and every Cortex-M
# target runs its programs in QEMU (test/targets/mcu, tinycc verify --target).
# make and cmake build the exported projects (--project make|cmake).
if ! command -v arm-none-eabi-gcc >/dev/null 2>&1 || [ ! -d /usr/lib/arm-none-eabi/newlib ] \
    || ! command -v qemu-system-arm >/dev/null 2>&1 || ! command -v cmake >/dev/null 2>&1 \
    || ! command -v make >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake make >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export PATH="$PWD/.venv/bin:$PATH"
