"""``Studio``: the one controller that wires the panels to the api and runs jobs in the background.

    >>> import orfeas_nb
    >>> studio = orfeas_nb.Studio()
    >>> studio                       # doctest: +SKIP
    >>> studio.model is None         # the last model made (a Model3D), None before the first
    True

One job at a time: Generate is disabled while a job runs, and the kernel stays free because the work
happens on a :class:`~orfeas_nb.jobs.JobQueue` worker thread. Errors appear inline in the status line.
"""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as widgets

from .. import api
from ..catalogue import IMAGE_TO_3D, TEXT_TO_3D, MethodSpec, catalogue
from ..errors import OrfeasError
from ..jobs import CANCELLED, DONE, Job, JobQueue
from .export import ExportPanel
from .panels import ParametersPanel, ProgressPanel, PromptPanel, UploadPanel
from .view import MeshView, preview_arrays

IMAGE_TAB, PROMPT_TAB = 0, 1


class Studio(widgets.VBox):
    """The widget app: upload a picture or write a prompt, Generate, look at it in 3D, Save.

    ``quality``, ``size_mm`` and ``method`` set the starting parameters. ``model`` is the last model
    made, ``job`` the last job, ``view`` the last mesh view.
    """

    def __init__(self, *, method: str = "relief", quality: int = 7, size_mm: float = 100.0,
                 max_faces: int | None = None):
        self.model = None
        self.job: Job | None = None
        self.view = None
        self.max_faces = max_faces
        self._started = 0.0
        self._queue = JobQueue(max_waiting=1)
        cat = catalogue()
        method = cat.method(method).name
        self.upload = UploadPanel()
        self.prompt = PromptPanel(tuple(cat.styles), cat.prompt_run_options(method))
        self.source = widgets.Tab(children=[self.upload, self.prompt], titles=("Image", "Prompt"))
        self.parameters = ParametersPanel(cat.methods, quality=quality, size_mm=size_mm)
        self.parameters.method.value = method
        self.parameters.method.observe(
            lambda change: self.prompt.set_run_options(cat.prompt_run_options(change["new"])), names="value")
        self.source.observe(  # a prompt may take other option defaults (Shap-E's guidance) than a picture
            lambda change: self.parameters.set_task(TEXT_TO_3D if change["new"] == PROMPT_TAB else IMAGE_TO_3D),
            names="selected_index")
        self.generate_button = widgets.Button(description="Generate", button_style="primary", icon="play",
                                              tooltip="make a 3D model from the picture or the prompt")
        self.generate_button.add_class("orfeas-generate")
        self.generate_button.on_click(lambda _: self.generate())
        self.progress = ProgressPanel()
        self.progress.cancel.on_click(lambda _: self.cancel())
        self.view_box = widgets.Box(layout=widgets.Layout(min_height="40px"))
        self.report = widgets.HTML()
        self.report.add_class("orfeas-report")
        self.export = ExportPanel()
        super().__init__([
            widgets.HBox([self.source, self.parameters]),
            self.generate_button,
            self.progress,
            self.view_box,
            self.report,
            self.export,
        ])
        self.add_class("orfeas-studio")

    # -- actions -------------------------------------------------------------------------------

    def generate(self) -> Job | None:
        """Check the inputs and start a job; problems are shown inline and None is returned."""
        if self.job is not None and not self.job.finished:
            self.progress.show(self.job.progress, "a job is already running: wait for it or press Cancel", error=True)
            return None
        try:
            work, name = self._plan()
            job = self._queue.submit(work, name=name)
        except OrfeasError as exc:
            self.progress.show(0, str(exc), error=True)
            return None
        self.job, self._started = job, time.perf_counter()
        self.generate_button.disabled = True
        self.progress.cancel.disabled = False
        self.progress.show(0, f"{name}: queued")
        job.on_change(self._on_job_change)
        return job

    def cancel(self) -> None:
        """Ask the running job to stop (it stops at its next checkpoint)."""
        if self.job is not None and not self.job.finished:
            self.job.cancel()
            self.progress.show(self.job.progress, "cancelling…")

    def close(self) -> None:
        """Cancel any job, stop the worker thread and close the widgets."""
        self._queue.close(cancel=True)
        super().close()

    # -- jobs ----------------------------------------------------------------------------------

    def _plan(self) -> tuple[Any, str]:
        """Read and check the panels (on the kernel thread) and return the work to run in the background."""
        params = self.parameters.values()
        settings = {"method": params["method"], "quality": params["quality"], "size_mm": params["size_mm"]}
        options = params["options"]
        if self.source.selected_index == PROMPT_TAB:
            text = self.prompt.values()
            return (lambda job: self._text_job(job, text, settings, options)), f"text → 3D ({settings['method']})"
        image = self.upload.values()["image"]
        return (lambda job: self._image_job(job, image, settings, options)), f"image → 3D ({settings['method']})"

    @staticmethod
    def _hooks(job: Job, low: float, high: float, what: str) -> dict[str, Any]:
        def callback(step: int, total: int) -> None:
            job.update(low + (high - low) * step / max(total, 1), f"{what}: step {step} of {total}")

        return {"callback": callback, "cancel": job.cancel_event, "progress": False}

    def _image_job(self, job: Job, image: bytes, settings: dict, options: dict) -> tuple:
        job.update(0.05, f"building the mesh ({settings['method']})")
        learned = catalogue().method(settings["method"]).needs_weights
        hooks = self._hooks(job, 0.05, 0.8, "model") if learned else {}
        model = api.image_to_3d(image, **settings, **options, **hooks)
        return self._finish_model(job, model)

    def _text_job(self, job: Job, text: dict, settings: dict, options: dict) -> tuple:
        spec = catalogue().method(settings["method"])
        run = {key: text[key] for key in ("seed", "steps") if text[key] is not None}
        if not spec.reads_prompt:  # the style and what to avoid steer the text→image stage
            run.update(style=text["style"], negative_prompt=text["negative_prompt"])
        model = api.text_to_3d(text["prompt"], **settings, **options, **run, cancel=job.cancel_event, progress=False,
                               stage_callback=self._stage_progress(job, spec))
        return self._finish_model(job, model)

    @staticmethod
    def _stage_progress(job: Job, spec: MethodSpec) -> api.StageCallback:
        """A ``stage_callback`` for :func:`~orfeas_nb.api.text_to_3d` that moves the job's bar through its stages."""
        bands = {"mesh": (0.02, 0.8)} if spec.reads_prompt else {"text_to_image": (0.02, 0.5), "mesh": (0.5, 0.8)}
        names = {"text_to_image": "text → image", "mesh": spec.name}

        def report(stage: str, step: int, total: int) -> None:
            low, high = bands[stage]
            if step == 0:
                learned = stage == "text_to_image" or spec.needs_weights
                job.update(low, f"{names[stage]}: loading the model" if learned else f"building the mesh ({spec.name})")
            elif stage == "mesh" and not spec.needs_weights:
                job.update(high, f"mesh built ({spec.name})")
            else:
                job.update(low + (high - low) * step / max(total, 1), f"{names[stage]}: step {step} of {total}")

        return report

    def _finish_model(self, job: Job, model) -> tuple:
        job.update(0.85, "preparing the 3D view")
        arrays = preview_arrays(model.mesh, self.max_faces)
        return model, arrays

    def _on_job_change(self, job: Job) -> None:
        if not job.finished:
            self.progress.show(job.progress, f"{job.name}: {job.message}")
            return
        self.generate_button.disabled = False
        self.progress.cancel.disabled = True
        if job.status == DONE:
            try:
                self._show_model(*job.result, job)
            except Exception as exc:  # noqa: BLE001 - shown inline: the model stays in studio.model
                self.progress.show(1.0, f"the model is ready (studio.model) but cannot be shown: {exc}", error=True)
        elif job.status == CANCELLED:
            self.progress.show(job.progress, f"{job.name}: cancelled", error=True)
        else:
            error = job.error
            text = str(error) if isinstance(error, OrfeasError) else f"unexpected error: {type(error).__name__}: {error}"
            self.progress.show(job.progress, f"{job.name} failed: {text}", error=True)

    def _show_model(self, model, arrays, job: Job) -> None:
        self.model = model
        self.view = MeshView(arrays)
        self.view_box.children = (self.view,)
        report = model.report()
        self.report.value = f"<pre>{html.escape(str(report))}</pre>"
        stem = f"{model.manifest.get('method', 'model')}-{str(model.manifest.get('input', {}).get('sha256', ''))[:8]}"
        self.export.set_model(model, stem.rstrip("-").replace("shap-e", "shap_e"))
        seconds = time.perf_counter() - self._started
        self.progress.show(1.0, f"{job.name}: done in {seconds:.1f} s — {arrays.caption}")

