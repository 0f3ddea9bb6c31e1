"""The ASGI factory uvicorn's workers call: ``sitewatch.asgi:app`` with ``factory=True``.
Each process builds its own engine and services from ``$SITEWATCH_CONFIG``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI


def app() -> FastAPI:
    from api.app import create_app
    from sitewatch.apiconfig import load_settings

    config = os.environ.get("SITEWATCH_CONFIG")
    if not config:
        raise RuntimeError(
            "SITEWATCH_CONFIG is not set: start the API with sitewatch api --config FILE"
        )
    return create_app(load_settings(config))
