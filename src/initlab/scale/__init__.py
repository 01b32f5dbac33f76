"""initlab.scale: large models. Sharded initialization of DTensor / FSDP2 parameters
(:mod:`initlab.scale.sharded`) and streaming seed checkpoints
(:mod:`initlab.scale.checkpoint`). See docs/scale.md.

Both build on the model layer's randomness by name (:mod:`initlab.model.apply`): a parameter's
values depend only on (seed, its name), drawn in 2²⁰-element blocks of its flattened index space,
so any part of it can be produced alone.
"""

from initlab.scale.checkpoint import SeedCheckpoint, load_seed_checkpoint, write_seed_checkpoint
from initlab.scale.sharded import ShardStats, apply_plan_sharded, init_sharded, local_box

__all__ = [
    "SeedCheckpoint",
    "ShardStats",
    "apply_plan_sharded",
    "init_sharded",
    "load_seed_checkpoint",
    "local_box",
    "write_seed_checkpoint",
]
