#!/usr/bin/env bash
# Issue 5 experiment (b): head-training speed, EdgeNet vs PyTorch (1 thread), same machine, same run, same data,
# same initial weights and SGD settings: the wake-word MLP (openWakeWord alexa_v0.1 layout: 1536 -> 128 -> 128 with
# ReLU, new 2-class head) on 16x96 embedding windows, 5440 samples x 100 epochs at batch 32 = 17,000 SGD steps.
# The embeddings are synthetic (seeded Gaussian, class-dependent mean) so the script needs no audio; the MNIST head
# timing is in scripts/train-mnist.sh. Usage: scripts/train-speed.sh [OUT_DIR] [REPEATS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/torch-openblas.sh
out="${1:-/tmp/edgenet-speed}"
repeats="${2:-3}"
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(5)
n = 5440
y = rng.integers(0, 2, n)
x = rng.normal(0, 8, (n, 16, 96)).astype(np.float32) + (y[:, None, None] * 1.5).astype(np.float32)
np.save(f"{out}/x.npy", x); np.save(f"{out}/y.npy", y.astype(np.int64))
PY
E=./edgenet
args=(--head-classes auto --trainable-last 3 --epochs 100 --lr 0.001 --batch 32 --seed 0)
for r in $(seq "$repeats"); do
  en=$($E finetune models/openwakeword/alexa_v0.1.onnx --features "$out/x.npy" --labels "$out/y.npy" --out "$out/mlp.enet" "${args[@]}" \
       --dump-features "$out/f" --quiet | sed -n 's/.* in \([0-9.]*\) s training, \([0-9]*\) steps, loss \([0-9.]*\).*/edgenet_seconds=\1 steps=\2 loss=\3/p')
  pt=$(torch_python scripts/compare-head-torch.py "$out/f" --epochs 100 --lr 0.001 --batch 32 --eval none)
  echo "wake-word MLP: $en | torch $pt"
done
# The MNIST head (200 -> 10, 1000 samples x 100 epochs = 3200 steps) on the features scripts/train-mnist.sh dumped.
mnist="${MNIST_FEATURES:-/tmp/edgenet-mnist/f100}"
if [[ -f "$mnist/train_x.npy" ]]; then
  for r in $(seq "$repeats"); do
    en=$($E finetune models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx --features "$mnist/train_x.npy" --labels "$mnist/train_y.npy" --out "$out/mnist.enet" \
         --image-size 48x48 --epochs 100 --lr 0.1 --batch 32 --seed 0 --quiet | sed -n 's/.* in \([0-9.]*\) s training, \([0-9]*\) steps, loss \([0-9.]*\).*/edgenet_seconds=\1 steps=\2 loss=\3/p')
    pt=$(torch_python scripts/compare-head-torch.py "$mnist" --epochs 100 --lr 0.1 --batch 32 --eval none)
    echo "MNIST head: $en | torch $pt"
  done
fi
