"""``minigrad.compile``: PyTorch's ``torch.compile`` as a teaching engine can honour it.

torch.compile traces a model into graphs and generates fused kernels. minigrad
has no compiler: ``compile(model)`` checks torch's arguments and returns the
model (or function) itself, which runs eagerly, so programs written for
torch.compile run unchanged. Both decorator forms work:

    @minigrad.compile                        @minigrad.compile(mode="max-autotune")
    def f(x): ...                            def g(x): ...
"""
MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
# torch._dynamo.list_backends(exclude_tags=()) minus its testing-only entries.
BACKENDS = ("inductor", "eager", "aot_eager", "aot_eager_decomp_partition", "aot_eager_default_partitioner",
            "aot_ts", "cudagraphs", "eager_debug", "eager_noexcept", "invoke_subgraph", "openxla",
            "openxla_eval", "pre_dispatch_eager", "ts", "tvm")


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None,  # noqa: A001
            options=None, name=None, disable=False, recompile_limit=None, isolate_recompiles=False,
            shapes_spec=None):
    """Return `model` itself (it runs eagerly); without `model`, a decorator that does so."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the "
                           "same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"compile(): options must be a dict, got {type(options).__name__}")
    if backend is not None and not callable(backend) and backend not in BACKENDS:
        raise RuntimeError(f"Invalid backend: {backend!r}, see `minigrad.eager_compile.BACKENDS` for "
                           f"available backends.")
    if model is None:
        def decorator(function):
            return compile(function, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
        return decorator
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
