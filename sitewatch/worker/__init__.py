"""The detector worker: cameras → pipelines → outbox → API, MQTT, webhooks (docs/worker.md).

``build_worker(site, ...)`` is the seam for tests and for ``sitewatch run``; the
``sitewatch worker`` command is a thin wrapper around it.
"""

from sitewatch.worker.service import Worker, build_worker

__all__ = ["Worker", "build_worker"]
