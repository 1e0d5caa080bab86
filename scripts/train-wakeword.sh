#!/usr/bin/env bash
# Issue 5 experiment (c): a new wake word, "hey edge net" (data: scripts/make-wakeword-data.sh). Trains the
# openWakeWord alexa_v0.1 MLP layout (1536 -> 128 -> 128, all layers trained) with a new 2-class head on the 16x96
# embedding windows of the training voices, then scores the held-out voices every 80 ms as a device would: recall
# on the positive clips, negative clips detected, and false accepts per hour on the long negative stream.
# Usage: scripts/train-wakeword.sh [OUT_DIR] [THRESHOLD]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-/tmp/edgenet-wakeword}"
threshold="${2:-0.5}"
data=models/wakeword-data
mkdir -p "$out"
E=./edgenet
$E finetune models/openwakeword/alexa_v0.1.onnx --data "$data/train" --out "$out/hey_edge_net.enet" --trainable-last 3 \
   --epochs 40 --lr 0.0005 --batch 32 --seed 0 --val-split 0.1 --plot "$out/history.png" --dump-features "$out/f" | grep -v '^epoch *[0-9]*/40 ' || true
stream=()
[[ -f "$data/stream/negative.wav" ]] && stream=(--stream "$data/stream/negative.wav")
$E evaluate "$out/hey_edge_net.enet" --data "$data/test" --detect hey_edge_net --threshold "$threshold" "${stream[@]}"
