"""Training data and training runs for the structure model.

- :mod:`detector.training.dataset` writes a YOLO-format dataset (``data.yaml``,
  ``images/``, ``labels/``) from synthetic scenes and from reviewed evidence folders.
- :mod:`detector.training.evidence` reads reviewed evidence folders (``review.json``).
- :mod:`detector.training.train` trains and exports with ultralytics, offline.
"""
