#!/usr/bin/env bash
# Issue 5 experiment (c): a new wake word, "hey edge net" (data: scripts/make-wakeword-data.sh, made here if missing).
# Trains the openWakeWord alexa_v0.1 MLP layout (1536 -> 128 -> 128, all layers trained) with a new 2-class head on
# EVERY 80 ms 16x96 embedding window of the training voices (finetune --detect): all windows of the negative clips,
# of a 30 min training stream and of noise/silence are negatives; windows ending 0-0.32 s after the phrase end of a
# positive clip are positives (AUGMENT copies each with gain, noise and a shift off the 80 ms grid); then one
# round of hard-negative mining. The threshold is chosen on the validation clips (training voices, other
# speeds/pitches/noise): the highest one that still detects RECALL of them. Then the held-out voices are scored
# every 80 ms as a device would: recall on the positive clips, negative clips detected, and false accepts per hour
# on the 60 min negative stream, with the same decision rule (CONSECUTIVE frames at or above the threshold, then a
# REFRACTORY s quiet period).
# With more voices (docs/TRAINING.md, "More voices"; the configuration chosen on validation):
#   /usr/bin/python3 scripts/make-wakeword-data2.py models/wakeword-data2
#   /usr/bin/python3 scripts/make-wakeword-data2.py models/wakeword-data3 --accents
#   /usr/bin/python3 scripts/make-wakeword-data2.py models/wakeword-data3 --accents --stream 30
#   EXTRA="models/wakeword-data2 models/wakeword-data3" RECALL=0.99 scripts/train-wakeword.sh
# Usage: scripts/train-wakeword.sh [OUT_DIR]
#   env: EXTRA="models/wakeword-data2 models/wakeword-data3" (more training voices, see make-wakeword-data2.py; the
#        threshold is then chosen on the last folder's val/ voices, or on VAL=DIR) RECALL=1.0 CONSECUTIVE=2 REFRACTORY=1.5 EPOCHS=8 MINE_EPOCHS=3 AUGMENT=1 OVERSAMPLE=6 FINETUNE_EXTRA='--positive-span 0:0.48 ...'
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-/tmp/edgenet-wakeword}"
recall="${RECALL:-1.0}" consecutive="${CONSECUTIVE:-2}" refractory="${REFRACTORY:-1.5}"
data=models/wakeword-data
mkdir -p "$out"
start=$(date +%s)
scripts/make-wakeword-data.sh
echo "data: $(( $(date +%s) - start )) s"
# Subsets (links) to fit the 2-core budget: every training positive with every 3rd negative clip (the 30 min training
# stream holds the same phrases); the validation positives with every 16th validation negative.
link_subset() {  # SRC DST EVERY
  rm -rf "$2"; mkdir -p "$2/hey_edge_net" "$2/other"
  ln -s "$(cd "$1/hey_edge_net" && pwd)"/*.wav "$2/hey_edge_net/"
  local i=0 f
  for f in "$(cd "$1/other" && pwd)"/*.wav; do (( i++ % $3 == 0 )) && ln -s "$f" "$2/other/"; done; true
}
link_subset "$data/train" "$data/train-sub" 3
link_subset "$data/val" "$data/val-pos" 16
E=./edgenet
cache=(--embedding-cache "$data/embeddings")  # embeddings of unaugmented audio are kept: evaluating again is fast
train="$data/train-sub" ends="$data/manifest.csv" val="$data/val-pos" train_cache=("${cache[@]}")
negative=(--negative-audio "$data/stream/train.wav" --negative-audio "$data/noise")
if [[ -n "${EXTRA:-}" ]]; then
  # more voices (scripts/make-wakeword-data2.py; EXTRA is a list of its folders, the last one's val/ holds the voices
  # the threshold is chosen on unless VAL is given): training on all of them; the test voices stay held out
  extra=($EXTRA)
  train="$out/train-all" ends="$out/phrase-ends.csv" val="${VAL:-${extra[-1]}/val}" train_cache=(--embedding-cache "${extra[0]}/embeddings")
  rm -rf "$train"; mkdir -p "$train/hey_edge_net" "$train/other"
  { echo file,phrase_end
    awk -F, -v base="$(readlink -f "$data")" 'NR > 1 && $3 == "hey_edge_net" { print base "/" $1 "," $10 }' "$data/manifest.csv"; } > "$ends"
  for c in hey_edge_net other; do for f in "$data/train-sub/$c"/*.wav; do ln -s "$(readlink -f "$f")" "$train/$c/d0_${f##*/}"; done; done
  for i in "${!extra[@]}"; do
    x="${extra[$i]}"
    [[ -f "$x/manifest.csv" ]] || { echo "EXTRA: no $x/manifest.csv (make it with scripts/make-wakeword-data2.py $x [--accents])" >&2; exit 1; }
    for c in hey_edge_net other; do for f in "$x/train/$c"/*.wav; do ln -s "$(readlink -f "$f")" "$train/$c/d$((i + 1))_${f##*/}"; done; done
    awk -F, -v base="$(readlink -f "$x")" 'NR > 1 && $3 == "hey_edge_net" { print base "/" $1 "," $10 }' "$x/manifest.csv" >> "$ends"
    if [[ -f "$x/stream/train.wav" ]]; then negative+=(--negative-audio "$x/stream/train.wav"); fi
  done
fi
start=$(date +%s)
$E finetune models/openwakeword/alexa_v0.1.onnx --data "$train" --out "$out/hey_edge_net.enet" --trainable-last 3 \
   --detect hey_edge_net --phrase-ends "$ends" "${negative[@]}" \
   --augment "${AUGMENT:-1}" --noise "$data/noise" --oversample "${OVERSAMPLE:-6}" --optimizer adam --lr 0.0005 --batch 64 --epochs "${EPOCHS:-8}" --seed 0 \
   --mine-epochs "${MINE_EPOCHS:-3}" --mine-repeat 3 "${train_cache[@]}" --plot "$out/history.png" ${FINETUNE_EXTRA:-}
echo "finetune (features + training): $(( $(date +%s) - start )) s"
rule=(--consecutive "$consecutive" --refractory "$refractory")
# threshold: chosen on the validation clips of the training voices (never on the test voices)
$E evaluate "$out/hey_edge_net.enet" --data "$val" --detect hey_edge_net "${rule[@]}" "${train_cache[@]}" --choose-threshold "$recall" | tee "$out/val-sweep.txt"
threshold=$(sed -n 's/^chosen threshold: //p' "$out/val-sweep.txt")
echo "== held-out voices, threshold $threshold (chosen on validation), ${rule[*]}"
$E evaluate "$out/hey_edge_net.enet" --data "$data/test" --detect hey_edge_net --threshold "$threshold" "${rule[@]}" "${cache[@]}" --stream "$data/stream/negative.wav"
