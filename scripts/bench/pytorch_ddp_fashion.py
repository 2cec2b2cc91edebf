#!/usr/bin/env python3
"""PyTorch DDP (gloo) on fashion-cnn, Fashion-MNIST, for scripts/bench-train-vs-ddp.sh.

    python3 pytorch_ddp_fashion.py NPROC THREADS BATCH EPOCHS

Spawns NPROC processes with THREADS intra-op threads each, batch BATCH per process, SGD with
momentum 0.9 (Nesterov), weight decay 5e-4, cosine schedule with 100 warmup steps, data
already in memory as normalised tensors (no DataLoader), and prints one JSON line: images/s
over the training loop (all epochs, after 5 warm-up steps), wall seconds, test top-1.
"""
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(3136, 128)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(self.dropout(F.relu(self.fc1(x))))


def read_idx(name):
    with gzip.open(f"{DATA}/{name}", "rb") as f:
        data = f.read()
    n = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(n)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * n).reshape(dims)


def worker(rank, nproc, threads, batch, epochs, port, out):
    torch.set_num_threads(threads)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=nproc)
    torch.manual_seed(1)
    x = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").copy()).float().unsqueeze(1) / 255
    y = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").copy()).long()
    mean, std = x.mean(), x.std()
    x = (x - mean) / std
    model = nn.parallel.DistributedDataParallel(FashionCNN())
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = len(x) // (batch * nproc)
    total = steps_per_epoch * epochs
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / 100 if s < 100 else 0.5 * (1 + math.cos(math.pi * (s - 100) / max(total - 100, 1))))
    step, images, start = 0, 0, None
    t0 = time.time()
    for epoch in range(epochs):
        g = torch.Generator().manual_seed(epoch)
        perm = torch.randperm(len(x), generator=g)[rank::nproc]
        for i in range(steps_per_epoch):
            idx = perm[i * batch:(i + 1) * batch]
            if step == 5:
                start = time.time()
                images = 0
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            images += len(idx) * nproc
    elapsed = time.time() - start
    wall = time.time() - t0
    if rank == 0:
        model.eval()
        tx = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").copy()).float().unsqueeze(1) / 255
        ty = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").copy()).long()
        with torch.no_grad():
            pred = torch.cat([model((tx[i:i + 1000] - mean) / std).argmax(1) for i in range(0, len(tx), 1000)])
        top1 = (pred == ty).float().mean().item()
        with open(out, "w") as f:
            json.dump({"images_per_sec": images / elapsed, "train_seconds": wall, "test_top1": top1,
                       "steps": step, "nproc": nproc, "threads": threads, "batch": batch}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    nproc, threads, batch, epochs = (int(a) for a in sys.argv[1:5])
    out = f"/tmp/ddp-{os.getpid()}.json"
    mp.spawn(worker, args=(nproc, threads, batch, epochs, 29500 + os.getpid() % 1000, out), nprocs=nproc)
    print(open(out).read())
