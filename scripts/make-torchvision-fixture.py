#!/usr/bin/env python3
"""Writes Tests/TrainingTests/Fixtures/resnet18-torchvision.json: what torchvision's resnet18
computes for weights and inputs set by formulas RingTrain's test computes too (no weights are
committed). Run where PyTorch and torchvision are installed:

  python scripts/make-torchvision-fixture.py [OUT.json]

Formulas (every tensor by its state_dict name; j is the element's flat index):
  h(name)          = FNV-1a 32-bit of the UTF-8 name
  u(name, j)       = splitmix64(j * 0x9E3779B97F4A7C15 + h(name) * 0xBF58476D1CE4E5B9) >> 11, / 2^53
                     (integer arithmetic mod 2^64: the same bits in both languages), in [0, 1)
  r(name, j)       = sqrt(3) * (2 u - 1)                                (mean 0, variance 1)
  conv and fc weights: sqrt(2 / fan_in) * r (fan_in = in * kh * kw); biases: 0.1 * r
  bn weight: 1 + 0.1 * r; bn bias: 0.1 * r; running_mean: 0.05 * r; running_var: 1 + 0.2 * u
  input x (flat index i): 1.5 * r(NAME, i), NAME the first of "input", "input-1", ... for which
      every ReLU input and max-pool choice lies at least 1e-6 from its kink; labels: n % classes
Two models: stem "cifar" (conv1 3x3/1 pad 1, no max-pool) on 2 x 3 x 16 x 16, 10 classes, and
stem "imagenet" (torchvision's own) on 2 x 3 x 64 x 64, 7 classes.
Recorded: eval-mode logits; train-mode logits, the cross-entropy loss, a few gradient values,
running statistics after the step, and weights after one SGD step (lr 0.1, momentum 0.9, no
weight decay, not Nesterov).
"""
import json
import math
import sys

import numpy as np
import torch
import torchvision


def fnv(name):
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def uniform(name, n):
    """u(name, j) for j in 0..<n (numpy uint64 arithmetic wraps mod 2^64 as Swift's &* does)."""
    with np.errstate(over="ignore"):
        j = np.arange(n, dtype=np.uint64)
        z = j * np.uint64(0x9E3779B97F4A7C15) + np.uint64(fnv(name)) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return torch.from_numpy((z >> np.uint64(11)).astype(np.float64) / 2.0 ** 53)


def r(name, n):
    return math.sqrt(3) * (2 * uniform(name, n) - 1)


def fill(model):
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            n = t.numel()
            if name.endswith("running_mean"):
                v = 0.05 * r(name, n)
            elif name.endswith("running_var"):
                v = 1 + 0.2 * uniform(name, n)
            else:
                is_bn = ".bn" in name or name.startswith("bn") or ".downsample.1." in name
                if is_bn and name.endswith("weight"):
                    v = 1 + 0.1 * r(name, n)
                elif name.endswith("bias"):
                    v = 0.1 * r(name, n)
                else:
                    v = math.sqrt(2.0 / t[0].numel()) * r(name, n)
            t.copy_(v.reshape(t.shape).to(t.dtype))


def build(stem, classes):
    m = torchvision.models.resnet18(num_classes=classes)
    if stem == "cifar":
        m.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        m.maxpool = torch.nn.Identity()
    fill(m)
    return m


def values(t, n=6):
    flat = t.detach().reshape(-1).double()
    idx = sorted(set([0, 1, flat.numel() // 3, flat.numel() // 2, flat.numel() - 2, flat.numel() - 1]))[:n]
    return {"index": idx, "value": [flat[i].item() for i in idx]}


def kink_margin(model, x):
    """The smallest distance of any ReLU input from 0, and of any max-pool window's maximum
    from its runner-up, in float64: below float32's rounding, the two sides may take opposite
    branches of a kink, and the gradients then differ for a reason that is not an error."""
    margins = []

    def relu_pre(module, inp):
        margins.append(inp[0].detach().abs().min().item())

    def pool_pre(module, inp):
        t = inp[0].detach()
        w = torch.nn.functional.pad(t, (1, 1, 1, 1), value=-1e30).unfold(2, 3, 2).unfold(3, 3, 2)
        top = w.reshape(*w.shape[:4], 9).topk(2, dim=-1).values
        # A tie at 0 (ReLU zeros, the pool follows the ReLU) sends no gradient either way.
        gap = torch.where(top[..., 0] > 0, top[..., 0] - top[..., 1], torch.full_like(top[..., 0], float("inf")))
        margins.append(gap.min().item())

    hooks = [mod.register_forward_pre_hook(relu_pre) for mod in model.modules() if isinstance(mod, torch.nn.ReLU)]
    hooks += [mod.register_forward_pre_hook(pool_pre) for mod in model.modules() if isinstance(mod, torch.nn.MaxPool2d)]
    m64 = model.double()
    m64.train()
    m64(x.double())
    for h in hooks:
        h.remove()
    return min(margins)


def case(stem, batch, size, classes):
    torch.manual_seed(0)
    # The first input (of "input", "input-1", ...) whose forward pass keeps every ReLU input and
    # max-pool choice at least 1e-6 from its kink (see kink_margin).
    for salt in range(200):
        input_name = "input" if salt == 0 else "input-%d" % salt
        x = (1.5 * r(input_name, batch * 3 * size * size)).reshape(batch, 3, size, size).float()
        if kink_margin(build(stem, classes), x) > 1e-6:
            break
    else:
        raise SystemExit("no input clear of the kinks in 200 tries")
    m = build(stem, classes)
    y = torch.tensor([n % classes for n in range(batch)])
    m.eval()
    eval_logits = m(x).detach()
    m.train()
    logits = m(x)
    loss = torch.nn.functional.cross_entropy(logits, y)
    loss.backward()
    grads = {n: values(p.grad) for n, p in m.named_parameters()
             if n in ("conv1.weight", "bn1.weight", "layer1.0.conv2.weight", "layer1.1.conv1.weight",
                      "layer2.0.conv1.weight", "layer2.0.conv2.weight", "layer2.0.downsample.0.weight",
                      "layer2.1.conv2.weight", "layer3.0.conv1.weight", "layer3.1.bn1.weight", "layer3.1.conv2.weight", "layer3.1.bn2.weight",
                      "layer4.0.conv1.weight", "layer4.0.bn1.weight", "layer4.0.conv2.weight", "layer4.0.downsample.0.weight",
                      "layer4.0.downsample.1.weight", "layer4.1.conv1.weight",
                      "layer4.1.bn2.bias", "fc.weight", "fc.bias")}
    stats = {n: values(b) for n, b in m.named_buffers()
             if n in ("bn1.running_mean", "bn1.running_var", "layer3.1.bn1.running_var")}
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    opt.step()
    after = {n: values(p) for n, p in m.named_parameters() if n in ("conv1.weight", "layer3.0.conv1.weight", "fc.weight")}
    return {"stem": stem, "batch": batch, "size": size, "classes": classes, "input_name": input_name,
            "eval_logits": eval_logits.reshape(-1).tolist(), "train_logits": logits.detach().reshape(-1).tolist(),
            "loss": loss.item(), "gradients": grads, "running_statistics": stats, "after_sgd_step": after}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/TrainingTests/Fixtures/resnet18-torchvision.json"
    torch.set_num_threads(1)
    data = {"torch": torch.__version__, "torchvision": torchvision.__version__,
            "cases": [case("cifar", 2, 16, 10), case("imagenet", 2, 64, 7)]}
    with open(out, "w") as f:
        json.dump(data, f, indent=1)
    print("wrote %s (torch %s, torchvision %s)" % (out, torch.__version__, torchvision.__version__))


if __name__ == "__main__":
    main()
