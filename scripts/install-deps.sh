#!/usr/bin/env bash
# Installs the Debian packages EdgeNet's scripts need, only those missing (idempotent; needs root or sudo).
#   install-deps.sh [test] [arm64]
#     always: npm (model fetching), espeak-ng + sox (speech)
#     test:   libonnx-testdata (the ONNX conformance suite), python3-torch, -torchvision, -onnx
#             (scripts/make-test-models.sh exports the generated test models with them)
#     arm64:  qemu-user-static + the arm64 C/C++ runtimes, to run ARM64 builds under emulation (scripts/arm64.sh)
set -euo pipefail
need=()
python=() # without Recommends: those pull in GTK, Qt, ffmpeg and libtorch-dev (~90 MB more) the exporter never uses
command -v npm > /dev/null || need+=(npm)
command -v espeak-ng > /dev/null || need+=(espeak-ng)
command -v sox > /dev/null || need+=(sox)
for mode in "$@"; do
  case "$mode" in
    test)
      [[ -d /usr/share/libonnx-testdata/data/node ]] || need+=(libonnx-testdata)
      for p in python3-torch python3-torchvision python3-onnx; do
        [[ "$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null)" == *" installed" ]] || python+=("$p")
      done ;;
    arm64)
      command -v qemu-aarch64-static > /dev/null || need+=(qemu-user-static)
      [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]] || need+=(libc6-arm64-cross)
      [[ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ]] || need+=(libstdc++6-arm64-cross) ;;
    *) echo "install-deps.sh: unknown mode '$mode' (modes: test, arm64)" >&2; exit 2 ;;
  esac
done
(( ${#need[@]} + ${#python[@]} )) || exit 0
echo "installing ${need[*]} ${python[*]}" >&2
sudo=""
(( EUID == 0 )) || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
(( ${#need[@]} == 0 )) || $sudo apt-get install -y -qq "${need[@]}" > /dev/null
(( ${#python[@]} == 0 )) || $sudo apt-get install -y -qq --no-install-recommends "${python[@]}" > /dev/null
