#!/usr/bin/env bash
# Makes the QDQ-quantized test models (scripts/make-qdq-models.py: the seeded architectures of make-test-models.py,
# calibrated and quantized the way ONNX Runtime's static QDQ quantizer does it) in the git-ignored
# models/generated-qdq/<name>/model.onnx (idempotent: redone only when either generator changes). Needs
# python3-torch, python3-torchvision, python3-onnx (scripts/install-deps.sh test).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/models/generated-qdq"
stamp="$out/.generator.sha256"
want="$(cat "$root/scripts/make-qdq-models.py" "$root/scripts/make-test-models.py" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi

# Written beside and swapped in whole, so an interrupted run never leaves a half-made set that looks done.
mkdir -p "$root/models"
tmp="$(mktemp -d "$root/models/.generated-qdq.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -W ignore "$root/scripts/make-qdq-models.py" "$tmp" | sed 's/^/  /'
echo "$want" > "$tmp/.generator.sha256"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "QDQ models ready in $out"
