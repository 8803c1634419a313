"""Declared parameters: name, default, range or choices, unit, label and one-line help, checked in one place.

Every engine declares its parameters as :class:`Option` values (the mesh methods their options, the
pipeline its generation parameters); :func:`orfeas_nb.catalogue` gathers them for every face to read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import config
from .errors import InvalidInput
from .validation import check_choice, check_number

KINDS = ("bool", "choice", "int", "float")


@dataclass(frozen=True)
class Option:
    """One parameter. Numbers carry ``low``/``high`` (and maybe ``multiple_of``); strings carry ``choices``.

    ``default=None`` means "chosen at run time" (a random seed, the model's own steps); such an option
    names its ``kind``. ``unit`` is shown beside the value ("mm", "°", "px"), ``label`` is the human name.

    >>> Option("height_mm", 5.0, "relief depth", low=0.1, high=500.0, unit="mm", label="Relief height").check(4)
    4.0
    """

    name: str
    default: float | int | bool | str | None
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    unit: str | None = None
    label: str = ""
    kind: str = ""
    multiple_of: int | None = None
    why: str = field(default="", repr=False)  # the reason for multiple_of, added to its error message

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())
        if not self.kind:
            object.__setattr__(self, "kind", _kind_of(self.default, self.choices))
        if self.kind not in KINDS:
            raise ValueError(f"option {self.name}: kind must be one of {KINDS}, got {self.kind!r}")

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this option's type, or raise :class:`InvalidInput`.

        ``None`` is accepted (and returned) only by an option whose default is ``None``.
        """
        if value is None and self.default is None:
            return None
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise InvalidInput(f"option {self.name} must be true or false, got {value!r}")
            return value
        if self.kind == "choice":
            return check_choice(f"value for {self.name}", value, self.choices)
        number = check_number(self.name, value, self.low, self.high, integer=self.kind == "int")
        if self.multiple_of and number % self.multiple_of:
            why = f" ({self.why})" if self.why else ""
            raise InvalidInput(
                f"{self.name} must be a multiple of {self.multiple_of}{why}, got {number}; "
                f"try {int(number) // self.multiple_of * self.multiple_of}"
            )
        return number

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (the catalogue's and the HTTP API's form)."""
        return {
            "name": self.name,
            "label": self.label,
            "kind": self.kind,
            "default": self.default,
            "low": self.low,
            "high": self.high,
            "choices": list(self.choices) if self.choices is not None else None,
            "multiple_of": self.multiple_of,
            "unit": self.unit,
            "doc": self.doc,
        }


def _kind_of(default: Any, choices: tuple[str, ...] | None) -> str:
    if isinstance(default, bool):
        return "bool"
    if choices is not None:
        return "choice"
    if isinstance(default, int):
        return "int"
    if isinstance(default, float):
        return "float"
    return ""


QUALITY = Option("quality", 7, "detail: more triangles and time for finer detail", low=1, high=10, label="Quality")


def size_option() -> Option:
    """The longest side of a model, within the limits in force (``ORFEAS_MIN_SIZE_MM`` / ``ORFEAS_MAX_SIZE_MM``)."""
    low, high = config.size_limits()
    return Option("size_mm", 100.0, "longest side of the model", low=low, high=high, unit="mm", label="Size")


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
