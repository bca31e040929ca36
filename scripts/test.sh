#!/usr/bin/env bash
# Every test: pytest (unit, numeric and the lit/FileCheck suite) and ruff.
source "$(dirname "$0")/setup.sh"
ruff format --check .
ruff check .
python -m pytest -q -n auto
