"""The Studio in JupyterLab: panels, the pythreejs mesh view and the :class:`Studio` controller.

Importing this package imports ipywidgets and pythreejs; ``import orfeas_nb`` does not.
"""

from .studio import Studio
from .view import MeshView, mesh_view, preview_arrays

__all__ = ["MeshView", "Studio", "mesh_view", "preview_arrays"]
