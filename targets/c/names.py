"""C identifiers for IR symbols and SSA values.

Generated code includes `<math.h>`, `<string.h>`, `<stdint.h>`, `<stddef.h>`
and `<stdbool.h>`: a layer named after an ONNX node `exp` or a value hinted
`%log` must not become a C name those headers declare, nor a keyword.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_KEYWORD_TEXT = """
    auto break case char const continue default do double else enum extern
    float for goto if inline int long register restrict return short signed
    sizeof static struct switch typedef union unsigned void volatile while
    _Bool _Complex _Imaginary
"""

# Names the standard headers the emitter includes declare (the ones a layer
# or value could plausibly be called).
_LIBRARY_TEXT = """
    acos acosh asin asinh atan atan2 atanh cbrt ceil copysign cos cosh erf
    erfc exp exp2 expm1 fabs fdim floor fma fmax fmin fmod frexp hypot ilogb
    ldexp lgamma llrint llround log log10 log1p log2 logb lrint lround modf
    nan nearbyint nextafter pow remainder remquo rint round scalbln scalbn sin
    sinh sqrt tan tanh tgamma trunc isnan isinf isfinite signbit fpclassify
    NAN INFINITY HUGE_VAL HUGE_VALF memcpy memmove memset memcmp strlen NULL
    offsetof size_t ptrdiff_t uintptr_t intptr_t bool true false int8_t
    int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t abs div labs
    main errno assert
"""

_KEYWORDS = frozenset(_KEYWORD_TEXT.split())
_LIBRARY = frozenset(_LIBRARY_TEXT.split())
RESERVED = _KEYWORDS | _LIBRARY


def c_identifier(name: str) -> str:
    """`name` with every character C does not allow in identifiers replaced.

    Leading digits, the implementation's namespace (`_X`, `__x`) and the
    emitter's own (`tinycc_`) get a prefix; keywords, library names and
    all-capital names (macros' spelling) get a trailing underscore.
    """
    identifier = re.sub(r"[^A-Za-z0-9_]", "_", name) or "v"
    if identifier[0].isdigit() or identifier.startswith(("_", "tinycc_", "TINYCC_")):
        identifier = "v" + identifier
    if (
        identifier in RESERVED
        or _reserved_by_library(identifier)
        or identifier.isupper()  # the spelling of macros (INT8_MAX, EOF...)
    ):
        identifier += "_"
    return identifier


def _reserved_by_library(identifier: str) -> bool:
    # math.h reserves the `f`/`l` variants of its functions (`expf`, `logl`).
    return identifier[-1:] in ("f", "l") and identifier[:-1] in _LIBRARY


@dataclass
class NameScope:
    """Hands out distinct C identifiers, preferring the requested spelling."""

    taken: set[str] = field(default_factory=lambda: set(RESERVED))

    def claim(self, hint: str | None, default: str) -> str:
        """`hint` (sanitized) if free, else the first free `<base>_<n>`.

        Without a hint, names are `<default>0`, `<default>1`, ... so that
        unnamed values read as a numbered family.
        """
        if hint is None:
            return self._first_free(default, "")
        base = c_identifier(hint)
        if base not in self.taken:
            self.taken.add(base)
            return base
        return self._first_free(base, "_")

    def _first_free(self, base: str, separator: str) -> str:
        index = 0 if separator == "" else 1
        while f"{base}{separator}{index}" in self.taken:
            index += 1
        name = f"{base}{separator}{index}"
        self.taken.add(name)
        return name
