#!/usr/bin/env bash
# Installs the Debian packages EdgeNet's scripts need, only those missing (idempotent; needs root or sudo).
#   install-deps.sh [test]   — always: npm (model fetching), espeak-ng + sox (speech); with "test": libonnx-testdata.
set -euo pipefail
need=()
command -v npm > /dev/null || need+=(npm)
command -v espeak-ng > /dev/null || need+=(espeak-ng)
command -v sox > /dev/null || need+=(sox)
if [[ "${1:-}" == test ]]; then
  [[ -d /usr/share/libonnx-testdata/data/node ]] || need+=(libonnx-testdata)
fi
(( ${#need[@]} )) || exit 0
echo "installing ${need[*]}" >&2
sudo=""
(( EUID == 0 )) || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" > /dev/null
