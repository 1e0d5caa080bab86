#!/usr/bin/python3
"""Trains the same head as `edgenet finetune --dump-features DIR` did, in PyTorch, on the same cached features.

DIR holds train_x.npy / train_y.npy (and optionally val_x.npy / val_y.npy) and param0.npy, param1.npy, ... — the
trainable layers' initial weights as EdgeNet made them (Gemm weights [out, in] and biases, in layer order). The
head is rebuilt as Linear layers (ReLU between them) with exactly those initial weights and trained with the same
SGD settings (momentum, batch size, epochs, shuffling every epoch); the loss is softmax cross-entropy for several
outputs or sigmoid binary cross-entropy for one. One thread (torch.set_num_threads(1)).
Prints one JSON line: test accuracy, final training loss and the training time in seconds (the epoch loop only).

usage: compare-head-torch.py DIR --epochs E --lr L --batch B [--momentum M] [--seed S]
"""
import argparse
import json
import os
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("dir")
p.add_argument("--epochs", type=int, required=True)
p.add_argument("--lr", type=float, required=True)
p.add_argument("--batch", type=int, required=True)
p.add_argument("--momentum", type=float, default=0.9)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--eval", default="val", help="prefix of the evaluation set (val_x.npy / val_y.npy)")
a = p.parse_args()

torch.set_num_threads(1)
torch.manual_seed(a.seed)
d = a.dir
x = torch.from_numpy(np.load(os.path.join(d, "train_x.npy")).astype(np.float32))
y = torch.from_numpy(np.load(os.path.join(d, "train_y.npy")).astype(np.int64))
params = []
i = 0
while os.path.exists(os.path.join(d, f"param{i}.npy")):
    params.append(torch.from_numpy(np.load(os.path.join(d, f"param{i}.npy")).astype(np.float32)))
    i += 1
assert len(params) % 2 == 0, "expected (weight, bias) pairs"
layers = []
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
outputs = params[-2].shape[0]
binary = outputs == 1
loss_fn = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()
opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
n = x.shape[0]
x = x.reshape(n, -1)

start = time.perf_counter()
steps = 0
last = float("nan")
for epoch in range(a.epochs):
    order = torch.randperm(n)
    total = 0.0
    for s in range(0, n, a.batch):
        idx = order[s:s + a.batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=False)
        out = model(xb)
        loss = loss_fn(out.reshape(-1), yb.float()) if binary else loss_fn(out, yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
        steps += 1
    last = total / n
seconds = time.perf_counter() - start

result = {"train_loss": last, "seconds": seconds, "steps": steps, "threads": torch.get_num_threads(), "torch": torch.__version__}
ex = os.path.join(d, f"{a.eval}_x.npy")
if os.path.exists(ex):
    vx = torch.from_numpy(np.load(ex).astype(np.float32)).reshape(-1, x.shape[1])
    vy = torch.from_numpy(np.load(os.path.join(d, f"{a.eval}_y.npy")).astype(np.int64))
    with torch.no_grad():
        out = model(vx)
        pred = (out.reshape(-1) > 0).long() if binary else out.argmax(1)
    result["accuracy"] = (pred == vy).float().mean().item()
print(json.dumps(result))
