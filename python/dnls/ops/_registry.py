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


# Each operator's CPU/CUDA kernel and autograd function, for the eager fast path of `call`.
_kernels: dict = {}
_functions: dict = {}


def define(schema: str, kernel: Callable, fake: Callable) -> torch._ops.OpOverload:
    """Defines ``dnls::<schema>`` with ``kernel`` for CPU and CUDA tensors and ``fake`` for fake
    and meta tensors; returns the operator (``torch.ops.dnls.<name>.default``)."""
    name = schema.split("(", 1)[0]
    LIBRARY.define(schema)
    LIBRARY.impl(name, kernel, "CPU")
    LIBRARY.impl(name, kernel, "CUDA")
    torch.library.register_fake(f"dnls::{name}", fake, lib=LIBRARY)
    op = getattr(torch.ops.dnls, name).default
    _kernels[op] = kernel
    return op


def _any_requires_grad(*args) -> bool:
    return any(isinstance(arg, Tensor) and arg.requires_grad for arg in args)


# torch's own test (in C) where it has one.
_requires_grad = getattr(torch._C, "_any_requires_grad", _any_requires_grad)


def _needs_grad(args) -> bool:
    return torch.is_grad_enabled() and _requires_grad(*args)


_PLAIN_TENSORS = (Tensor, torch.nn.Parameter)
_dispatch_modes = torch._C._len_torch_dispatch_stack
_function_modes = getattr(torch._C, "_is_torch_function_mode_enabled", lambda: True)
_profiling = getattr(torch._C._autograd, "_profiler_enabled", lambda: True)
_tracing = torch._C._get_tracing_state
_transforms = getattr(getattr(torch._C, "_functorch", None), "peek_interpreter_stack", lambda: True)


def _plain_eager(args) -> bool:
    """Whether nothing but the operator's own kernels would see this call: eager mode, no
    dispatch or torch-function mode (fake tensors, functionalisation, proxies), no functorch
    transform, no tracer or profiler, and every tensor a plain CPU or CUDA tensor."""
    if torch.compiler.is_compiling() or _dispatch_modes() or _function_modes() or _profiling() \
            or _tracing() is not None or _transforms() is not None:
        return False
    for arg in args:
        if isinstance(arg, Tensor) and (type(arg) not in _PLAIN_TENSORS or not (arg.is_cuda or arg.is_cpu)):
            return False
    return True


def call(op: torch._ops.OpOverload, *args):
    """Calls ``op`` as the public functions do. In plain eager mode (:func:`_plain_eager`) the
    dispatcher would only pass the call on to the operator's kernels, so it is skipped: the
    autograd function directly when there is a gradient to track, else the CPU/CUDA kernel
    (torch's dispatcher costs 5–13 µs a call, a third of a small operator's host time). Anything
    else (tracing, fake tensors, transforms, the profiler) goes through the whole dispatcher."""
    if _plain_eager(args):
        if _needs_grad(args):
            return _functions[op].apply(*args)
        return _kernels[op](*args)
    if torch.compiler.is_compiling() or _needs_grad(args):
        return op(*args)
    with _below_autograd():
        return op(*args)


def differentiable(op: torch._ops.OpOverload, setup: Callable, backward: Callable) -> None:
    """Registers the autograd kernel of ``op``: ``setup(ctx, inputs, output)`` saves what the
    backward needs, ``backward(ctx, *output_gradients)`` returns one gradient (or ``None``) per
    input. Without a gradient to track, a call goes straight to the operator's kernel."""

    def below_autograd(*args):
        with _below_autograd():
            return op(*args)

    def autograd_function(name: str, run: Callable) -> type:
        def forward(ctx, *args):
            output = run(*args)
            setup(ctx, args, output)
            return output

        return type(name, (torch.autograd.Function,), {"forward": staticmethod(forward),
                                                        "backward": staticmethod(backward)})

    # Through the dispatcher (below the autograd keys), for calls that came through it; and the
    # kernel itself, for `call`'s fast path, where the dispatcher would pick that kernel anyway.
    function = autograd_function(f"{op._opname}_autograd", below_autograd)
    _functions[op] = autograd_function(f"{op._opname}_autograd_direct", _kernels[op])

    def kernel(*args):
        if _needs_grad(args):
            return function.apply(*args)
        return below_autograd(*args)

    LIBRARY.impl(op._opname, kernel, "Autograd")


def backward_only(op: torch._ops.OpOverload, forward_name: str) -> None:
    """Registers the autograd kernel of a backward operator, which is not differentiable itself:
    it runs as usual, and differentiating through it (a double backward) raises."""

    def refuse(ctx, *gradients):
        raise RuntimeError(f"dnls.{forward_name}: the backward is not differentiable (no double backward)")

    differentiable(op, lambda ctx, inputs, output: None, refuse)
