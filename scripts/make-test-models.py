#!/usr/bin/python3
"""Exports real-architecture test models with seeded random weights (no downloads) in the ONNX backend-test layout.

    make-test-models.py OUT_DIR  ->  OUT_DIR/<name>/model.onnx
                                     OUT_DIR/<name>/test_data_set_0/input_0.pb, output_0.pb  (torch's own answer)

Needs Debian's python3-torch, python3-torchvision and python3-onnx (torch 1.13: the TorchScript exporter, opset 13).
Weights are random but seeded, so every run writes the same models; they test the runtime's arithmetic on the
architectures (and the op patterns the exporter emits), not accuracy.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper
from torch import nn

OPSET = 13
SEED = 2024


def randomize_batch_norm(model: nn.Module) -> None:
    """Non-trivial running statistics and affine terms, so folding BatchNormalization into Conv is really tested
    (fresh BN layers are mean 0, var 1, scale 1, shift 0: folding them changes nothing and hides mistakes)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n) * 0.2)
                m.running_var.copy_(torch.rand(n) * 1.0 + 0.5)
                m.weight.copy_(torch.rand(n) * 1.0 + 0.5)
                m.bias.copy_(torch.randn(n) * 0.2)


class KeywordRnn(nn.Module):
    """Keyword spotting on 49 frames of 40 MFCC-like features: 2-layer recurrent net, last step, 12 classes."""

    def __init__(self, cell: str, bidirectional: bool):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(input_size=40, hidden_size=64, num_layers=2, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(64 * (2 if bidirectional else 1), 12)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


class DsCnn(nn.Module):
    """DS-CNN (Hello Edge, Zhang et al. 2017), the small variant: 64 channels, 4 depthwise-separable blocks."""

    def __init__(self, channels: int = 64, blocks: int = 4, classes: int = 12):
        super().__init__()
        layers = [nn.Conv2d(1, channels, (10, 4), stride=2, padding=(5, 1)), nn.BatchNorm2d(channels), nn.ReLU()]
        for _ in range(blocks):
            layers += [
                nn.Conv2d(channels, channels, 3, padding=1, groups=channels), nn.BatchNorm2d(channels), nn.ReLU(),
                nn.Conv2d(channels, channels, 1), nn.BatchNorm2d(channels), nn.ReLU(),
            ]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


class TinyTransformer(nn.Module):
    """Token embedding + learned positions + 2 encoder layers (d_model 64, 4 heads, GELU) + mean pool + classifier."""

    def __init__(self, features: int = 32, d_model: int = 64, seq: int = 16, classes: int = 10):
        super().__init__()
        self.embed = nn.Linear(features, d_model)
        self.position = nn.Parameter(torch.randn(1, seq, d_model) * 0.1)
        layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=128, dropout=0.0, activation="gelu",
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.fc = nn.Linear(d_model, classes)

    def forward(self, x):
        h = self.encoder(self.embed(x) + self.position)
        return self.fc(self.norm(h).mean(dim=1))


def models():
    """(name, builder, input shape); each builder runs right after torch.manual_seed, so weights are reproducible."""
    return [
        ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(weights=None), (1, 3, 224, 224)),
        ("resnet18", lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224)),
        ("lstm_kws", lambda: KeywordRnn("lstm", bidirectional=False), (1, 49, 40)),
        ("gru_kws", lambda: KeywordRnn("gru", bidirectional=True), (1, 49, 40)),
        ("ds_cnn", DsCnn, (1, 1, 49, 10)),
        ("tiny_transformer", TinyTransformer, (1, 16, 32)),
    ]


def write_tensor(path: str, array: np.ndarray, name: str) -> None:
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(array), name).SerializeToString())


def export(name: str, build, shape, out_dir: str) -> None:
    torch.manual_seed(SEED)
    model = build()
    randomize_batch_norm(model)
    model.eval()
    x = torch.randn(*shape)

    folder = os.path.join(out_dir, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    path = os.path.join(folder, "model.onnx")
    with torch.no_grad():
        expected = model(x)
    # Exported with autograd on: under no_grad torch takes the fused TransformerEncoderLayer fast path, which has
    # no ONNX symbolic. PRESERVE keeps the BatchNormalization nodes: EVAL would let the exporter fold them into Conv
    # itself, and EdgeNet's own FuseConvBatchNorm would never see one.
    torch.onnx.export(model, (x,), path, opset_version=OPSET, input_names=["input"], output_names=["output"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    write_tensor(os.path.join(data, "input_0.pb"), x.numpy(), "input")
    write_tensor(os.path.join(data, "output_0.pb"), expected.numpy(), "output")
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{name}: {tuple(expected.shape)}, |y|max {expected.abs().max().item():.3g}, ops {' '.join(ops)}")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make-test-models.py OUT_DIR")
    torch.set_num_threads(1)
    for name, build, shape in models():
        export(name, build, shape, sys.argv[1])


if __name__ == "__main__":
    main()
