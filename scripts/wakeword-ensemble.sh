#!/usr/bin/env bash
# Issue 5, criterion 3: the mean of several "hey edge net" heads (one per seed, each from scripts/train-wakeword5.sh),
# scored with the fixed held-out protocol of scripts/train-wakeword4.sh: the threshold is chosen on the VALIDATION
# voices (the lowest of the sweep with at most FA_BUDGET false accepts per hour on their 30 min stream), then the TEST
# voices are scored once at it, every 80 ms as a device would, with per-voice recall.
# Usage: scripts/wakeword-ensemble.sh OUT_DIR RUN_DIR RUN_DIR [...]   (RUN_DIR: a train-wakeword5.sh output folder)
#   e.g. for s in 0 1 2; do SEED=$s scripts/train-wakeword5.sh /tmp/ww5-s$s; done
#        scripts/wakeword-ensemble.sh /tmp/ww5-mean /tmp/ww5-s0 /tmp/ww5-s1 /tmp/ww5-s2
#   env: FA_BUDGET=3 CONSECUTIVE=2 REFRACTORY=1.5 CACHE=models/wakeword-data5/embeddings
#        VAL_STREAM=models/wakeword-data4/stream/val.wav (or the 2 h stream/val-long.wav of make-wakeword-valstream.py)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
(( $# >= 3 )) || { sed -n 2,10p "$0" >&2; exit 2; }
out="$1"; shift
mkdir -p "$out"
E=./edgenet
d4=models/wakeword-data4 cache="${CACHE:-models/wakeword-data5/embeddings}"
heads=()
for run in "$@"; do
  [[ -f "$run/hey_edge_net.enet" ]] || { echo "$run: no hey_edge_net.enet (run scripts/train-wakeword5.sh first)" >&2; exit 1; }
  $E export-onnx "$run/hey_edge_net.enet" -o "$run/head.onnx" > /dev/null
  heads+=("$run/head.onnx")
done
/usr/bin/python3 scripts/merge-heads.py "$out/mean.onnx" "${heads[@]}"
$E convert "$out/mean.onnx" -o "$out/mean.enet" > /dev/null
rule=(--consecutive "${CONSECUTIVE:-2}" --refractory "${REFRACTORY:-1.5}")
sweep=0.5,0.7,0.8,0.9,0.95,0.97,0.98,0.99,0.993,0.995,0.997,0.998,0.999,0.9993,0.9995,0.9997,0.9998,0.9999
$E evaluate "$out/mean.enet" --data $d4/val --detect hey_edge_net "${rule[@]}" --embedding-cache "$cache" \
   --stream "${VAL_STREAM:-$d4/stream/val.wav}" --sweep $sweep --max-false-accepts "${FA_BUDGET:-3}" | tee "$out/val-sweep.txt"
threshold=$(sed -n 's/^chosen threshold: //p' "$out/val-sweep.txt")
echo "== test voices, threshold $threshold (chosen on validation), ${rule[*]}"
$E evaluate "$out/mean.enet" --data $d4/test --detect hey_edge_net --threshold "$threshold" "${rule[@]}" \
   --embedding-cache "$cache" --stream $d4/stream/negative.wav --clip-scores "$out/test-clips.csv" | tee "$out/test.txt"
/usr/bin/python3 scripts/wakeword-voices.py "$out/test-clips.csv" $d4/manifest.csv "$threshold" | tee -a "$out/test.txt"
# for insight only (not used for any choice): the test sweep
$E evaluate "$out/mean.enet" --data $d4/test --detect hey_edge_net "${rule[@]}" --embedding-cache "$cache" \
   --stream $d4/stream/negative.wav --sweep $sweep > "$out/test-sweep.txt"
