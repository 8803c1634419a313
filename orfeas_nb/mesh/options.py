"""Declared options of a mesh method: defaults, ranges and choices, checked in one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput
from ..validation import check_choice, check_number


@dataclass(frozen=True)
class Option:
    """One option of a method. Numbers carry ``low``/``high``; strings carry ``choices``."""

    name: str
    default: float | int | bool | str
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this option's type, or raise :class:`InvalidInput`."""
        if isinstance(self.default, bool):
            if not isinstance(value, bool):
                raise InvalidInput(f"option {self.name} must be true or false, got {value!r}")
            return value
        if self.choices is not None:
            return check_choice(f"value for {self.name}", value, self.choices)
        integer = isinstance(self.default, int)
        return check_number(self.name, value, self.low, self.high, integer=integer)


def resolve_options(method: str, declared: tuple[Option, ...], given: dict[str, Any]) -> dict[str, Any]:
    """Merge ``given`` over the declared defaults, rejecting unknown names and out-of-range values."""
    known = {opt.name: opt for opt in declared}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(known) or "none"
        raise InvalidInput(f"method {method!r} has no option {', '.join(unknown)}; its options are: {names}")
    return {name: (opt.check(given[name]) if name in given else opt.default) for name, opt in known.items()}


def parse_option_text(text: str) -> tuple[str, Any]:
    """Parse ``name=value`` from the command line into a typed pair (bool, int, float or str).

    >>> parse_option_text("height_mm=4.5")
    ('height_mm', 4.5)
    """
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise InvalidInput(f"an option must look like name=value, got {text!r}")
    lowered = raw.strip().lower()
    if lowered in ("true", "yes", "on"):
        return name.strip(), True
    if lowered in ("false", "no", "off"):
        return name.strip(), False
    for kind in (int, float):
        try:
            return name.strip(), kind(raw)
        except ValueError:
            continue
    return name.strip(), raw.strip()


def parse_option_texts(texts: Iterable[str]) -> dict[str, Any]:
    """Parse several ``name=value`` texts; a name given twice is refused (never silently the last one).

    >>> parse_option_texts(["height_mm=4", "invert=yes"])
    {'height_mm': 4, 'invert': True}
    """
    parsed: dict[str, Any] = {}
    for text in texts:
        name, value = parse_option_text(text)
        if name in parsed:
            raise InvalidInput(f"option {name} is given twice ({parsed[name]!r} and {value!r}); give it once")
        parsed[name] = value
    return parsed
