"""Simulator entry point for `--provider gridx` (price_server.make_api)."""

from .gridx_server import make  # noqa: F401
