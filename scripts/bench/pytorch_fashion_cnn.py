"""Times PyTorch fashion-cnn forward+backward (the twin of docs/models.md), or OpenBLAS
sgemm (through numpy) on the product shapes of `ringtrain bench kernels`.

usage: pytorch_fashion_cnn.py train THREADS BATCH REPEATS   -> prints images/s (median)
       pytorch_fashion_cnn.py sgemm                          -> prints one line per product
"""
import os
import sys
import time


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def train(threads, batch, repeats):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(threads)

    class FashionCNN(nn.Module):
        def __init__(self, classes=10):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
            self.fc1 = nn.Linear(64 * 7 * 7, 128)
            self.fc2 = nn.Linear(128, classes)
            self.dropout = nn.Dropout(0.25)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = torch.flatten(x, 1)
            x = self.dropout(F.relu(self.fc1(x)))
            return self.fc2(x)

    torch.manual_seed(0)
    model = FashionCNN().train()
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        model.zero_grad(set_to_none=False)
        loss = loss_fn(model(x), y)
        loss.backward()

    for _ in range(3):
        step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print("%.1f" % (batch / median(times)))


def sgemm():
    import numpy as np

    def timed(fn, repeats=7):
        fn()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return median(ts)

    rng = np.random.default_rng(0)

    def mat(r, c):
        return rng.standard_normal((r, c), dtype=np.float32)

    n = 1024
    a, b, c = mat(n, n), mat(n, n), np.empty((n, n), np.float32)
    t = timed(lambda: np.matmul(a, b, out=c))
    print("gemm-1024 %.3f ms %.1f GFLOP/s" % (t * 1e3, 2 * n ** 3 / t / 1e9))
    batch = 128
    for name, oc, ckk, ohw in [("conv1", 32, 9, 784), ("conv2", 64, 288, 196)]:
        w, col, dout = mat(oc, ckk), mat(ckk, ohw), mat(oc, ohw)
        out, dcol, dw = np.empty((oc, ohw), np.float32), np.empty((ckk, ohw), np.float32), np.empty((oc, ckk), np.float32)
        flops = 2.0 * batch * oc * ckk * ohw
        wt, colt = w.T, col.T
        for kind, fn in [("forward", lambda: np.matmul(w, col, out=out)),
                         ("backward-data", lambda: np.matmul(wt, dout, out=dcol)),
                         ("backward-weights", lambda: np.matmul(dout, colt, out=dw))]:
            def run(fn=fn):
                for _ in range(batch):
                    fn()
            t = timed(run)
            print("%s-%s %.3f ms %.1f GFLOP/s" % (name, kind, t * 1e3, flops / t / 1e9))


if __name__ == "__main__":
    if sys.argv[1] == "train":
        train(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sgemm()
