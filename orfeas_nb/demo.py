"""``orfeas demo``: the bundled samples through every weight-free method, files and a summary."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import samples
from .api import image_to_3d
from .files import check_output, json_text, publish_together
from .model import manifest_path


@dataclass(frozen=True)
class DemoRun:
    """One demo model: which sample, which method, which options, which file format."""

    sample: str
    method: str
    format: str = "stl"
    options: tuple[tuple[str, object], ...] = ()

    @property
    def name(self) -> str:
        return f"{self.sample}-{self.method}"


DEMO_RUNS = (
    DemoRun("shapes", "relief", "stl"),
    DemoRun("logo", "relief", "3mf", (("height_mm", 3.0),)),
    DemoRun("scene", "relief", "glb", (("height_mm", 8.0),)),
    DemoRun("scene", "lithophane", "3mf", (("frame_mm", 3.0),)),
    DemoRun("logo", "extrude", "stl", (("height_mm", 4.0), ("base_mm", 1.0))),
    DemoRun("shapes", "inflate", "ply", (("roundness", 0.6),)),
)


@dataclass(frozen=True)
class DemoResult:
    """What one demo run produced."""

    run: DemoRun
    path: Path
    triangles: int
    watertight: bool
    seconds: float


def run_demo(out: Path, *, quality: int = 6, size_mm: float = 100.0) -> list[DemoResult]:
    """Build every :data:`DEMO_RUNS` model, then publish them, their manifests and ``summary.json`` in ``out``
    as one unit: every file of the demo, or (on a failure) none changes."""
    out = Path(out)
    summary = out / "summary.json"
    targets = [out / f"{run.name}.{run.format}" for run in DEMO_RUNS]
    check_output(summary)
    for target in targets:
        check_output(target, sidecars=[manifest_path(target)])
    built = []
    for run, target in zip(DEMO_RUNS, targets, strict=True):
        started = time.perf_counter()
        model = image_to_3d(
            samples.path(run.sample), method=run.method, quality=quality, size_mm=size_mm, **dict(run.options)
        )
        report = model.report()
        built.append((model, DemoResult(run, target, report.triangles, report.watertight, time.perf_counter() - started)))
    with publish_together() as unit:
        for model, result in built:
            model.add_to(unit, result.path)
        results = [result for _model, result in built]
        unit.add(summary, json_text([
            {
                "sample": r.run.sample,
                "method": r.run.method,
                "file": r.path.name,
                "triangles": r.triangles,
                "watertight": r.watertight,
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ]))
    return results


def summary_table(results: list[DemoResult]) -> str:
    """A fixed-width table: file, method, triangles, watertight, seconds."""
    rows = [("file", "method", "triangles", "watertight", "seconds")]
    rows += [
        (r.path.name, r.run.method, f"{r.triangles:,}", "yes" if r.watertight else "NO", f"{r.seconds:.2f}")
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)
