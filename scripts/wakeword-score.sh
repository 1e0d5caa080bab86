#!/usr/bin/env bash
# Issue 5, criterion 3: scores one "hey edge net" model with the fixed held-out protocol of make-wakeword-data4.py.
# The threshold is chosen on the VALIDATION voices: the lowest of the sweep with at most FA_BUDGET false accepts per
# hour on their stream (VAL_STREAM). Then the TEST voices are scored once at it, every 80 ms as a device would:
# recall, negative clips detected, false accepts per hour on their 66 min stream, per-voice recall. Writes
# val-sweep.txt, test.txt, test-clips.csv and (insight only, no choice uses it) test-sweep.txt into OUT_DIR.
# Used by scripts/train-wakeword4.sh and scripts/wakeword-ensemble.sh.
# Usage: scripts/wakeword-score.sh MODEL OUT_DIR
#   env: CACHE=DIR (embedding cache, required) FA_BUDGET=3 CONSECUTIVE=2 REFRACTORY=1.5 TEST=1 (0: validation only)
#        VAL_STREAM=models/wakeword-data4/stream/val.wav (or the 2 h stream/val-long.wav of make-wakeword-valstream.py)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
(( $# == 2 )) || { sed -n 2,10p "$0" >&2; exit 2; }
model="$1" out="$2"
E=./edgenet d4=models/wakeword-data4 cache="${CACHE:?CACHE=DIR (the embedding cache) is required}"
rule=(--consecutive "${CONSECUTIVE:-2}" --refractory "${REFRACTORY:-1.5}")
sweep=0.5,0.7,0.8,0.9,0.95,0.97,0.98,0.99,0.993,0.995,0.997,0.998,0.999,0.9993,0.9995,0.9997,0.9998,0.9999
nice -n 10 $E evaluate "$model" --data $d4/val --detect hey_edge_net "${rule[@]}" --embedding-cache "$cache" \
   --stream "${VAL_STREAM:-$d4/stream/val.wav}" --sweep $sweep --max-false-accepts "${FA_BUDGET:-3}" | tee "$out/val-sweep.txt"
threshold=$(sed -n 's/^chosen threshold: //p' "$out/val-sweep.txt")
[[ ${TEST:-1} == 0 ]] && exit 0
echo "== test voices, threshold $threshold (chosen on validation), ${rule[*]}"
nice -n 10 $E evaluate "$model" --data $d4/test --detect hey_edge_net --threshold "$threshold" "${rule[@]}" \
   --embedding-cache "$cache" --stream $d4/stream/negative.wav --clip-scores "$out/test-clips.csv" | tee "$out/test.txt"
/usr/bin/python3 scripts/wakeword-voices.py "$out/test-clips.csv" $d4/manifest.csv "$threshold" | tee -a "$out/test.txt"
nice -n 10 $E evaluate "$model" --data $d4/test --detect hey_edge_net "${rule[@]}" --embedding-cache "$cache" \
   --stream $d4/stream/negative.wav --sweep $sweep > "$out/test-sweep.txt"
