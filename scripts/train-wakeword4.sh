#!/usr/bin/env bash
# Issue 5, criterion 3, with the fixed held-out protocol of scripts/make-wakeword-data4.py: trains "hey edge net" on
# every voice of models/wakeword-data{,2,3} (including the old test voices of wakeword-data/test) plus the waveform-
# augmented copies of wakeword-data4/aug, chooses the threshold on the VALIDATION voices (clips and a 30 min stream:
# the lowest threshold of the sweep with at most FA_BUDGET false accepts per hour on that stream), then scores the
# TEST voices (12 espeak variants never used anywhere else x 8 English languages) every 80 ms as a device would:
# recall on their clips, negative clips detected, false accepts per hour on their 66 min stream, per-voice recall.
# Needs models/wakeword-data{,2,3} (scripts/make-wakeword-data.sh, make-wakeword-data2.py [--accents] [--stream 30],
# see train-wakeword.sh) and makes models/wakeword-data4 if missing. Embeddings are cached in wakeword-data4/embeddings
# (the older folders' caches are linked in).
# Measured (2026-11-30, before --ema 0.9999 became the default): threshold 0.99 from validation; test voices 90.6% recall (348/384 clips), 2/576 negative
# clips, 3.64 false accepts per hour (4 in the 66 min stream). 10-12 min on the loaded 2-core machine once the
# embeddings are cached.
# Usage: scripts/train-wakeword4.sh [OUT_DIR]
#   env (for scripts/train-wakeword5.sh): EXTRA_TRAIN='DIR ...' (more training folders with hey_edge_net/ and other/
#        and a manifest.csv beside them for the phrase ends), EXTRA_NEGATIVE='WAV|DIR ...' (more negative audio),
#        CACHE=DIR (embedding cache; default wakeword-data4/embeddings, which is then linked in), TEST=0 (stop after
#        the validation sweep)
#   env: FA_BUDGET=3 CONSECUTIVE=2 REFRACTORY=1.5 EPOCHS=6 MINE_EPOCHS=2 OVERSAMPLE=6 LR=0.0005 SEED=0
#        FINETUNE_EXTRA='--positive-span 0:0.48 --weight-decay 1e-3 --ema 0.9999' (the configuration chosen on the
#        validation voices: the highest validation recall within FA_BUDGET false accepts per hour on the validation
#        stream; the weight average was added 2026-12-01, docs/TRAINING.md "Weight averaging")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${1:-/tmp/edgenet-wakeword4}"
m=models d0=models/wakeword-data d2=models/wakeword-data2 d3=models/wakeword-data3 d4=models/wakeword-data4
for d in $d0 $d2 $d3; do [[ -f $d/manifest.csv ]] || { echo "missing $d (see scripts/train-wakeword.sh)" >&2; exit 1; }; done
[[ -f $d4/manifest.csv ]] || /usr/bin/python3 scripts/make-wakeword-data4.py "$d4"
cache="${CACHE:-$d4/embeddings}"
mkdir -p "$out" "$cache"
for d in $d0 $d2 $d3 $d4; do
  [[ -d $d/embeddings && "$(readlink -f $d/embeddings)" != "$(readlink -f "$cache")" ]] || continue
  find "$(readlink -f $d/embeddings)" -name '*.f32' -print0 | xargs -0 -r ln -sf -t "$cache"
done
# training folder: links to every training clip (old test voices included) and the augmented copies, with a
# per-source prefix (names repeat across folders)
train="$out/train-all" ends="$out/phrase-ends.csv"
rm -rf "$train"; mkdir -p "$train/hey_edge_net" "$train/other"
echo file,phrase_end > "$ends"
/usr/bin/python3 - "$train" $d0/train-sub $d0/test $d2/train $d3/train $d4/aug ${EXTRA_TRAIN:-} <<'PY'
import os, sys
for i, src in enumerate(sys.argv[2:], 1):
    for c in ("hey_edge_net", "other"):
        for f in sorted(os.listdir(os.path.join(src, c))):
            if f.endswith(".wav"):
                real = os.path.realpath(os.path.join(src, c, f))
                if not os.path.exists(real):  # train-sub made in another checkout: its clip in the train/ beside it
                    real = os.path.realpath(os.path.join(src, "..", "train", c, f))
                os.symlink(real, os.path.join(sys.argv[1], c, f"s{i}_{f}"))
PY
for d in $d0 $d2 $d3 $d4 ${EXTRA_TRAIN:+$(for e in $EXTRA_TRAIN; do dirname "$e"; done)}; do
  awk -F, -v base="$(readlink -f $d)" 'NR > 1 && $3 == "hey_edge_net" { print base "/" $1 "," $10 }' $d/manifest.csv >> "$ends"
done
negative=(--negative-audio $d0/stream/train.wav --negative-audio $d0/stream/negative.wav --negative-audio $d3/stream/train.wav
          --negative-audio $d0/noise --negative-audio $d4/noise)
for e in ${EXTRA_NEGATIVE:-}; do negative+=(--negative-audio "$e"); done
E=./edgenet
start=$(date +%s)
nice -n 10 $E finetune $m/openwakeword/alexa_v0.1.onnx --data "$train" --out "$out/hey_edge_net.enet" --trainable-last 3 \
   --detect hey_edge_net --phrase-ends "$ends" "${negative[@]}" --oversample "${OVERSAMPLE:-6}" \
   --optimizer adam --lr "${LR:-0.0005}" --batch 64 --epochs "${EPOCHS:-6}" --seed "${SEED:-0}" \
   --mine-epochs "${MINE_EPOCHS:-2}" --mine-repeat 3 --embedding-cache "$cache" --plot "$out/history.png" ${FINETUNE_EXTRA---positive-span 0:0.48 --weight-decay 1e-3 --ema 0.9999} | tee "$out/finetune.txt"
echo "finetune (features + training): $(( $(date +%s) - start )) s"
# threshold chosen on the validation voices (clips + 30 min stream), never on the test voices; then the test voices
CACHE="$cache" exec scripts/wakeword-score.sh "$out/hey_edge_net.enet" "$out"
