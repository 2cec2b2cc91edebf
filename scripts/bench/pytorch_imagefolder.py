#!/usr/bin/env python3
"""PyTorch's side of scripts/bench-image-folder-training.sh: one epoch straight from a raw image
folder with torchvision's ImageFolder + DataLoader (num_workers W) and the transforms RingTrain's
run uses (RandomResizedCrop(S), RandomHorizontalFlip, ColorJitter(0.4, 0.4, 0.4), ToTensor,
Normalize), the same small CNN (conv 32 - pool - conv 64 - pool - fc 128 - fc classes), SGD.
Prints one JSON line: images, seconds (wall, from the first batch request to the end),
images_per_sec."""
import json
import sys
import time

import torch
import torch.nn as nn
import torchvision
from torchvision import transforms


def main():
    root, size, workers, threads, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), 64
    torch.set_num_threads(threads)
    t = transforms.Compose([
        transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(0.4, 0.4, 0.4), transforms.ToTensor(),
        transforms.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25])])
    data = torchvision.datasets.ImageFolder(root + "/train", transform=t)
    loader = torch.utils.data.DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers, drop_last=False)
    classes = len(data.classes)
    model = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(64 * (size // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, classes))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start, n = time.perf_counter(), 0
    for x, y in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        n += len(y)
    seconds = time.perf_counter() - start
    print(json.dumps({"images": n, "seconds": seconds, "images_per_sec": n / seconds}))


if __name__ == "__main__":
    main()
