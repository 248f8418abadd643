"""A batch's init, segment and finish functions lowered over several devices (the candidate axis sharded)."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P


def lower_sharded(devices: list[jax.Device], init_fn: Callable[..., Any], segment_fn: Callable[..., Any],
                  finish_fn: Callable[..., Any], shapes: tuple[Any, ...]) -> dict[str, jax.stages.Lowered]:
    """The three functions shard-mapped over ``devices`` (axis "c") and lowered for ``shapes``."""
    values, lanes, reals, real, extra = shapes
    first = jax.ShapeDtypeStruct((), jnp.int32)
    mesh = Mesh(np.array(devices), ("c",))
    spec = NamedSharding(mesh, P("c"))
    rep = NamedSharding(mesh, P())

    def smap(f: Callable[..., Any], ins: tuple[Any, ...], outs: Any) -> Any:
        return jax.shard_map(f, mesh=mesh, in_specs=ins, out_specs=outs, check_vma=False)

    init = jax.jit(smap(init_fn, (P("c"), P("c"), P("c")), P("c")), in_shardings=(spec, spec, spec))
    state = jax.eval_shape(init, values, lanes, reals)
    seg = jax.jit(smap(segment_fn, (P("c"), P("c"), P()), P("c")), in_shardings=(spec, spec, rep), donate_argnums=0)
    fin = jax.jit(smap(finish_fn, (P("c"), P("c"), P("c")), P("c")), in_shardings=(spec, spec, spec))
    return {"init": init.lower(values, lanes, reals), "segment": seg.lower(state, values, first),
            "finish": fin.lower(state, real, extra)}
