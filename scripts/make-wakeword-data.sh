#!/usr/bin/env bash
# Makes a wake-word data set for "hey edge net" with espeak-ng + sox, into the git-ignored models/wakeword-data/:
#   train/{hey_edge_net,other}/*.wav   training voices only
#   test/{hey_edge_net,other}/*.wav    held-out voices: no espeak language or variant of these is in train/
#   noise/{white,pink,brown,babble}.wav  30 s background noises (for audio augmentation)
#   stream/negative.wav                one long stream of negative speech (held-out voices) with pauses and noise,
#                                      for false accepts per hour; length STREAM_MINUTES (default 60)
#   manifest.csv                       file, split, class, text, voice, speed, pitch, noise, snr_db
# Clips are 2.0 s, 16 kHz mono 16-bit; the phrase ends 1.55-1.90 s into the clip (where a detector scoring every
# 80 ms would fire). Positives: several voices, speeds and pitches, most with white/pink/brown noise at 5-30 dB SNR.
# Negatives: ~20 other phrases including near misses ("hey ed", "edge network", "net edge").
# Deterministic (seeded) and idempotent: does nothing when the data for this script version exist.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/models/wakeword-data"
minutes="${STREAM_MINUTES:-60}"
version="1-$minutes"
if [[ -f "$out/.done" && "$(cat "$out/.done")" == "$version" ]]; then echo "wake-word data already in $out"; exit 0; fi
command -v espeak-ng > /dev/null || { echo "needs espeak-ng (scripts/install-deps.sh)" >&2; exit 1; }
command -v sox > /dev/null || { echo "needs sox (scripts/install-deps.sh)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 - "$out" "$minutes" <<'EOF'
import csv, os, random, subprocess, sys, wave
import numpy as np

out, minutes = sys.argv[1], float(sys.argv[2])
RATE, CLIP = 16000, 2.0
rng = random.Random(20261130)
nprng = np.random.default_rng(20261130)

POSITIVE = "hey edge net"
NEGATIVES = [
    "hey ed", "edge network", "net edge", "hey edgar", "hedge net", "hey jet", "edge", "hey net", "hey edge",
    "the edge of the net", "a network edge", "hey there", "hello", "okay computer", "what time is it",
    "turn on the lights", "play some music", "how is the weather", "good morning", "set a timer for ten minutes",
    "stop", "next song please",
]
SENTENCES = [
    "the network at the edge of the town was slow again this morning",
    "can you pass me the salt and the pepper", "we should leave before the traffic gets bad",
    "hey, did you see the game last night", "the kettle is boiling, do you want some tea",
    "edge cases are where most of the bugs live", "the fishing net was full of small fish",
    "I think the meeting moved to half past three", "please remember to water the plants on friday",
    "the children are playing in the garden", "my phone battery is almost empty",
    "the train to the city leaves every twenty minutes", "hey, it is your turn to cook dinner",
    "the hedge needs cutting before the summer", "she told me the news over the phone",
    "the internet went down during the storm", "that movie was much longer than I expected",
    "do we have enough bread for breakfast", "the printer on the second floor is jammed again",
    "he sat on the edge of the bed and read the letter", "the net profit was higher this year",
    "let us go for a walk along the river", "I can't find my keys anywhere",
    "the coffee machine makes a strange noise", "next week we are visiting my grandmother",
]
# Held-out split: test voices share neither the espeak language nor the variant with any training voice.
TRAIN_LANGS = ["en-us", "en-gb", "en-gb-x-rp", "en-us-nyc"]
TEST_LANGS = ["en-gb-scotland", "en-029", "en-gb-x-gbcwmd", "en-gb-x-gbclan"]
TRAIN_VARIANTS = ["m1", "m2", "m4", "m5", "m7", "f1", "f3", "f4", "klatt", "adam", "andy", "annie", "david",
                  "edward", "john", "linda", "max", "paul", "rob", "steph"]
TEST_VARIANTS = ["m3", "m6", "m8", "f2", "f5", "klatt2", "benjamin", "michael", "shelby", "travis"]
SPEEDS, PITCHES = (115, 185), (25, 75)


def speak(text, voice, speed, pitch):
    """espeak-ng -> sox -> 16 kHz mono float32 in [-1, 1]."""
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
                         check=True, capture_output=True).stdout
    raw = subprocess.run(["sox", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1", "-e", "floating-point",
                          "-b", "32", "-"], input=wav, check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32).astype(np.float64)


def noise(kind, n):
    white = nprng.standard_normal(n)
    if kind == "white":
        x = white
    else:  # shape the spectrum: pink 1/f power, brown 1/f^2
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = 1
        spec /= np.sqrt(f) if kind == "pink" else f
        x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


def rms(x):
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def write(path, x):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def clip(speech):
    """Place the phrase so that it ends 1.55-1.90 s into a 2.0 s clip."""
    n = int(CLIP * RATE)
    end = int(rng.uniform(1.55, 1.90) * RATE)
    start = max(int(0.05 * RATE), end - len(speech))
    speech = speech[: n - start]
    x = np.zeros(n)
    x[start:start + len(speech)] = speech
    return x


def add_noise(x, speech_rms, prob=0.85):
    if rng.random() >= prob:
        return x, "none", ""
    kind = rng.choice(["white", "pink", "brown"])
    snr = rng.uniform(5, 30)
    return x + noise(kind, len(x)) * speech_rms / (10 ** (snr / 20)), kind, f"{snr:.1f}"


rows = []
for split, langs, variants, positives_per_voice in (("train", TRAIN_LANGS, TRAIN_VARIANTS, 3), ("test", TEST_LANGS, TEST_VARIANTS, 3)):
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, split, cls), exist_ok=True)
    k = 0
    for lang in langs:
        for variant in variants:
            voice = f"{lang}+{variant}"
            jobs = [(POSITIVE, "hey_edge_net")] * positives_per_voice + [(t, "other") for t in NEGATIVES]
            for text, cls in jobs:
                speed, pitch = rng.randint(*SPEEDS), rng.randint(*PITCHES)
                speech = speak(text, voice, speed, pitch)
                level = 10 ** (rng.uniform(-20, -6) / 20)  # speech peak between -20 and -6 dBFS
                speech *= level / (np.max(np.abs(speech)) + 1e-12)
                x, kind, snr = add_noise(clip(speech), rms(speech[np.abs(speech) > 1e-4]))
                name = f"{cls}_{k:05d}.wav"
                k += 1
                write(os.path.join(out, split, cls, name), x)
                rows.append([f"{split}/{cls}/{name}", split, cls, text, voice, speed, pitch, kind, snr])

# Background noises for augmentation: coloured noises and a babble of overlapping training-voice sentences.
os.makedirs(os.path.join(out, "noise"), exist_ok=True)
n = 30 * RATE
for kind in ("white", "pink", "brown"):
    write(os.path.join(out, "noise", f"{kind}.wav"), 0.1 * noise(kind, n))
babble = np.zeros(n)
for _ in range(24):
    s = speak(rng.choice(SENTENCES), f"{rng.choice(TRAIN_LANGS)}+{rng.choice(TRAIN_VARIANTS)}", rng.randint(*SPEEDS), rng.randint(*PITCHES))
    at = rng.randrange(0, n - len(s))
    babble[at:at + len(s)] += s / (np.max(np.abs(s)) + 1e-12) * 0.1
write(os.path.join(out, "noise", "babble.wav"), babble * 0.3 / (np.max(np.abs(babble)) + 1e-12))

# The long negative stream: held-out voices saying near misses, other commands and everyday sentences, with pauses,
# over a low noise floor that changes colour and level every ~20 s.
os.makedirs(os.path.join(out, "stream"), exist_ok=True)
total = int(minutes * 60 * RATE)
stream = np.zeros(total)
at, spoken = int(0.5 * RATE), 0
while at < total:
    text = rng.choice(NEGATIVES) if rng.random() < 0.5 else rng.choice(SENTENCES)
    voice = f"{rng.choice(TEST_LANGS)}+{rng.choice(TEST_VARIANTS)}"
    s = speak(text, voice, rng.randint(*SPEEDS), rng.randint(*PITCHES))
    s *= 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(s)) + 1e-12)
    s = s[: total - at]
    stream[at:at + len(s)] += s
    at += len(s) + int(rng.uniform(0.2, 2.5) * RATE)
    spoken += 1
seg = 20 * RATE
for start in range(0, total, seg):
    m = min(seg, total - start)
    stream[start:start + m] += noise(rng.choice(["white", "pink", "brown"]), m) * 10 ** (rng.uniform(-55, -35) / 20)
write(os.path.join(out, "stream", "negative.wav"), stream)

with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["file", "split", "class", "text", "voice", "speed", "pitch", "noise", "snr_db"])
    w.writerows(rows)
counts = {}
for r in rows:
    counts[(r[1], r[2])] = counts.get((r[1], r[2]), 0) + 1
print(", ".join(f"{s}/{c}: {n}" for (s, c), n in sorted(counts.items())), f"; stream: {minutes:g} min, {spoken} utterances")
EOF
echo "$version" > "$out/.done"
echo "wake-word data ready in $out"
