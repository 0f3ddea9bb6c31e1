"""The persistent domain: units, users, cameras, detections, cases and their five-role workflow.

Nothing here knows HTTP or the site YAML: the workflow rules are plain code
(:mod:`models.workflow`), the tables SQLAlchemy 2.0 (:mod:`models.tables`), and the
services (:mod:`models.cases`, :mod:`models.ingest`, :mod:`models.scheduler`, …) take a
session, an actor and an injected clock. Importing this package imports no SQLAlchemy.
"""
