"""The catalogue: every method, option, range, style, format and quality step, gathered in one place.

    >>> import orfeas_nb
    >>> cat = orfeas_nb.catalogue()
    >>> list(cat.methods)
    ['relief', 'lithophane', 'extrude', 'inflate', 'depth', 'shap-e']
    >>> cat.method("relief").resolve({"height_mm": 3})["height_mm"]
    3.0

Faces (CLI, Studio, magics, HTTP API) read lists and ranges from here and nowhere else; the engines
declare them once (:mod:`orfeas_nb.mesh` its methods, options, formats and quality steps,
:mod:`orfeas_nb.pipeline.parameters` the styles and generation parameters) and check their inputs
against those same declarations. Built once per process; immutable.
"""

from __future__ import annotations

import functools
import sys
import types
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InvalidInput
from .mesh.printer import Printer
from .mesh.quality import QualityStep
from .options import QUALITY, Option, resolve_options, size_option
from .validation import check_text

IMAGE_TO_3D, TEXT_TO_3D = "image_to_3d", "text_to_3d"


@dataclass(frozen=True)
class MethodSpec:
    """A 3D method as every face sees it.

    ``options`` are its mesh options (``text_options`` when it runs from a prompt), ``run_options`` the
    checked keywords of its model (seed, steps; any method that ``needs_weights`` also takes ``model``).
    ``reads_prompt``: the method reads a prompt itself (Shap-E); the others get a picture from text→image first.
    """

    name: str
    summary: str
    needs_weights: bool
    tasks: tuple[str, ...]
    options: tuple[Option, ...]
    run_options: tuple[Option, ...] = ()
    text_options: tuple[Option, ...] | None = None
    reads_prompt: bool = False

    def options_for(self, task: str = IMAGE_TO_3D) -> tuple[Option, ...]:
        """The mesh options of ``task`` (``image_to_3d`` or ``text_to_3d``; the same unless ``text_options`` says)."""
        return self.text_options if task == TEXT_TO_3D and self.text_options is not None else self.options

    def option(self, name: str, task: str = IMAGE_TO_3D) -> Option:
        """One option (mesh or run) by name, or :class:`InvalidInput` naming the known ones."""
        known = {opt.name: opt for opt in (*self.options_for(task), *self.run_options)}
        if name not in known:
            raise InvalidInput(f"method {self.name!r} has no option {name}; its options are: {', '.join(known) or 'none'}")
        return known[name]

    def resolve(self, given: dict[str, Any], task: str = IMAGE_TO_3D) -> dict[str, Any]:
        """Mesh options with defaults filled in and every value checked (:class:`InvalidInput` otherwise)."""
        return resolve_options(self.name, self.options_for(task), given)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {
            "name": self.name,
            "summary": self.summary,
            "needs_weights": self.needs_weights,
            "tasks": list(self.tasks),
            "reads_prompt": self.reads_prompt,
            "options": [opt.to_dict() for opt in self.options],
            "text_options": [opt.to_dict() for opt in self.options_for(TEXT_TO_3D)],
            "run_options": [opt.to_dict() for opt in self.run_options],
        }


@dataclass(frozen=True)
class StyleSpec:
    """A text→image style preset: name and one-line summary (the prompt text stays in the pipeline)."""

    name: str
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "summary": self.summary}


@dataclass(frozen=True)
class FormatSpec:
    """An export format: name, file suffix (with the dot), media type and one-line summary."""

    name: str
    suffix: str
    media_type: str
    summary: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return {"name": self.name, "suffix": self.suffix, "media_type": self.media_type, "summary": self.summary}


@dataclass(frozen=True)
class Catalogue:
    """Everything a face lists: methods, styles, formats, quality steps, the generation parameters and printers."""

    methods: Mapping[str, MethodSpec]
    styles: Mapping[str, StyleSpec]
    formats: Mapping[str, FormatSpec]
    quality: tuple[QualityStep, ...]
    generation: tuple[Option, ...]
    #: the printers a weight-free method makes its model for (its ``printer`` option): fdm, resin, exact
    printers: Mapping[str, Printer] = field(default_factory=lambda: types.MappingProxyType({}))

    def method(self, name: Any) -> MethodSpec:
        """The method called ``name``, or :class:`InvalidInput` listing the known ones (or saying a name is text)."""
        if check_text("method", name) not in self.methods:
            raise InvalidInput(f"unknown method {name!r}; choose one of: {', '.join(self.methods)}")
        return self.methods[name]

    def style(self, name: Any) -> StyleSpec:
        """The style preset called ``name``, or :class:`InvalidInput` listing the known ones (or saying a name is text)."""
        if check_text("style", name) not in self.styles:
            raise InvalidInput(f"unknown style {name!r}; choose one of: {', '.join(self.styles)}")
        return self.styles[name]

    def printer(self, name: Any) -> Printer:
        """The printer called ``name``, or :class:`InvalidInput` listing the known ones."""
        if not isinstance(name, str) or name not in self.printers:
            raise InvalidInput(f"unknown printer {name!r}; choose one of: {', '.join(self.printers)}")
        return self.printers[name]

    def generation_option(self, name: str) -> Option:
        """One text→image parameter (seed, steps, width, height) by name."""
        return {opt.name: opt for opt in self.generation}[name]

    def prompt_run_options(self, method: str | None = None) -> tuple[Option, ...]:
        """The seed and steps a prompt run of ``method`` takes: its own if it reads the prompt, else text→image's."""
        if method is not None and self.method(method).reads_prompt:
            return self.method(method).run_options
        return tuple(opt for opt in self.generation if opt.name in ("seed", "steps"))

    @property
    def common(self) -> tuple[Option, ...]:
        """``quality`` and ``size_mm``, which every method takes (the size limits in force, read now)."""
        return (QUALITY, size_option())

    def to_dict(self) -> dict[str, Any]:
        """Everything above as JSON-ready data (the HTTP API serves it; docs read it)."""
        return {
            "methods": {name: spec.to_dict() for name, spec in self.methods.items()},
            "styles": {name: spec.to_dict() for name, spec in self.styles.items()},
            "formats": {name: spec.to_dict() for name, spec in self.formats.items()},
            "quality": [asdict(step) for step in self.quality],
            "generation": [opt.to_dict() for opt in self.generation],
            "common": [opt.to_dict() for opt in self.common],
            "printers": {name: {**p.to_dict(), "summary": p.summary} for name, p in self.printers.items()},
        }


def _methods() -> dict[str, MethodSpec]:
    from .learned import LEARNED
    from .mesh.methods import METHODS

    tasks = (IMAGE_TO_3D, TEXT_TO_3D)
    specs = [MethodSpec(m.name, m.summary, False, tasks, m.options) for m in METHODS.values()]
    specs += [MethodSpec(m.name, m.summary, True, tasks, m.options, m.run_options, m.text_options, m.reads_prompt)
              for m in LEARNED.values()]
    return {spec.name: spec for spec in specs}


@functools.cache
def catalogue() -> Catalogue:
    """The catalogue of this process (built on first use, then shared)."""
    from .mesh import quality
    from .mesh.export import FORMATS
    from .mesh.printer import PRINTERS
    from .pipeline.parameters import STYLES, TEXT_TO_IMAGE

    return Catalogue(
        methods=types.MappingProxyType(_methods()),
        styles=types.MappingProxyType({name: StyleSpec(name, style.summary) for name, style in STYLES.items()}),
        formats=types.MappingProxyType(
            {name: FormatSpec(name, f".{name}", f.media_type, f.summary) for name, f in FORMATS.items()}
        ),
        quality=quality.STEPS,
        generation=TEXT_TO_IMAGE,
        printers=types.MappingProxyType(dict(PRINTERS)),
    )


class _CallableModule(types.ModuleType):
    """``orfeas_nb.catalogue`` is this module and, called, the catalogue itself: ``orfeas_nb.catalogue()``.

    (Importing a submodule binds its name on the package, so the function could not keep the name.)
    """

    def __call__(self) -> Catalogue:
        return catalogue()


sys.modules[__name__].__class__ = _CallableModule
