#!/usr/bin/env bash
# Issue 5, criterion 3: the mean of several "hey edge net" heads (one per seed, each from scripts/train-wakeword5.sh),
# scored with the fixed held-out protocol (scripts/wakeword-score.sh: threshold from the VALIDATION voices, then the
# TEST voices once at it, every 80 ms as a device would, with per-voice recall).
# Usage: scripts/wakeword-ensemble.sh OUT_DIR RUN_DIR RUN_DIR [...]   (RUN_DIR: a train-wakeword5.sh output folder)
#   e.g. for s in 0 1 2; do SEED=$s scripts/train-wakeword5.sh /tmp/ww5-s$s; done
#        scripts/wakeword-ensemble.sh /tmp/ww5-mean /tmp/ww5-s0 /tmp/ww5-s1 /tmp/ww5-s2
#   env: CACHE=models/wakeword-data5/embeddings, and wakeword-score.sh's (VAL_STREAM, FA_BUDGET, CONSECUTIVE, ...)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
(( $# >= 3 )) || { sed -n 2,8p "$0" >&2; exit 2; }
out="$1"; shift
mkdir -p "$out"
E=./edgenet
cache="${CACHE:-models/wakeword-data5/embeddings}"
heads=()
for run in "$@"; do
  [[ -f "$run/hey_edge_net.enet" ]] || { echo "$run: no hey_edge_net.enet (run scripts/train-wakeword5.sh first)" >&2; exit 1; }
  $E export-onnx "$run/hey_edge_net.enet" -o "$run/head.onnx" > /dev/null
  heads+=("$run/head.onnx")
done
/usr/bin/python3 scripts/merge-heads.py "$out/mean.onnx" "${heads[@]}"
$E convert "$out/mean.onnx" -o "$out/mean.enet" > /dev/null
CACHE="$cache" exec scripts/wakeword-score.sh "$out/mean.enet" "$out"
