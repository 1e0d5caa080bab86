#!/usr/bin/env bash
# Makes a wake-word data set for "hey edge net" with espeak-ng, into the git-ignored models/wakeword-data/:
#   train/{hey_edge_net,other}/*.wav   training voices
#   val/{hey_edge_net,other}/*.wav     training voices, other speeds/pitches/noise (to choose the threshold on)
#   test/{hey_edge_net,other}/*.wav    held-out voices: no espeak language or variant of these is in train/ or val/
#   noise/{white,pink,brown,babble,silence}.wav  30 s backgrounds (augmentation, and noise-only negatives)
#   stream/train.wav                   training voices: near misses, commands and sentences with pauses over a changing
#                                      noise floor (TRAIN_STREAM_MINUTES, default 30), for training negatives
#   stream/negative.wav                the same made of held-out voices, STREAM_MINUTES (default 60) long, for false
#                                      accepts per hour
#   manifest.csv                       file, split, class, text, voice, speed, pitch, noise, snr_db, phrase_end (s)
# Clips are 3.0 s, 16 kHz mono 16-bit; the phrase ends 2.0-2.4 s into the clip (phrase_end, where a detector scoring
# every 80 ms should fire). Positives: several voices, speeds and pitches, most with white/pink/brown noise at 5-30 dB
# SNR. Negatives: ~20 other phrases including near misses ("hey ed", "edge network", "net edge").
# Fast: one espeak-ng call speaks a batch of phrases separated by SSML breaks (split again at the exact-zero gaps),
# espeak's 22.05 kHz output is resampled to 16 kHz by FFT in numpy (no sox), and batches run in a process pool.
# Deterministic (seeded) and idempotent: does nothing when the data for this script version exist.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/models/wakeword-data"
minutes="${STREAM_MINUTES:-60}"
train_minutes="${TRAIN_STREAM_MINUTES:-30}"
version="2-$minutes-$train_minutes"
if [[ -f "$out/.done" && "$(cat "$out/.done")" == "$version" ]]; then echo "wake-word data already in $out"; exit 0; fi
command -v espeak-ng > /dev/null || { echo "needs espeak-ng (scripts/install-deps.sh)" >&2; exit 1; }
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 - "$out" "$minutes" "$train_minutes" <<'EOF'
import csv, io, multiprocessing, os, random, subprocess, sys, time, wave
import numpy as np

out, minutes, train_minutes = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
RATE, CLIP, BREAK_MS = 16000, 3.0, 1100
rng = random.Random(20261130)
nprng = np.random.default_rng(20261130)
t0 = time.time()

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
assert not set(TRAIN_LANGS) & set(TEST_LANGS) and not set(TRAIN_VARIANTS) & set(TEST_VARIANTS)
SPEEDS, PITCHES = (115, 185), (25, 75)


def resample(x):
    """22.05 kHz -> 16 kHz by FFT (band-limited: the spectrum is cut at 8 kHz)."""
    n = int(round(len(x) * RATE / 22050))
    spec = np.fft.rfft(x)[: n // 2 + 1]
    return np.fft.irfft(spec, n) * (n / len(x))


def espeak(args):
    """One espeak-ng call: SSML text -> float64 samples at 22.05 kHz."""
    voice, speed, pitch, ssml = args
    data = subprocess.run(["espeak-ng", "-m", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", ssml],
                          check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(data)) as w:
        assert w.getframerate() == 22050
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def speak_batch(args):
    """Speaks several phrases in one call; returns each one (trimmed, 16 kHz), split at the breaks between them."""
    voice, speed, pitch, texts = args
    ssml = "<speak>" + f'<break time="{BREAK_MS}ms"/>'.join(texts) + "</speak>"
    x = espeak((voice, speed, pitch, ssml))
    quiet = np.abs(x) <= 2 / 32768
    # runs of exact silence at least 0.8 s long separate the phrases
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    gaps = [(s, e) for s, e in zip(edges[::2], edges[1::2]) if e - s >= 0.8 * 22050 and s > 0 and e < len(x)]
    if len(gaps) != len(texts) - 1:  # the split is ambiguous: speak them one by one
        parts = [espeak((voice, speed, pitch, f"<speak>{t}</speak>")) for t in texts]
    else:
        bounds = [0] + [g for gap in gaps for g in gap] + [len(x)]
        parts = [x[bounds[2 * i]:bounds[2 * i + 1]] for i in range(len(texts))]
    result = []
    for p in parts:
        loud = np.flatnonzero(np.abs(p) > 2 / 32768)
        p = p[loud[0]:loud[-1] + 1] if len(loud) else p
        result.append(resample(p))
    return result


def speak_stream(args):
    """One call speaking several utterances with the given pauses between them, at 16 kHz."""
    voice, speed, pitch, texts, pauses = args
    ssml = "<speak>" + "".join(t + f'<break time="{int(p * 1000)}ms"/>' for t, p in zip(texts, pauses)) + "</speak>"
    return resample(espeak((voice, speed, pitch, ssml)))


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
    """Place the phrase so that it ends 2.0-2.4 s into a 3.0 s clip; returns the clip and the phrase end in seconds."""
    n = int(CLIP * RATE)
    end = int(rng.uniform(2.0, 2.4) * RATE)
    start = max(int(0.05 * RATE), end - len(speech))
    speech = speech[: n - start]
    x = np.zeros(n)
    x[start:start + len(speech)] = speech
    return x, (start + len(speech)) / RATE


def add_noise(x, speech_rms, prob=0.85):
    if rng.random() >= prob:
        return x, "none", ""
    kind = rng.choice(["white", "pink", "brown"])
    snr = rng.uniform(5, 30)
    return x + noise(kind, len(x)) * speech_rms / (10 ** (snr / 20)), kind, f"{snr:.1f}"


pool = multiprocessing.Pool(int(os.environ.get("JOBS", "3")))

# Clips: per voice, batches of up to 6 phrases, each batch with its own speed and pitch.
SPLITS = (("train", TRAIN_LANGS, TRAIN_VARIANTS, 6, NEGATIVES),
          ("val", TRAIN_LANGS, TRAIN_VARIANTS, 2, NEGATIVES[:8]),
          ("test", TEST_LANGS, TEST_VARIANTS, 5, NEGATIVES))
jobs, meta = [], []
for split, langs, variants, positives_per_voice, negatives in SPLITS:
    for lang in langs:
        for variant in variants:
            voice = f"{lang}+{variant}"
            phrases = [(POSITIVE, "hey_edge_net")] * positives_per_voice + [(t, "other") for t in negatives]
            rng.shuffle(phrases)
            for b in range(0, len(phrases), 6):
                batch = phrases[b:b + 6]
                speed, pitch = rng.randint(*SPEEDS), rng.randint(*PITCHES)
                jobs.append((voice, speed, pitch, [t for t, _ in batch]))
                meta.append((split, voice, speed, pitch, batch))
spoken = pool.map(speak_batch, jobs, chunksize=4)
print(f"clips spoken: {len(jobs)} espeak calls in {time.time() - t0:.0f} s", flush=True)

rows, k = [], 0
for (split, voice, speed, pitch, batch), speeches in zip(meta, spoken):
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, split, cls), exist_ok=True)
    for (text, cls), speech in zip(batch, speeches):
        level = 10 ** (rng.uniform(-20, -6) / 20)  # speech peak between -20 and -6 dBFS
        speech = speech * level / (np.max(np.abs(speech)) + 1e-12)
        x, end = clip(speech)
        x, kind, snr = add_noise(x, rms(speech[np.abs(speech) > 1e-4]))
        name = f"{cls}_{k:05d}.wav"
        k += 1
        write(os.path.join(out, split, cls, name), x)
        rows.append([f"{split}/{cls}/{name}", split, cls, text, voice, speed, pitch, kind, snr, f"{end:.4f}"])

# Background noises: coloured noises, a babble of overlapping training-voice sentences, and digital silence.
os.makedirs(os.path.join(out, "noise"), exist_ok=True)
n = 30 * RATE
for kind in ("white", "pink", "brown"):
    write(os.path.join(out, "noise", f"{kind}.wav"), 0.1 * noise(kind, n))
write(os.path.join(out, "noise", "silence.wav"), np.zeros(n))
babble_jobs = [(f"{rng.choice(TRAIN_LANGS)}+{rng.choice(TRAIN_VARIANTS)}", rng.randint(*SPEEDS), rng.randint(*PITCHES),
                [rng.choice(SENTENCES)], [0.0]) for _ in range(24)]
babble = np.zeros(n)
for s in pool.map(speak_stream, babble_jobs):
    at = rng.randrange(0, n - len(s))
    babble[at:at + len(s)] += s / (np.max(np.abs(s)) + 1e-12) * 0.1
write(os.path.join(out, "noise", "babble.wav"), babble * 0.3 / (np.max(np.abs(babble)) + 1e-12))


def make_stream(path, minutes, langs, variants):
    """Near misses, other commands and everyday sentences with pauses, over a noise floor that changes colour and
    level every ~20 s; one espeak call speaks 8 utterances of one voice (each at its own level)."""
    total = int(minutes * 60 * RATE)
    calls, need = [], total
    while need > 0:
        texts = [rng.choice(NEGATIVES) if rng.random() < 0.5 else rng.choice(SENTENCES) for _ in range(8)]
        pauses = [rng.uniform(0.2, 2.5) for _ in texts]
        calls.append((f"{rng.choice(langs)}+{rng.choice(variants)}", rng.randint(*SPEEDS), rng.randint(*PITCHES), texts, pauses))
        need -= int(sum(pauses) * RATE + sum(0.065 * len(t) for t in texts) * RATE)  # rough length estimate
    stream = np.zeros(total)
    at, utterances = int(0.5 * RATE), 0
    for s, call in zip(pool.map(speak_stream, calls), calls):
        if at >= total:
            break
        s = s * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(s)) + 1e-12)
        s = s[: total - at]
        stream[at:at + len(s)] += s
        at += len(s) + int(rng.uniform(0.2, 2.5) * RATE)
        utterances += len(call[3])
    seg = 20 * RATE
    for start in range(0, total, seg):
        m = min(seg, total - start)
        stream[start:start + m] += noise(rng.choice(["white", "pink", "brown"]), m) * 10 ** (rng.uniform(-55, -35) / 20)
    write(path, stream)
    return utterances, at / RATE / 60


os.makedirs(os.path.join(out, "stream"), exist_ok=True)
tr = make_stream(os.path.join(out, "stream", "train.wav"), train_minutes, TRAIN_LANGS, TRAIN_VARIANTS)
te = make_stream(os.path.join(out, "stream", "negative.wav"), minutes, TEST_LANGS, TEST_VARIANTS)

with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["file", "split", "class", "text", "voice", "speed", "pitch", "noise", "snr_db", "phrase_end"])
    w.writerows(rows)
counts = {}
for r in rows:
    counts[(r[1], r[2])] = counts.get((r[1], r[2]), 0) + 1
print(", ".join(f"{s}/{c}: {n}" for (s, c), n in sorted(counts.items())),
      f"; training stream {train_minutes:g} min ({tr[0]} utterances, speech until {tr[1]:.1f} min);"
      f" test stream {minutes:g} min ({te[0]} utterances, speech until {te[1]:.1f} min); {time.time() - t0:.0f} s")
EOF
echo "$version" > "$out/.done"
echo "wake-word data ready in $out"
