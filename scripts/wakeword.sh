#!/usr/bin/env bash
# The main job: run the openWakeWord chain (melspectrogram -> embedding -> hey_jarvis / alexa / timer) on a WAV file
# and print the wake-word scores every 80 ms. Without an argument it speaks "hey jarvis" with espeak-ng first.
#   scripts/wakeword.sh [WAV] [--threshold T]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/fetch-models.sh" > /dev/null
wav="${1:-}"
if [[ -z "$wav" || "$wav" == --* ]]; then
  [[ -f "$root/models/speech/hey_jarvis.wav" ]] || "$root/scripts/make-speech.sh" > /dev/null
  wav="$root/models/speech/hey_jarvis.wav"
else
  shift
fi
dotnet build "$root/samples/WakeWord/WakeWord.csproj" -c Release -o "$root/.build/wakeword" -nologo -v quiet > /dev/null
exec dotnet "$root/.build/wakeword/wakeword.dll" "$wav" --models "$root/models/openwakeword" "$@"
