"""Simulator entry point for `--provider openadr3` (price_server.make_api)."""

from .openadr3_server import make  # noqa: F401
