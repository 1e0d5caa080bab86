#!/usr/bin/env bash
# Makes the generated test models (scripts/make-test-models.py: seeded random weights, torch.onnx.export) in the
# git-ignored models/generated/<name>/{model.onnx,test_data_set_0/} (idempotent: redone only when the generator
# changes). Needs python3-torch, python3-torchvision, python3-onnx (scripts/install-deps.sh test).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/models/generated"
generator="$root/scripts/make-test-models.py"
stamp="$out/.generator.sha256"
want="$(sha256sum "$generator" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi

# Written beside and swapped in whole, so an interrupted run never leaves a half-made set that looks done.
mkdir -p "$root/models"
tmp="$(mktemp -d "$root/models/.generated.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -W ignore "$generator" "$tmp" | sed 's/^/  /'
echo "$want" > "$tmp/.generator.sha256"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "generated models ready in $out"
