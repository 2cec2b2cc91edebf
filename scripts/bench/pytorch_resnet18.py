"""Times torchvision's resnet18 forward+backward in training mode (the twin of RingTrain's
resnet18): cifar stem (3x3 stride-1 conv1, no max-pool) or imagenet stem.

usage: pytorch_resnet18.py THREADS BATCH REPEATS STEM SIZE   -> prints images/s (median)
"""
import sys
import time


def main(threads, batch, repeats, stem, size):
    import torch
    import torch.nn as nn
    import torchvision

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10)
    if stem == "cifar":
        model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    model.train()
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        model.zero_grad(set_to_none=False)
        loss_fn(model(x), y).backward()

    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    print("%.2f" % (batch / times[len(times) // 2]))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
