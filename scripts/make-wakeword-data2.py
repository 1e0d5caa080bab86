#!/usr/bin/python3
"""More voice variety for the "hey edge net" wake word, into models/wakeword-data2/ (models/wakeword-data stays as is):

  train/{hey_edge_net,other}/*.wav   the 4 training languages of make-wakeword-data.sh with the 20 training variants
                                     plus 26 more espeak variants, wider speeds (100-220) and pitches (5-95), and on
                                     most clips a vocal-tract change: the speech is resampled by 0.86-1.16 (formants,
                                     pitch and duration move together), then noise as before
  val/{hey_edge_net,other}/*.wav     held-out-LIKE voices to choose the threshold on: 10 variants used nowhere else
                                     (training or test) in the 4 training languages, plus English text spoken with 4
                                     non-English espeak languages (accents never trained on)
  manifest.csv                       the columns of make-wakeword-data.sh plus 'warp'
No voice of the test split of make-wakeword-data.sh (its languages or variants) is used here. Clips are 3.0 s,
16 kHz, the phrase ends 2.0-2.4 s in (as in make-wakeword-data.sh). Deterministic (seeded).

With --accents (models/wakeword-data3/): the same training voices, and as validation the 10 held-out variants in the
training languages, say the phrase (and a few near misses) also from espeak phoneme strings with common English accent
features: a dropped h ("ay edge net"), a monophthong in "hey" (h'e:), "hey" as h'aI, a glottal t; no non-English
accents.

With --stream MINUTES (models/wakeword-data3/stream/train.wav): a training negative stream of the same training
voices (46 variants, accents as above): near misses, commands and sentences with pauses over a changing noise floor.

usage: make-wakeword-data2.py OUT_DIR [--accents] [--stream MINUTES]
"""
import multiprocessing
import os
import random
import sys
import time

import numpy as np

from wakeword_speech import NEGATIVES, POSITIVE, RATE, SENTENCES, clip, mix_noise, noise, speak_batch, speak_stream, write, write_manifest

out = sys.argv[1]
rng = random.Random(20261201)
nprng = np.random.default_rng(20261201)
t0 = time.time()
TRAIN_LANGS = ["en-us", "en-gb", "en-gb-x-rp", "en-us-nyc"]
TEST_LANGS = ["en-gb-scotland", "en-029", "en-gb-x-gbcwmd", "en-gb-x-gbclan"]
TRAIN_VARIANTS = ["m1", "m2", "m4", "m5", "m7", "f1", "f3", "f4", "klatt", "adam", "andy", "annie", "david",
                  "edward", "john", "linda", "max", "paul", "rob", "steph"]
TEST_VARIANTS = ["m3", "m6", "m8", "f2", "f5", "klatt2", "benjamin", "michael", "shelby", "travis"]
MORE_VARIANTS = ["Alex", "Alicia", "Andrea", "Denis", "Diogo", "Gene", "Henrique", "Hugo", "Jacky", "Lee", "Mario",
                 "Mike", "Nguyen", "anika", "announcer", "antonio", "aunty", "belinda", "caleb", "ed", "grandma",
                 "grandpa", "iven", "klatt3", "marcelo", "steph2"]
VAL_VARIANTS = ["boris", "norbert", "quincy", "zac", "Gene2", "iven2", "klatt4", "michel", "pablo", "victor"]
VAL_ACCENTS = ["nl", "de", "sv", "af"]  # English text spoken by non-English voices: accents no training voice has
assert not set(MORE_VARIANTS + VAL_VARIANTS) & set(TRAIN_VARIANTS + TEST_VARIANTS)
assert not set(MORE_VARIANTS) & set(VAL_VARIANTS)


ACCENTS = "--accents" in sys.argv[2:]
STREAM = float(sys.argv[sys.argv.index("--stream") + 1]) if "--stream" in sys.argv else 0
# phoneme strings (espeak [[...]]; the space after ]] ends phoneme input before the next SSML tag)
POSITIVES = [POSITIVE] + (["[['eI 'EdZ n'Et]] ", "[[h'e: 'EdZ n'Et]] ", "[['e: 'EdZ n'Et]] ", "[[h'aI 'EdZ n'Et]] ",
                           "[[h'eI 'EdZ n'E?]] ", "[['eI 'EdZ n'E?]] "] if ACCENTS else [])
MORE_NEGATIVES = ["[['eI 'Ed]] ", "[['eI 'EdZ]] ", "[['eI n'Et]] ", "[[h'aI 'Ed]] ", "[['e: 'EdZ]] "] if ACCENTS else []
if ACCENTS:
    SPLITS = (
        ("train", [f"{l}+{v}" for l in TRAIN_LANGS for v in TRAIN_VARIANTS + MORE_VARIANTS], 4, 3, 0.75),
        ("val", [f"{l}+{v}" for l in TRAIN_LANGS for v in VAL_VARIANTS], 4, 2, 0.0),
    )
else:
    SPLITS = (
        ("train", [f"{l}+{v}" for l in TRAIN_LANGS for v in TRAIN_VARIANTS + MORE_VARIANTS], 6, 8, 0.75),
        ("val", [f"{l}+{v}" for l in TRAIN_LANGS + VAL_ACCENTS for v in VAL_VARIANTS], 3, 3, 0.0),
    )


if STREAM > 0:
    total = int(STREAM * 60 * RATE)
    voices = [f"{l}+{v}" for l in TRAIN_LANGS for v in TRAIN_VARIANTS + MORE_VARIANTS]
    calls, need = [], total
    while need > 0:
        texts = [rng.choice(NEGATIVES + MORE_NEGATIVES) if rng.random() < 0.5 else rng.choice(SENTENCES) for _ in range(8)]
        pauses = [rng.uniform(0.2, 2.5) for _ in texts]
        calls.append((rng.choice(voices), rng.randint(100, 220), rng.randint(5, 95), texts, pauses))
        need -= int(sum(pauses) * RATE + sum(0.065 * len(t) for t in texts) * RATE)
    with multiprocessing.Pool(int(os.environ.get("JOBS", "2"))) as pool:
        parts = pool.map(speak_stream, calls)
    stream = np.zeros(total)
    at = int(0.5 * RATE)
    for x in parts:
        if at >= total:
            break
        x = x * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(x)) + 1e-12)
        x = x[: total - at]
        stream[at:at + len(x)] += x
        at += len(x) + int(rng.uniform(0.2, 2.5) * RATE)
    for start in range(0, total, 20 * RATE):
        m = min(20 * RATE, total - start)
        stream[start:start + m] += noise(rng.choice(["white", "pink", "brown"]), m, nprng) * 10 ** (rng.uniform(-55, -35) / 20)
    os.makedirs(os.path.join(out, "stream"), exist_ok=True)
    write(os.path.join(out, "stream", "train.wav"), stream)
    print(f"stream {STREAM:g} min ({len(calls)} espeak calls, speech until {at / RATE / 60:.1f} min) in {time.time() - t0:.0f} s")
    sys.exit(0)
jobs, meta = [], []
for split, voices, npos, nneg, warp_prob in SPLITS:
    for voice in voices:
        phrases = [(rng.choice(POSITIVES), "hey_edge_net") for _ in range(npos)] + [(t, "other") for t in rng.sample(NEGATIVES + MORE_NEGATIVES, nneg)]
        rng.shuffle(phrases)
        for b in range(0, len(phrases), 7):
            batch = phrases[b:b + 7]
            speed, pitch = rng.randint(100, 220), rng.randint(5, 95)
            warp = rng.uniform(0.86, 1.16) if rng.random() < warp_prob else 1.0
            jobs.append((voice, speed, pitch, [t for t, _ in batch], warp))
            meta.append((split, voice, speed, pitch, warp, batch))
with multiprocessing.Pool(int(os.environ.get("JOBS", "2"))) as pool:
    spoken = pool.map(speak_batch, jobs, chunksize=4)
print(f"{len(jobs)} espeak calls in {time.time() - t0:.0f} s", flush=True)
rows, k = [], 0
for (split, voice, speed, pitch, warp, batch), speeches in zip(meta, spoken):
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, split, cls), exist_ok=True)
    for (text, cls), speech in zip(batch, speeches):
        speech = speech * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(speech)) + 1e-12)
        x, end = clip(speech, rng)
        x, kind, snr = mix_noise(speech, x, rng, nprng)
        name = f"{cls}_{k:05d}.wav"
        k += 1
        write(os.path.join(out, split, cls, name), x)
        rows.append([f"{split}/{cls}/{name}", split, cls, text, voice, speed, pitch, kind, snr, f"{end:.4f}", f"{warp:.3f}"])
write_manifest(out, rows, t0)
