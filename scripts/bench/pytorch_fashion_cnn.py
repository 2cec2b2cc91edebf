"""Times PyTorch fashion-cnn forward+backward (the twin of docs/models.md).

usage: pytorch_fashion_cnn.py train THREADS BATCH REPEATS   -> prints images/s (median)
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


if __name__ == "__main__":
    train(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
