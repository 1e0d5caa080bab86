#!/usr/bin/python3
"""The PyTorch side of the wake-word comparison: trains the same MLP head as `edgenet finetune --detect ...
--dump-features DIR` on the same windows (DIR/train_x.npy, train_y.npy) from the same initial weights
(DIR/param*.npy: Gemm weights [out, in] and biases, ReLU between the layers), with Adam, the same learning rate,
batch size, epochs and weight decay (Adam with L2 added to the gradient, as EdgeNet's), and with --mine-epochs E
the same hard-negative mining round (the training negatives the model then classifies as the wake word, repeated
--mine-repeat R more times, E more epochs with a fresh Adam), one thread. Writes the trained head as an ONNX model reading
[1, 16, 96] windows (Flatten -> Linear/ReLU ... -> Softmax) so `edgenet evaluate --detect` scores it exactly like
EdgeNet's head (same embeddings, same decision rule). Prints one JSON line with the training time.

usage: compare-wakeword-torch.py DIR OUT.onnx --epochs E --lr L --batch B [--seed S] [--weight-decay W]
       [--mine-epochs E --mine-repeat R] [--positive-class C]
"""
import argparse
import json
import os
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("out")
p.add_argument("--epochs", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--batch", type=int, required=True)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--weight-decay", type=float, default=0.0)
p.add_argument("--mine-epochs", type=int, default=0)
p.add_argument("--mine-repeat", type=int, default=3)
p.add_argument("--positive-class", type=int, default=None, help="the wake-word label (default: the rarer one)")
a = p.parse_args()

torch.set_num_threads(1)
torch.manual_seed(a.seed)
x = torch.from_numpy(np.load(os.path.join(a.dir, "train_x.npy"), mmap_mode="r").astype(np.float32))  # one copy in memory
y = torch.from_numpy(np.load(os.path.join(a.dir, "train_y.npy")).astype(np.int64))
n = x.shape[0]
x = x.reshape(n, -1)
params, i = [], 0
while os.path.exists(os.path.join(a.dir, f"param{i}.npy")):
    params.append(torch.from_numpy(np.load(os.path.join(a.dir, f"param{i}.npy")).astype(np.float32)))
    i += 1
assert params and len(params) % 2 == 0, "expected (weight, bias) pairs"
layers = [torch.nn.Flatten()]
for k in range(0, len(params), 2):
    w, b = params[k], params[k + 1]
    lin = torch.nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(w)
        lin.bias.copy_(b.reshape(-1))
    layers.append(lin)
    if k + 2 < len(params):
        layers.append(torch.nn.ReLU())
model = torch.nn.Sequential(*layers)
loss_fn = torch.nn.CrossEntropyLoss()
start = time.perf_counter()
steps, last, mined = 0, float("nan"), 0


def fit(rows, epochs):
    global steps, last
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    for epoch in range(epochs):
        order = rows[torch.randperm(len(rows))]
        total = 0.0
        for s in range(0, len(order), a.batch):
            idx = order[s:s + a.batch]
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            steps += 1
        last = total / len(order)
        print(f"epoch {epoch + 1}/{epochs} loss {last:.5f} {time.perf_counter() - start:.0f} s", flush=True)


rows = torch.arange(n)
if a.positive_class is None:
    a.positive_class = int(torch.bincount(y).argmin())
fit(rows, a.epochs)
if a.mine_epochs > 0:
    with torch.no_grad():
        pred = torch.cat([model(x[s:s + 8192]).argmax(1) for s in range(0, n, 8192)])
    hard = torch.nonzero((y != a.positive_class) & (pred == a.positive_class)).flatten()
    mined = len(hard)
    print(f"hard-negative mining: {mined} negative windows, repeated {a.mine_repeat}x", flush=True)
    fit(torch.cat([rows] + [hard] * a.mine_repeat), a.mine_epochs)
seconds = time.perf_counter() - start
model.append(torch.nn.Softmax(dim=1))
model.eval()
torch.onnx.export(model, torch.zeros(1, 16, 96), a.out, input_names=["x"], output_names=["y"], opset_version=13)
print(json.dumps({"train_loss": last, "seconds": seconds, "steps": steps, "mined": mined, "threads": 1, "torch": torch.__version__}))
