"""One-call versions of the original dnls's ``simple`` reference functions."""

from . import search

__all__ = ["search"]
