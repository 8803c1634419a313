"""The learned-model engine: torch, diffusers and transformers. Arrays and images in, arrays and images out.

- :mod:`.device` picks the device and dtype, reports memory and maps out-of-memory onto ``OutOfResources``.
- :mod:`.models` resolves a model (hub id or ``save_pretrained`` folder) and caches loaded pipelines.
- :mod:`.progress` is the progress/cancel hook every generator takes: ``callback(step, total)`` and a
  ``threading.Event`` that cancels within one step.
- :mod:`.text_to_image`, :mod:`.depth` and :mod:`.shap_e` run the models.

Nothing here imports torch at module import time, and nothing imports ``orfeas_nb.mesh``, monitoring
or widgets.
"""
