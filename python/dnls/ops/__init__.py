"""Functional non-local patch operators on video.

Every operator is a ``torch.library`` custom op in the ``dnls`` namespace (``torch.ops.dnls.*``)
with a fake-tensor shape function and autograd (its backward itself a custom op), so it works
under ``torch.compile(fullgraph=True)``, CUDA-graph capture and ``torch.autograd.gradcheck``.

Videos are ``(B, T, C, H, W)`` or ``(T, C, H, W)``; float32 on the CPU or CUDA, float64 on the
CPU. Positions are int32 ``(t, h, w)`` triples (other integer types are converted). Every
operator takes the patch geometry keywords ``patch_size``, ``dilation=1``, ``anchor="center"``
(or ``"top_left"``) and ``border="reflect"`` (or ``"zero"``); operators that take patches read
``patch_size`` from their shape.

* :func:`search` — k-nearest-neighbour patch search (differentiable in the videos);
* :func:`scatter` / :func:`gather` — patches at neighbour indices, and their adjoint;
* :func:`wpsum` — weighted sum of neighbour patches;
* :func:`unfold` / :func:`fold` — patches of a :class:`QueryGrid`, and their adjoint;
* :func:`checking` / :func:`synchronize` — deferred input checks on CUDA.

On CUDA every call runs on torch's current stream and takes its temporaries from torch's caching
allocator (no host synchronisation except the few bytes of eager input checking). To capture a
CUDA graph, run the same calls once before capturing (the library builds small per-geometry
tables on first use, and the workspace plans get cached); inside the capture the input checks
are deferred, and :func:`synchronize` after a replay reports a bad index.

Bad arguments raise ``ValueError`` naming the argument; a failed allocation raises
``torch.OutOfMemoryError``; other library failures raise ``RuntimeError``.
"""

from .._lib import checking, synchronize
from ._folds import fold, unfold
from ._grid import QueryGrid
from ._patches import gather, scatter, wpsum
from ._search import search

__all__ = ["QueryGrid", "search", "scatter", "gather", "wpsum", "unfold", "fold", "checking", "synchronize"]
