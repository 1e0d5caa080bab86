#!/usr/bin/env bash
# Makes test speech with espeak-ng + sox: 16 kHz mono 16-bit WAVs with silence around, in models/speech/.
#   make-speech.sh [TEXT NAME] — default: "hey jarvis", "alexa" and a negative phrase.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/models/speech"
mkdir -p "$out"
say() { # say TEXT NAME [VOICE] [SPEED]
  local tmp; tmp="$(mktemp --suffix=.wav)"
  espeak-ng -v "${3:-en-us}" -s "${4:-140}" -w "$tmp" "$1"
  # -D: no dither (sox dithers with random noise by default when it resamples to 16 bits, so each run made
  # different bytes and the main job printed different scores)
  sox -D "$tmp" -r 16000 -c 1 -b 16 "$out/$2.wav" pad 3 1
  rm -f "$tmp"
}
if (( $# >= 2 )); then say "$1" "$2"; exit 0; fi
say "hey jarvis" hey_jarvis
say "alexa" alexa
say "the weather is nice today and the coffee is hot" negative
echo "speech ready in $out"
