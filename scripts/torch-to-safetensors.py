#!/usr/bin/env python3
"""Converts PyTorch weights to a safetensors file RingTrain's `init_from` reads.

  torch-to-safetensors.py IN.pth OUT.safetensors
  torch-to-safetensors.py --torchvision resnet18 OUT.safetensors   # torchvision's ImageNet weights (downloads them)

IN.pth may hold a state_dict, a {"state_dict": ...} / {"model": ...} checkpoint, or a whole
nn.Module. DDP's "module." prefix is kept (RingTrain strips it). Needs torch (and torchvision
for --torchvision) and safetensors, e.g. `pip install torch torchvision safetensors`.
"""
import sys

import torch
from safetensors.torch import save_file


def state_dict_of(obj):
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        for key in ("state_dict", "model", "model_state_dict"):
            if key in obj and isinstance(obj[key], dict):
                return obj[key]
        return obj
    raise SystemExit("%r is not a state_dict or module" % type(obj))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--torchvision":
        import torchvision
        model = getattr(torchvision.models, sys.argv[2])(weights="DEFAULT")
        sd, out = model.state_dict(), sys.argv[3]
    elif len(sys.argv) == 3:
        sd, out = state_dict_of(torch.load(sys.argv[1], map_location="cpu", weights_only=False)), sys.argv[2]
    else:
        raise SystemExit(__doc__)
    tensors = {k: v.detach().contiguous() for k, v in sd.items() if isinstance(v, torch.Tensor)}
    save_file(tensors, out)
    print("wrote %d tensors to %s" % (len(tensors), out))


if __name__ == "__main__":
    main()
