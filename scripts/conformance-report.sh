#!/usr/bin/env bash
# Prints how the whole ONNX conformance suite fares, grouped: passes, and unsupported folders by reason.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
d=/usr/share/libonnx-testdata/data
out="$(mktemp)"
"$root/edgenet" test-data "$d/node" "$d/pytorch-converted" "$d/pytorch-operator" "$d/simple" --skip-unsupported > "$out" || true
echo "pass: $(grep -c '^PASS' "$out")   fail: $(grep -c '^FAIL' "$out" || true)   unsupported: $(grep -c '^UNSUPPORTED' "$out" || true)"
echo
echo "unsupported, by reason (count, reason):"
grep '^UNSUPPORTED' "$out" | sed -E "s/^UNSUPPORTED [^ ]+ [^ ]+ //; s/\(node '[^']*', //; s/\)//" | sort | uniq -c | sort -rn
rm -f "$out"
