"""Batch runs of a notebook over a parameter grid or list, on Dask (``orfeas batch``).

Example::

    from orfeas_nb import batch
    result = batch.run("notebooks/image_to_3d.ipynb", "sweep.yaml", "runs/", workers=2)
    result.failed   # [] when every run finished

Modules: :mod:`.params` (parameter files, run ids), :mod:`.execute` (one papermill run, on a worker),
:mod:`.warm_kernels` (its kernel, forked from a preloaded server), :mod:`.store` (run folders and the
summary), :mod:`.cluster` (the Dask client and local workers), :mod:`.forks` (the preloaded fork servers both
fork from), :mod:`.runner` (the batch itself).
"""

from .params import expand, read_params_file, run_id
from .runner import BatchResult, run

__all__ = ["BatchResult", "expand", "read_params_file", "run", "run_id"]
