#!/usr/bin/env bash
# Installs the Debian packages EdgeNet's scripts need, only those missing (idempotent; needs root or sudo).
#   install-deps.sh [test]   — always: npm (model fetching), espeak-ng + sox (speech); with "test": libonnx-testdata,
#                              and python3-torch, -torchvision, -onnx (scripts/make-test-models.sh exports with them).
set -euo pipefail
need=()
python=() # without Recommends: those pull in GTK, Qt, ffmpeg and libtorch-dev (~90 MB more) the exporter never uses
command -v npm > /dev/null || need+=(npm)
command -v espeak-ng > /dev/null || need+=(espeak-ng)
command -v sox > /dev/null || need+=(sox)
if [[ "${1:-}" == test ]]; then
  [[ -d /usr/share/libonnx-testdata/data/node ]] || need+=(libonnx-testdata)
  for p in python3-torch python3-torchvision python3-onnx; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null)" == *" installed" ]] || python+=("$p")
  done
fi
(( ${#need[@]} + ${#python[@]} )) || exit 0
echo "installing ${need[*]} ${python[*]}" >&2
sudo=""
(( EUID == 0 )) || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
(( ${#need[@]} == 0 )) || $sudo apt-get install -y -qq "${need[@]}" > /dev/null
(( ${#python[@]} == 0 )) || $sudo apt-get install -y -qq --no-install-recommends "${python[@]}" > /dev/null
