"""Helpers of the original dnls: query positions (``inds``) and SAME padding (``pads``)."""

from . import inds, pads
from .inds import get_iquery_batch, get_query_batch
from .pads import comp_pads, same_padding

__all__ = ["inds", "pads", "get_query_batch", "get_iquery_batch", "comp_pads", "same_padding"]
