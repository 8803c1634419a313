"""Fuzzing: whatever the bytes, arrays, numbers, prompts and options, nothing but ``OrfeasError`` escapes.

Over 10,000 generated examples in all: mutated and forged image files, arbitrary arrays, parameters and
prompts through validation, and small random images with random (in and out of range) options through
every mesh method, each of which must end in a watertight model or an ``OrfeasError``.
"""

from __future__ import annotations

import collections
import io
import math
import struct
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

import orfeas_nb
from orfeas_nb.errors import OrfeasError
from orfeas_nb.mesh.methods import METHODS
from orfeas_nb.mesh.options import parse_option_text, resolve_options
from orfeas_nb.validation import check_number, load_image, validate_prompt
from tests.security.corpus import raw_png

pytestmark = [pytest.mark.security, pytest.mark.slow]

EXAMPLES = collections.Counter()  # examples actually run, per test: the total is asserted at the end


def fuzz(examples: int):
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


def _seed_files() -> list[bytes]:
    rng = np.random.default_rng(5)
    rgba = rng.integers(0, 255, (9, 11, 4), dtype=np.uint8)
    seeds = []
    for fmt, array in (("PNG", rgba), ("JPEG", rgba[..., :3]), ("GIF", rgba[..., 0]), ("WEBP", rgba),
                       ("BMP", rgba[..., :3]), ("TIFF", rgba), ("PNG", rgba[..., 0].astype(np.uint16) * 99)):
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format=fmt)
        seeds.append(buffer.getvalue())
    return seeds


SEEDS = _seed_files()


@st.composite
def mutated_files(draw) -> bytes:
    """A valid small image, then truncated, overwritten, spliced or extended, a few times over."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "delete", "duplicate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip":
            if data:
                data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[at:at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


@st.composite
def forged_pngs(draw) -> bytes:
    """PNG chunks built by hand: any dimensions, bit depth, colour type, interlace and payload."""
    width = draw(st.one_of(st.integers(0, 40), st.integers(0, 2**31 - 1)))
    height = draw(st.one_of(st.integers(0, 40), st.integers(0, 2**31 - 1)))
    ihdr = struct.pack(">IIBBBBB", width, height, draw(st.sampled_from([0, 1, 2, 4, 8, 16, 3, 7])),
                       draw(st.sampled_from([0, 2, 3, 4, 6, 1, 5])), 0, 0, draw(st.integers(0, 2)))
    extra = tuple(draw(st.lists(st.tuples(st.sampled_from([b"PLTE", b"tRNS", b"gAMA", b"iCCP", b"zTXt", b"acTL",
                                                            b"eXIf", b"sBIT"]), st.binary(max_size=40)), max_size=3)))
    png = raw_png(1, 1, raw=draw(st.binary(max_size=200)), extra=extra)
    header = struct.pack(">I", 13) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return png[:8] + header + png[33:]


def _must_be_ours(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except OrfeasError:
        return None


def _check_loaded(loaded) -> None:
    if loaded is not None:
        assert loaded.image.mode in ("L", "RGB", "RGBA")
        assert loaded.size[0] * loaded.size[1] <= orfeas_nb.config.get("max_pixels")


@fuzz(2000)
@given(mutated_files())
def _mutated(data):
    EXAMPLES["mutated files"] += 1
    _check_loaded(_must_be_ours(load_image, data))


@fuzz(1500)
@given(forged_pngs())
def _forged(data):
    EXAMPLES["forged PNG headers"] += 1
    _check_loaded(_must_be_ours(load_image, data))


MAGIC = st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"RIFF\0\0\0\0WEBP"])


@fuzz(1000)
@given(st.one_of(st.binary(max_size=64), st.builds(lambda magic, body: magic + body, MAGIC, st.binary(max_size=256))))
def _magic_then_noise(data):
    EXAMPLES["magic bytes + noise"] += 1
    _check_loaded(_must_be_ours(load_image, data))


ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.uint8, np.uint16, np.int8, np.int64, np.float16, np.float32, np.float64, np.bool_,
                           np.complex64, np.dtype("U3")]),
    shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6),
)


@fuzz(1500)
@given(st.one_of(ARRAYS, st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=5)))
def _arrays_and_objects(value):
    EXAMPLES["arrays and other objects"] += 1
    _check_loaded(_must_be_ours(load_image, value))


NUMBERS = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                    st.text(max_size=5), st.decimals(allow_nan=False), st.complex_numbers())


@fuzz(1500)
@given(NUMBERS, st.booleans())
def _numbers(value, integer):
    EXAMPLES["numeric parameters"] += 1
    result = _must_be_ours(check_number, "quality", value, 1, 10, integer=integer)
    if result is not None:
        assert 1 <= result <= 10 and math.isfinite(result)


@fuzz(1500)
@given(st.one_of(st.text(max_size=1200), st.binary(max_size=10), st.integers(), st.none()))
def _prompts(prompt):
    EXAMPLES["prompts"] += 1
    text = _must_be_ours(validate_prompt, prompt)
    if text is not None:
        assert text == text.strip() and 0 < len(text) <= orfeas_nb.config.get("max_prompt_chars")
        assert not any(ord(c) < 32 and c not in "\t\n" for c in text)


OPTION_VALUES = st.one_of(NUMBERS, st.sampled_from(["auto", "grid", "alpha", "curved", "none", ""]),
                          st.lists(st.integers(), max_size=2))


@fuzz(500)
@given(st.sampled_from(sorted(METHODS)), st.dictionaries(st.text(max_size=12) | st.sampled_from(
    [o.name for m in METHODS.values() for o in m.options]), OPTION_VALUES, max_size=4), st.text(max_size=30))
def _options(method, given_options, cli_text):
    EXAMPLES["method options and -O text"] += 1
    _must_be_ours(resolve_options, method, METHODS[method].options, given_options)
    _must_be_ours(parse_option_text, cli_text)


def _option_value(option):
    if isinstance(option.default, bool):
        return st.booleans()
    if option.choices:
        return st.sampled_from(option.choices)
    if isinstance(option.default, float):
        inside = st.floats(option.low, option.high)
    else:
        inside = st.integers(int(option.low), int(option.high))
    return st.one_of(inside, inside, st.sampled_from([option.low, option.high]), NUMBERS)


@st.composite
def mesh_requests(draw):
    method = draw(st.sampled_from(sorted(METHODS)))
    declared = METHODS[method].options
    chosen = draw(st.lists(st.sampled_from(declared), unique_by=lambda o: o.name, max_size=len(declared))) if declared else []
    options = {o.name: draw(_option_value(o)) for o in chosen}
    image = draw(hnp.arrays(np.uint8, st.tuples(st.integers(1, 20), st.integers(1, 20), st.sampled_from([1, 2, 3, 4]))
                            .map(lambda s: s[:2] if s[2] == 1 else (s if s[2] != 2 else (*s[:2], 4)))))
    quality = draw(st.one_of(st.integers(1, 2), st.sampled_from([0, 11, 2.5])))
    size_mm = draw(st.one_of(st.floats(5, 120), st.sampled_from([0.0, -1.0, 1e9, float("nan")])))
    return method, image, quality, size_mm, options


@fuzz(600)
@given(mesh_requests())
def _meshes(request):
    method, image, quality, size_mm, options = request
    EXAMPLES[f"mesh: {method}"] += 1
    model = _must_be_ours(orfeas_nb.image_to_3d, image, method=method, quality=quality, size_mm=size_mm, **options)
    if model is not None:
        assert model.report().watertight, (method, image.shape, options)
        assert np.isfinite(model.mesh.vertices).all() and model.mesh.volume > 0
        if options.get("shape") != "curved":  # a curved lithophane's size is its arc; thickness widens the chord
            assert max(model.mesh.extents[:2]) <= size_mm * 1.001  # the footprint's longest side is size_mm at most


def test_fuzz_validation_and_every_mesh_method():
    """≥ 10,000 examples; a failure prints hypothesis's minimal falsifying input."""
    for run in (_mutated, _forged, _magic_then_noise, _arrays_and_objects, _numbers, _prompts, _options, _meshes):
        started = time.perf_counter()
        run()
        print(f"{run.__name__}: {time.perf_counter() - started:.1f} s")
    print(dict(EXAMPLES), "total", sum(EXAMPLES.values()))
    assert sum(EXAMPLES.values()) >= 10_000
    assert {f"mesh: {name}" for name in METHODS} <= set(EXAMPLES), "every mesh method was fuzzed"
