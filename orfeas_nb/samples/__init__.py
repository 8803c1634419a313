"""Sample images made by this project (CC0-1.0, see LICENSE.txt here), for the demo, docs and tests.

- ``shapes``: grey drawn shapes on white (relief, lithophane)
- ``logo``: a two-colour mark with a hole, on a transparent background (extrude, inflate)
- ``scene``: a photo-like shaded scene with soft light and texture (relief, lithophane)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

NAMES = ("shapes", "logo", "scene")


def path(name: str) -> Path:
    """The file path of a bundled sample image.

    >>> path("logo").name
    'logo.png'
    """
    if name not in NAMES:
        from ..errors import InvalidInput

        raise InvalidInput(f"no sample named {name!r}; samples are: {', '.join(NAMES)}")
    return Path(str(resources.files(__name__).joinpath(f"{name}.png")))
