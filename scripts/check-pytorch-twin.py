#!/usr/bin/env python3
"""Evaluates a RingTrain checkpoint with its PyTorch twin (docs/models.md) on the
Fashion-MNIST test split and prints top-1, so it can be compared with `ringtrain evaluate`.

    python3 scripts/check-pytorch-twin.py CHECKPOINT [DATA_DIR]

Needs torch, safetensors and numpy (scripts/bench-vs-pytorch.sh makes a venv with torch;
`pip install safetensors` adds the rest). Not part of the test suite: the PyPI torch wheel
is about 5 GB.
"""
import gzip
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file


class FashionCNN(nn.Module):  # the twin of "fashion-cnn" / "fashion-cnn-bn" (docs/models.md)
    def __init__(self, in_channels=1, classes=10, bn=False, size=28):
        super().__init__()
        self.bn = bn
        self.conv1 = nn.Conv2d(in_channels, 32, 3, padding=1)
        if bn:
            self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        if bn:
            self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * (size // 4) * (size // 4), 128)
        self.dropout = nn.Dropout(0.25)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        x = self.conv1(x)
        if self.bn:
            x = self.bn1(x)
        x = F.max_pool2d(F.relu(x), 2)
        x = self.conv2(x)
        if self.bn:
            x = self.bn2(x)
        x = F.max_pool2d(F.relu(x), 2)
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def main():
    path = sys.argv[1]
    data_dir = sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist"
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        state = json.loads(f.metadata()["ringtrain.state"])
    model_name = state["model"]
    assert model_name in ("fashion-cnn", "fashion-cnn-bn"), f"this check knows fashion-cnn(-bn), not {model_name}"
    # The five lines of docs/models.md:
    tensors = load_file(path)
    model = FashionCNN(bn=model_name.endswith("-bn"))
    model.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(("optimizer.", "residual."))})
    model.eval()

    mean = torch.tensor(state["normalization_mean"]).view(1, -1, 1, 1)
    std = torch.tensor(state["normalization_std"]).view(1, -1, 1, 1)
    images = torch.from_numpy(read_idx(f"{data_dir}/t10k-images-idx3-ubyte.gz").copy()).float().unsqueeze(1)
    labels = torch.from_numpy(read_idx(f"{data_dir}/t10k-labels-idx1-ubyte.gz").copy()).long()
    x = (images / 255 - mean) / std
    with torch.no_grad():
        logits = torch.cat([model(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    top1 = (logits.argmax(1) == labels).float().mean().item()
    loss = F.cross_entropy(logits, labels).item()
    print(json.dumps({"checkpoint": path, "top1": top1, "loss": loss, "samples": len(labels)}))


if __name__ == "__main__":
    main()
