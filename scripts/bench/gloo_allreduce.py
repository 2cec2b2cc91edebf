#!/usr/bin/env python3
"""gloo all-reduce of float32 on loopback, measured like `ringtrain bench allreduce`.

Spawns --nproc processes (torch.multiprocessing), each holding --size bytes of float32;
per iteration: barrier, time dist.all_reduce(SUM), and the iteration lasts as long as its
slowest rank. Prints one JSON object with the same fields as ringtrain's --json output.
"""
import argparse
import json
import os
import socket
import statistics
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank, args, port, queue):
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    os.environ["GLOO_SOCKET_IFNAME"] = "lo"
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.nproc)
    n = args.size // 4
    g = torch.Generator().manual_seed(42 + rank)
    base = torch.randn(n, generator=g) * 1e-3
    x = base.clone()
    times = []
    for i in range(args.warmup + args.iters):
        x.copy_(base)
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(x)
        t1 = time.perf_counter()
        if i >= args.warmup:
            times.append(t1 - t0)
    t = torch.tensor(times, dtype=torch.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    if rank == 0:
        queue.put([float(v) for v in t])
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--size", type=int, required=True, help="bytes of float32 per rank")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    args = ap.parse_args()
    import torch.multiprocessing as mp
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=worker, args=(r, args, port, queue)) for r in range(args.nproc)]
    for p in procs:
        p.start()
    times = queue.get(timeout=600)
    for p in procs:
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    median = statistics.median(times)
    size = (args.size // 4) * 4
    algbw = size / median / 1e9
    print(json.dumps({
        "impl": "gloo", "nproc": args.nproc, "size_bytes": size, "codec": "none",
        "median_ms": median * 1e3, "min_ms": min(times) * 1e3, "iters": args.iters,
        "algbw_gbps": algbw, "busbw_gbps": algbw * 2 * (args.nproc - 1) / args.nproc,
        "compression_ratio": 1.0,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
