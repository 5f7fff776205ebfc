"""DNLS: differentiable non-local patch operations on video, for PyTorch.

Two APIs over one library (libDNLSC.so, the DNLS Swift library's C ABI):

* ``dnls.ops`` — functional operators, each a ``torch.library`` custom op with autograd, a
  fake-tensor shape function (``torch.compile(fullgraph=True)``) and no host synchronisation on
  CUDA (CUDA-graph capture): ``search``, ``scatter``, ``gather``, ``wpsum``, ``unfold``,
  ``fold``; and ``dnls.nn``, ``torch.nn.Module`` wrappers and a non-local aggregation block.
* The original dnls's classes, same module and class names and signatures, so existing code
  runs unchanged: ``dnls.search.SearchNl``, ``dnls.xsearch.CrossSearchNl``,
  ``dnls.scatter.ScatterNl``, ``dnls.gather.GatherNl``, ``dnls.fold.Fold``,
  ``dnls.unfold.Unfold``, ``dnls.ifold.iFold``, ``dnls.iunfold.iUnfold``,
  ``dnls.wpsum.WeightedPatchSum`` and ``dnls.utils.inds``; COMPATIBILITY.md lists where they
  deliberately differ (exact, deterministic gradients; zero flow by default).
"""

import importlib as _importlib

__version__ = "0.1.0"

from . import ops, nn  # noqa: E402,F401

_ORIGINAL_MODULES = ("search", "xsearch", "scatter", "gather", "fold", "unfold", "ifold", "iunfold",
                     "wpsum", "utils", "simple")


def __getattr__(name):
    # The original API's modules load on first use, as `dnls.search.SearchNl` after `import dnls`.
    if name in _ORIGINAL_MODULES:
        module = _importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_ORIGINAL_MODULES))
