"""Large models: ``initlab.init`` vs the fill floor per size, memory peaks, seed checkpoints and
sharded timings per world size.

    python benchmarks/bench_scale.py                        # 125m, 350m (fp32), 1 thread
    python benchmarks/bench_scale.py --size 125m,350m,1b    # adds a ~1.07B fp32 model (~4.3 GB)
    python benchmarks/bench_scale.py --size 7b --dtype bfloat16 --ckpt-sizes none --world-sizes none
    python benchmarks/bench_scale.py --size 125m,350m --ckpt-format dcp --world-sizes none
    python benchmarks/bench_scale.py --size none --world-sizes 1,2,4   # sharded timings only

Each size runs in a fresh process (so its peak RSS is its own): Llama-shaped model (the zoo's
TinyLlama: RMSNorm, RoPE, SwiGLU with 4d hidden, untied head, vocab 32 000) built on the meta
device, ``to_empty``, then, interleaved ``--repeat`` times: ``initlab.init`` (trace + plan +
write) and the floor, ``normal_`` over every parameter (the same values, dtype and memory).
Both write **in place** into the one set of parameters ``to_empty`` allocated: no second copy of
the model is ever made, so the peak is the parameters plus the largest tensor (the 7B model in
bf16, 13.4 GB, fits a 24 GiB machine; a size whose parameters do not fit in the memory available
now is refused before it starts, unless ``--no-memory-check``). Printed: parameters, plan time
(and per 24 blocks), apply time, init / floor, peak RSS minus the parameters' bytes against the
largest tensor. With ``--ckpt-sizes``: a streaming seed checkpoint of the meta model (time, peak
RSS growth, bytes written) in ``--ckpt-format`` (safetensors or dcp). Sharded:
``apply_plan_sharded`` on Shard(0) DTensors (FSDP2's layout) in W forked gloo processes, the
slowest rank's time and values drawn per rank.

``--device cuda`` runs the init-vs-floor part on a GPU and prints the fill rate in GB/s and as a
fraction of ``--bandwidth-gbs`` (the device's memory bandwidth).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import torch

SIZES: dict[str, dict[str, int]] = {
    # d, layers, heads; vocab 32 000. Params ≈ 16·d²·layers + 2·vocab·d.
    "tiny": {"d": 64, "layers": 2, "heads": 4},
    "125m": {"d": 768, "layers": 12, "heads": 12},  # 162M
    "350m": {"d": 1024, "layers": 18, "heads": 16},  # 368M
    "1b": {"d": 2048, "layers": 14, "heads": 16},  # 1.07B
    "7b": {"d": 4096, "layers": 24, "heads": 32},  # 6.7B (bf16: 13.4 GB)
}
VOCAB = 32_000


def build_meta(size: str, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    from initlab.lab.zoo import TinyLlama

    c = SIZES[size]
    with torch.device("meta"):
        m = TinyLlama(VOCAB, c["d"], c["heads"], c["layers"], 16)
    return m.to(dtype)


# CPU time of this process, not wall-clock: on a shared machine (load average ~9 on 2 cores while
# this was measured) wall-clock ratios mostly measure the neighbours. Page faults count (as
# system time); waiting for the disk does not (the checkpoint also prints its wall time).
clock = time.process_time


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (None where there is none)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def model_bytes(size: str, dtype: str) -> tuple[int, int]:
    """(bytes of all parameters, bytes of the largest one) of a size, from the meta model."""
    params = list(build_meta(size, getattr(torch, dtype)).parameters())
    sizes = [q.numel() * q.element_size() for q in params]
    return sum(sizes), max(sizes)


def measure_size(size: str, dtype: str = "float32", repeat: int = 3, device: str = "cpu",
                 ckpt_dir: str | None = None,
                 ckpt_format: str = "safetensors") -> dict[str, Any]:  # fmt: skip
    """One size, in this process: times, ratio to the floor, peak RSS over the parameters.
    Every fill (the floor's ``normal_`` and ``initlab.apply_plan``) writes in place into the
    parameters ``to_empty`` allocated once."""
    import initlab
    from initlab.scale.checkpoint import write_seed_checkpoint

    dt = getattr(torch, dtype)
    x = torch.zeros(1, 8, dtype=torch.long)
    out: dict[str, Any] = {"size": size, "dtype": dtype, "device": device,
                           "threads": torch.get_num_threads()}  # fmt: skip
    initlab.plan(build_meta("tiny"), x)  # warm: imports, activation moments
    if ckpt_dir is not None:  # the checkpoint first, while the process holds no model
        tiny = build_meta("tiny", dt)  # warm: the writer's imports (DCP's) and code paths
        write_seed_checkpoint(tiny, initlab.plan(tiny, x), ckpt_dir + "-warm", seed=0,
                              overwrite=True, format=ckpt_format)  # fmt: skip
        meta = build_meta(size, dt)
        p = initlab.plan(meta, x)
        base = _rss()
        t0, w0 = clock(), time.perf_counter()
        ck = write_seed_checkpoint(meta, p, ckpt_dir, seed=0, overwrite=True,
                                   format=ckpt_format)  # fmt: skip
        out["ckpt_s"] = clock() - t0
        out["ckpt_wall_s"] = time.perf_counter() - w0
        out["ckpt_bytes"] = ck.total_bytes
        out["ckpt_files"] = len(ck.files)
        out["ckpt_rss_growth"] = _rss() - base
        out["ckpt_largest_materialized"] = ck.largest_materialized_bytes
        out["ckpt_format"] = ck.format
    base = _rss()
    t0 = clock()
    model = build_meta(size, dt)
    out["meta_build_s"] = clock() - t0
    params = list(model.parameters())
    n = sum(q.numel() for q in params)
    out["params"] = n
    out["param_bytes"] = n * torch.empty((), dtype=dt).element_size()
    out["largest_tensor_bytes"] = max(q.numel() for q in params) * out["param_bytes"] // n
    t0 = clock()
    model.to_empty(device=device)
    out["to_empty_s"] = clock() - t0
    params = list(model.parameters())
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def floor() -> None:  # in place: the same storage apply_plan writes, no second buffer
        with torch.no_grad():
            for q in params:
                q.normal_(0.0, 0.02)
        sync()

    t0 = clock()
    floor()  # first touch of the to_empty'd pages, timed apart (page faults)
    out["first_touch_fill_s"] = clock() - t0
    plans, applies, inits, floors = [], [], [], []
    for _ in range(repeat):  # interleaved, so drifts of a shared machine hit both alike
        t0 = clock()
        p = initlab.plan(model, x)
        plans.append(clock() - t0)
        t0 = clock()
        initlab.apply_plan(model, p, seed=0)
        sync()
        applies.append(clock() - t0)
        inits.append(plans[-1] + applies[-1])
        t0 = clock()
        floor()
        floors.append(clock() - t0)
    med = statistics.median
    out.update(plan_s=med(plans), apply_s=med(applies), init_s=med(inits), floor_s=med(floors))
    out["plan_s_per_24_blocks"] = out["plan_s"] * 24 / SIZES[size]["layers"]
    out["init_over_floor"] = out["init_s"] / out["floor_s"]
    out["apply_over_floor"] = out["apply_s"] / out["floor_s"]
    out["fill_gbs"] = out["param_bytes"] / out["apply_s"] / 1e9
    if device == "cpu":
        out["peak_rss_over_params"] = _rss() - base - out["param_bytes"]
    else:
        out["peak_cuda_over_params"] = torch.cuda.max_memory_allocated() - out["param_bytes"]
    return out


def _shard_worker(rank: int, world: int, store: str, size: str, result_dir: str) -> None:
    import torch.distributed as dist
    from torch.distributed.device_mesh import DeviceMesh
    from torch.distributed.tensor import DTensor, Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    import initlab
    from initlab.scale import apply_plan_sharded

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        mesh = DeviceMesh("cpu", list(range(world)))
        model = build_meta(size)
        p = initlab.plan(model, torch.zeros(1, 8, dtype=torch.long))
        for mod in model.modules():
            for name, q in list(mod.named_parameters(recurse=False)):
                shape, _ = compute_local_shape_and_global_offset(q.shape, mesh, [Shard(0)])
                d = DTensor.from_local(torch.empty(shape), mesh, [Shard(0)], run_check=False,
                                       shape=q.shape, stride=q.stride())  # fmt: skip
                setattr(mod, name, torch.nn.Parameter(d))
        dist.barrier()
        t0 = clock()
        stats = apply_plan_sharded(model, p, seed=0)
        elapsed = clock() - t0
        dist.barrier()
        with open(os.path.join(result_dir, f"{rank}.json"), "w") as f:
            json.dump({"s": elapsed, **stats.to_dict()}, f)
    finally:
        dist.destroy_process_group()


def sharded_timings(size: str, worlds: list[int]) -> list[dict[str, Any]]:
    import torch.distributed.tensor  # noqa: F401  (imported once, before the fork)
    import torch.multiprocessing as mp

    rows = []
    for w in worlds:
        with tempfile.TemporaryDirectory() as d:
            mp.start_processes(_shard_worker, args=(w, d + "/store", size, d), nprocs=w,
                               join=True, start_method="fork")  # fmt: skip
            res = [json.load(open(os.path.join(d, f"{r}.json"))) for r in range(w)]
        rows.append({"world": w, "slowest_rank_s": max(r["s"] for r in res),
                     "generated_per_rank": max(r["generated_values"] for r in res),
                     "local_per_rank": max(r["local_values"] for r in res)})  # fmt: skip
    return rows


def _subprocess(args: list[str]) -> dict[str, Any]:
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                       check=False)  # fmt: skip
    if r.returncode:
        raise SystemExit(f"bench_scale {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="125m,350m", help=f"comma list of {', '.join(SIZES)}")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--bandwidth-gbs", type=float, default=None,
                    help="the device's memory bandwidth, for the fill-rate fraction")
    ap.add_argument("--ckpt-sizes", default="125m,350m",
                    help="sizes to also write as a seed checkpoint ('none': skip)")
    ap.add_argument("--ckpt-format", default="safetensors", choices=("safetensors", "dcp"))
    ap.add_argument("--world-sizes", default="1,2,4", help="sharded timings ('none': skip)")
    ap.add_argument("--no-memory-check", action="store_true",
                    help="run a size even if its parameters exceed the memory available now")
    ap.add_argument("--shard-size", default="125m")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: one size, print JSON
    ap.add_argument("--ckpt-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.one:
        res = measure_size(args.one, args.dtype, args.repeat, args.device, args.ckpt_dir,
                           args.ckpt_format)  # fmt: skip
        print(json.dumps(res))
        return
    sizes = [] if args.size == "none" else args.size.split(",")
    ckpts = set() if args.ckpt_sizes == "none" else set(args.ckpt_sizes.split(","))
    print(f"bench_scale: {args.threads} thread(s), {args.device}, {args.dtype}, "
          f"median of {args.repeat} interleaved runs (≤ 2 for 1b/7b), CPU seconds")
    for size in sizes:
        if size not in SIZES:
            raise SystemExit(f"bench_scale: --size {size!r}: use {', '.join(SIZES)} or none")
        need, largest = model_bytes(size, args.dtype)
        avail = _available_bytes()
        # the run holds the parameters plus at most the largest tensor, plus ~0.5 GiB of torch
        if (args.device == "cpu" and avail is not None and not args.no_memory_check
                and need + largest + 2**29 > avail):
            raise SystemExit(
                f"bench_scale: {size} in {args.dtype} needs {need / 2**30:.1f} GiB of parameters "
                f"+ {largest / 2**30:.2f} GiB (largest tensor) + ~0.5 GiB, but only "
                f"{avail / 2**30:.1f} GiB is available now; free memory or pass "
                "--no-memory-check")
        reps = min(args.repeat, 2) if size in ("1b", "7b") else args.repeat
        extra = ["--repeat", str(reps), "--threads", str(args.threads), "--dtype", args.dtype,
                 "--device", args.device, "--ckpt-format", args.ckpt_format]  # fmt: skip
        with tempfile.TemporaryDirectory() as d:
            if size in ckpts:
                extra += ["--ckpt-dir", d + "/ckpt"]
            r = _subprocess(["--one", size, *extra])
        print(f"{size}: {r['params'] / 1e6:,.0f}M params ({r['param_bytes'] / 1e9:.2f} GB); "
              f"meta build {r['meta_build_s']:.3f} s, first fill after to_empty "
              f"{r['first_touch_fill_s']:.3f} s")
        print(f"  plan {r['plan_s']:.3f} s ({r['plan_s_per_24_blocks']:.3f} s per 24 blocks), "
              f"apply {r['apply_s']:.3f} s, init {r['init_s']:.3f} s, floor {r['floor_s']:.3f} s")
        print(f"  init / floor {r['init_over_floor']:.3f}   apply / floor "
              f"{r['apply_over_floor']:.3f}   fill {r['fill_gbs']:.2f} GB/s")
        if args.bandwidth_gbs:
            print(f"  fill rate / bandwidth {r['fill_gbs'] / args.bandwidth_gbs:.1%}")
        if "peak_rss_over_params" in r:
            over, big = r["peak_rss_over_params"], r["largest_tensor_bytes"]
            print(f"  peak RSS − parameters: {over / 2**20:,.0f} MiB (largest tensor "
                  f"{big / 2**20:,.0f} MiB: bound {'met' if over <= big else 'NOT met'})")
        if "ckpt_s" in r:
            print(f"  seed checkpoint ({r['ckpt_format']}): {r['ckpt_s']:.2f} s CPU "
                  f"({r['ckpt_wall_s']:.2f} s wall) "
                  f"for {r['ckpt_bytes'] / 1e9:.2f} GB in "
                  f"{r['ckpt_files']} file(s), peak RSS growth "
                  f"{r['ckpt_rss_growth'] / 2**20:,.0f} MiB (largest tensor in memory "
                  f"{r['ckpt_largest_materialized'] / 2**20:,.0f} MiB)")
    if args.world_sizes != "none":
        worlds = [int(w) for w in args.world_sizes.split(",")]
        print(f"sharded apply_plan_sharded, {args.shard_size}, Shard(0), gloo, 1 thread/rank "
              "(CPU seconds of the slowest rank):")
        for row in sharded_timings(args.shard_size, worlds):
            print(f"  world {row['world']}: slowest rank {row['slowest_rank_s']:.3f} s, "
                  f"drew {row['generated_per_rank'] / 1e6:,.1f}M values for a "
                  f"{row['local_per_rank'] / 1e6:,.1f}M-value shard")


if __name__ == "__main__":
    main()
