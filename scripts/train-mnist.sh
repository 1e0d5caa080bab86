#!/usr/bin/env bash
# Issue 5 experiment (a)+(b): MNIST photos (scripts/make-mnist-images.sh) on the frozen ch_ppocr_mobile_v2.0_cls
# backbone, 48x48 input, (p-0.5)/0.5.
#  1. a new 10-class head on the pooled 200-d feature (the tensor feeding the final MatMul) with 10/20/100 images per
#     class, tested on 500 per class; the same head trained by PyTorch (1 thread) on the same cached features, same
#     initial weights and SGD settings (scripts/compare-head-torch.py); training time of both on the same machine.
#  2. --trainable-last 2 and 3 (reaching into the last conv block) at 100 per class.
# Usage: scripts/train-mnist.sh [OUT_DIR]   (default /tmp/edgenet-mnist). Prints a summary at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/torch-openblas.sh
out="${1:-/tmp/edgenet-mnist}"
mkdir -p "$out"
base=models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx
data=models/mnist-images
[[ -f "$data/.done" ]] || scripts/make-mnist-images.sh
E=./edgenet
epochs=100 lr=0.1 batch=32
common=(--image-size 48x48 --normalize 0.5,0.5 --lr "$lr" --batch "$batch" --seed 0)
summary="$out/summary.txt"
: > "$summary"
for n in 10 20 100; do
  echo "== new head, $n per class"
  $E finetune "$base" --data "$data/train$n" --val "$data/test" --out "$out/head$n.enet" --epochs "$epochs" "${common[@]}" \
     --dump-features "$out/f$n" --plot "$out/head$n.png" --history "$out/head$n.csv" | tail -2
  acc=$($E evaluate "$out/head$n.enet" --data "$data/test" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
  # training speed on the cached features alone (no validation pass), EdgeNet then PyTorch, same run
  en=$($E finetune "$base" --features "$out/f$n/train_x.npy" --labels "$out/f$n/train_y.npy" --out "$out/speed$n.enet" --epochs "$epochs" "${common[@]}" --quiet \
       | sed -n 's/.* in \([0-9.]*\) s training, \([0-9]*\) steps.*/\1 \2/p')
  pt=$(torch_python scripts/compare-head-torch.py "$out/f$n" --epochs "$epochs" --lr "$lr" --batch "$batch")
  echo "head $n/class: edgenet test acc $acc; edgenet train s/steps $en; torch $pt" | tee -a "$summary"
done
for t in 2 3; do
  echo "== --trainable-last $t, 100 per class"
  $E finetune "$base" --data "$data/train100" --out "$out/last$t.enet" --trainable-last "$t" --epochs 30 --image-size 48x48 --normalize 0.5,0.5 \
     --lr 0.05 --batch 32 --seed 0 | grep -v '^epoch *[0-9]*/30 .*' || true
  acc=$($E evaluate "$out/last$t.enet" --data "$data/test" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])')
  echo "trainable-last $t, 100/class: edgenet test acc $acc" | tee -a "$summary"
done
cat "$summary"
