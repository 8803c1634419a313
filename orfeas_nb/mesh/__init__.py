"""Weight-free geometry: images and arrays to watertight meshes in millimetres, and meshes to files.

Pure numpy/scipy/scikit-image/trimesh; never imports torch. Each image→3D method is a
:class:`~orfeas_nb.mesh.methods.MeshMethod` in :data:`~orfeas_nb.mesh.methods.METHODS`.
"""
