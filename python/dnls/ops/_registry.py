"""The ``dnls`` operator library: each operator's schema, CPU and CUDA kernel, fake kernel and
autograd, registered with torch's dispatcher.

The registration uses ``torch.library.Library`` directly (one Python kernel per dispatch key)
rather than ``torch.library.custom_op``, whose wrapper layers (argument re-packing, an autograd
function generated per call, aliasing checks) cost several times the library call itself. The
result is the same kind of operator: ``torch.ops.dnls.<name>`` with a schema, a fake-tensor
kernel for ``torch.compile``, and an autograd kernel, which ``torch.library.opcheck`` checks.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

LIBRARY = torch.library.Library("dnls", "DEF")

# Runs the enclosed calls below the autograd dispatch keys (what an autograd kernel does to reach
# the operator's own kernel); the same guard torch's custom operators use.
_below_autograd = torch._C._AutoDispatchBelowAutograd


def define(schema: str, kernel: Callable, fake: Callable) -> torch._ops.OpOverload:
    """Defines ``dnls::<schema>`` with ``kernel`` for CPU and CUDA tensors and ``fake`` for fake
    and meta tensors; returns the operator (``torch.ops.dnls.<name>.default``)."""
    name = schema.split("(", 1)[0]
    LIBRARY.define(schema)
    LIBRARY.impl(name, kernel, "CPU")
    LIBRARY.impl(name, kernel, "CUDA")
    torch.library.register_fake(f"dnls::{name}", fake, lib=LIBRARY)
    return getattr(torch.ops.dnls, name).default


def _any_requires_grad(*args) -> bool:
    return any(isinstance(arg, Tensor) and arg.requires_grad for arg in args)


# torch's own test (in C) where it has one.
_requires_grad = getattr(torch._C, "_any_requires_grad", _any_requires_grad)


def _needs_grad(args) -> bool:
    return torch.is_grad_enabled() and _requires_grad(*args)


def call(op: torch._ops.OpOverload, *args):
    """Calls ``op`` as the public functions do: with a gradient to track, or while tracing,
    through the whole dispatcher; otherwise straight below the autograd keys, which is what the
    autograd kernel would do next (one Python kernel instead of two on the way, about 6 µs)."""
    if torch.compiler.is_compiling() or _needs_grad(args):
        return op(*args)
    with _below_autograd():
        return op(*args)


def differentiable(op: torch._ops.OpOverload, setup: Callable, backward: Callable) -> None:
    """Registers the autograd kernel of ``op``: ``setup(ctx, inputs, output)`` saves what the
    backward needs, ``backward(ctx, *output_gradients)`` returns one gradient (or ``None``) per
    input. Without a gradient to track, a call goes straight to the operator's kernel."""

    def forward(ctx, *args):
        with _below_autograd():
            output = op(*args)
        setup(ctx, args, output)
        return output

    function = type(f"{op._opname}_autograd", (torch.autograd.Function,),
                    {"forward": staticmethod(forward), "backward": staticmethod(backward)})

    def kernel(*args):
        if _needs_grad(args):
            return function.apply(*args)
        with _below_autograd():
            return op(*args)

    LIBRARY.impl(op._opname, kernel, "Autograd")


def backward_only(op: torch._ops.OpOverload, forward_name: str) -> None:
    """Registers the autograd kernel of a backward operator, which is not differentiable itself:
    it runs as usual, and differentiating through it (a double backward) raises."""

    def refuse(ctx, *gradients):
        raise RuntimeError(f"dnls.{forward_name}: the backward is not differentiable (no double backward)")

    differentiable(op, lambda ctx, inputs, output: None, refuse)
