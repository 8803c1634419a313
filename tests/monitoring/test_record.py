"""Recording generations: counts, durations, stages and triangles in a fresh registry."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY, CollectorRegistry

import orfeas_nb
from orfeas_nb import monitoring
from orfeas_nb.errors import InvalidInput, JobCancelled, OrfeasError
from orfeas_nb.monitoring.definitions import metrics
from orfeas_nb.monitoring.record import Generation, record_generation, recorded, set_job_counts

pytestmark = pytest.mark.unit
LABELS = {"type": "image_to_3d", "provider": "relief"}


def count(registry, status, **labels):
    return registry.get_sample_value("orfeas_generations_total", {**LABELS, **labels, "status": status})


class FakeModel:
    """Anything with a manifest, as Model3D has."""

    def __init__(self, timings, triangles):
        self.manifest = {"timings_s": timings, "triangles": triangles}


def test_success_failure_and_cancel_are_counted_apart(registry):
    with record_generation("image_to_3d", "relief", registry=registry) as generation:
        generation.observe(FakeModel({"load": 0.5, "mesh": 2.0, "total": 2.6}, 1234))
    with pytest.raises(InvalidInput), record_generation("image_to_3d", "relief", registry=registry):
        raise InvalidInput("bad image")
    with pytest.raises(JobCancelled), record_generation("image_to_3d", "relief", registry=registry):
        raise JobCancelled("stop")
    with pytest.raises(KeyboardInterrupt), record_generation("image_to_3d", "relief", registry=registry):
        raise KeyboardInterrupt
    assert (count(registry, "success"), count(registry, "failed"), count(registry, "cancelled")) == (1, 1, 2)
    # only the successful one is timed, and its stages (not "total") and triangles are kept
    assert registry.get_sample_value("orfeas_generation_duration_seconds_count", LABELS) == 1
    stage = {**LABELS, "stage": "mesh"}
    assert registry.get_sample_value("orfeas_stage_duration_seconds_sum", stage) == 2.0
    assert registry.get_sample_value("orfeas_stage_duration_seconds_count", {**LABELS, "stage": "total"}) is None
    assert registry.get_sample_value("orfeas_mesh_triangles_sum", LABELS) == 1234
    assert registry.get_sample_value("orfeas_mesh_triangles_bucket", {**LABELS, "le": "1000.0"}) == 0
    assert registry.get_sample_value("orfeas_mesh_triangles_bucket", {**LABELS, "le": "5000.0"}) == 1


def test_every_status_series_exists_at_zero_once_a_provider_is_used(registry):
    with record_generation("text_to_image", "diffusers", registry=registry):
        pass
    labels = {"type": "text_to_image", "provider": "diffusers"}
    assert [registry.get_sample_value("orfeas_generations_total", {**labels, "status": s})
            for s in ("success", "failed", "cancelled")] == [1, 0, 0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["success", "failed", "cancelled"]), max_size=12))
def test_counts_match_any_sequence_of_outcomes(outcomes):
    registry = CollectorRegistry()
    errors = {"failed": RuntimeError, "cancelled": JobCancelled}
    for outcome in outcomes:
        try:
            with record_generation("image_to_3d", "relief", registry=registry):
                if outcome in errors:
                    raise errors[outcome]("x")
        except (RuntimeError, JobCancelled):
            pass
    for status in ("success", "failed", "cancelled"):
        expected = outcomes.count(status)
        assert (count(registry, status) or 0) == expected
    assert (registry.get_sample_value("orfeas_generation_duration_seconds_count", LABELS) or 0) == outcomes.count("success")


def test_nested_generations_count_once(registry):
    with record_generation("text_to_3d", "relief", registry=registry):
        with record_generation("text_to_image", "diffusers", registry=registry):
            pass
        with record_generation("image_to_3d", "relief", registry=registry):
            pass
    outer = {"type": "text_to_3d", "provider": "relief", "status": "success"}
    assert registry.get_sample_value("orfeas_generations_total", outer) == 1
    assert count(registry, "success") is None
    # after the outer one ends, a new call counts again
    with record_generation("image_to_3d", "relief", registry=registry):
        pass
    assert count(registry, "success") == 1


def test_metrics_are_created_once_per_registry(registry):
    first = metrics(registry)
    assert metrics(registry) is first  # re-running a cell: no "Duplicated timeseries"
    assert monitoring.metrics(registry) is first
    assert metrics(CollectorRegistry()) is not first
    assert metrics() is metrics(REGISTRY)


def test_metrics_created_from_many_threads_at_once(registry):
    found = []
    threads = [threading.Thread(target=lambda: found.append(metrics(registry))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(m) for m in found}) == 1


def test_job_gauges(registry):
    set_job_counts(running=1, waiting=4, registry=registry)
    assert registry.get_sample_value("orfeas_jobs_in_progress") == 1
    assert registry.get_sample_value("orfeas_job_queue_length") == 4


def test_generation_ignores_results_without_a_manifest():
    generation = Generation()
    generation.observe("an image")
    generation.observe(FakeModel({"load": "slow"}, 2.5))
    assert (generation.stages, generation.triangles) == ({}, None)


def default_count(status, **labels):
    return REGISTRY.get_sample_value("orfeas_generations_total", {**LABELS, **labels, "status": status}) or 0


def test_api_records_each_call_with_the_method_as_provider():
    before = default_count("success"), default_count("failed")
    unknown = default_count("failed", provider="unknown")
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=20)
    with pytest.raises(InvalidInput):
        orfeas_nb.image_to_3d(b"not an image")
    with pytest.raises(InvalidInput):
        orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), method="no such method " * 10)
    assert (default_count("success"), default_count("failed")) == (before[0] + 1, before[1] + 1)
    assert default_count("failed", provider="unknown") == unknown + 1
    triangles = REGISTRY.get_sample_value("orfeas_mesh_triangles_sum", LABELS)
    assert triangles >= len(model.mesh.faces)


def test_decorator_with_fixed_provider_and_bad_arguments():
    calls = []

    @recorded("text_to_image", provider="fake")
    def make(prompt, *, steps=1):
        calls.append((prompt, steps))
        return prompt

    @recorded("text_to_3d", provider=lambda args: args["method"][:8])
    def make_3d(prompt, *, method="a"):
        return prompt

    labels = {"type": "text_to_image", "provider": "fake", "status": "success"}
    before = REGISTRY.get_sample_value("orfeas_generations_total", labels) or 0
    assert make("owl", steps=2) == "owl"
    assert REGISTRY.get_sample_value("orfeas_generations_total", labels) == before + 1
    assert make.__name__ == "make" and calls == [("owl", 2)]
    with pytest.raises(TypeError):
        make_3d()  # missing prompt: the function's own error, nothing recorded
    assert make_3d("x", method="b") == "x"
    labels_unknown = {"type": "text_to_3d", "provider": "unknown", "status": "success"}
    unknown_before = REGISTRY.get_sample_value("orfeas_generations_total", labels_unknown) or 0
    assert make_3d("x", method=None) == "x"  # the label function fails (None["..."]): counted as "unknown"
    labels_b = {"type": "text_to_3d", "provider": "b", "status": "success"}
    assert REGISTRY.get_sample_value("orfeas_generations_total", labels_b) == 1
    assert REGISTRY.get_sample_value("orfeas_generations_total", labels_unknown) == unknown_before + 1


def test_recording_is_skipped_without_prometheus_client(no_prometheus):
    with record_generation("image_to_3d", "relief") as generation:
        generation.observe(FakeModel({"mesh": 1.0}, 10))
    set_job_counts(running=1, waiting=1)  # no error either
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("shapes"), quality=1, size_mm=20)
    assert len(model.mesh.faces) > 0


def test_a_broken_setting_never_stops_a_generation(registry, monkeypatch, caplog):
    from orfeas_nb.monitoring import record

    monkeypatch.setattr(record, "_watcher", None)
    monkeypatch.setenv("ORFEAS_METRICS_INTERVAL", "often")
    with record_generation("image_to_3d", "relief", registry=registry):
        done = True
    assert done and count(registry, "success") is None
    assert "ORFEAS_METRICS_INTERVAL" in caplog.text


def test_a_failure_while_recording_keeps_the_outcome(registry, monkeypatch, caplog):
    from orfeas_nb.monitoring import record

    def broken(*args):
        raise OSError("metrics folder is gone")

    monkeypatch.setattr(record, "_finish", broken)
    with record_generation("image_to_3d", "relief", registry=registry):
        pass
    with pytest.raises(InvalidInput, match="bad"), record_generation("image_to_3d", "relief", registry=registry):
        raise InvalidInput("bad")
    assert caplog.text.count("could not record a generation: metrics folder is gone") == 2


def test_export_time_is_a_stage_of_the_models_generation(tmp_path):
    export = {"type": "image_to_3d", "provider": "relief", "stage": "export"}
    before = REGISTRY.get_sample_value("orfeas_stage_duration_seconds_count", export) or 0
    model = orfeas_nb.image_to_3d(orfeas_nb.samples.path("logo"), quality=1, size_mm=20)
    model.export(tmp_path / "logo.stl")
    assert REGISTRY.get_sample_value("orfeas_stage_duration_seconds_count", export) == before + 1
    orfeas_nb.Model3D(model.mesh, {}).export(tmp_path / "bare.stl")  # a hand-made model: nothing to label
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OrfeasError):
        model.export(tmp_path / "a-file" / "x.stl")  # a failed export is not timed
    assert REGISTRY.get_sample_value("orfeas_stage_duration_seconds_count", export) == before + 1
