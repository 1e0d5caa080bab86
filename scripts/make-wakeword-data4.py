#!/usr/bin/python3
"""A fresh, fixed held-out protocol for the "hey edge net" wake word, into models/wakeword-data4/ (git-ignored):

  test/{hey_edge_net,other}/*.wav  TEST VOICES, fixed before any tuning: 12 espeak variants used nowhere else
                                   (FRESH_VARIANTS) x all 8 English espeak languages = 96 voices; the plain text
                                   (no phoneme strings), 4 positives and 6 near misses / commands per voice
  stream/negative.wav              66 min of the test voices: near misses, commands and sentences with pauses over a
                                   changing noise floor, for false accepts per hour
  val/{hey_edge_net,other}/*.wav   VALIDATION VOICES (threshold only): the 10 VAL_VARIANTS of make-wakeword-data2.py
                                   (never trained on) x the 8 languages, plain text, 2 positives and 3 negatives each
  stream/val.wav                   30 min of the validation voices (as stream/negative.wav): false accepts per hour
                                   when choosing the threshold
  aug/{hey_edge_net,other}/*.wav   waveform augmentation of the TRAINING clips of models/wakeword-data{,2,3}: each
                                   positive once and every 3rd negative once, with a time shift, a synthetic room
                                   (exponentially decaying noise impulse response, RT60 0.15-0.7 s) on 60%, a gain
                                   and a background (noise, babble or music-like tones) at 0-20 dB SNR on 80%
  noise/music.wav                  5 min of music-like tones (chords of harmonic notes with envelopes): augmentation
                                   background and a training negative
  manifest.csv                     file, split, class, text, voice, speed, pitch, noise, snr_db, phrase_end, warp
Speeds 100-220, pitches 5-95, a vocal-tract warp (0.86-1.16 resampling) on half the test/val clips, noise on 85%.
The espeak effect voices (robots, whisper, croak, ...) are used nowhere. Deterministic (seeded).

usage: make-wakeword-data4.py [OUT_DIR]   (JOBS=2 processes)
"""
import csv
import multiprocessing
import os
import random
import sys
import time

import numpy as np

from wakeword_speech import (NEGATIVES, POSITIVE, RATE, SENTENCES, clip, mix_noise, noise, read, speak_batch, speak_stream,
                             write, write_manifest)

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "wakeword-data4")
rng = random.Random(20261130_4)
nprng = np.random.default_rng(20261130_4)
t0 = time.time()
# the near misses of make-wakeword-data2.py and four more
NEGATIVES = NEGATIVES + ["hey jarvis", "head and neck", "a headset", "hey, get the net"]
LANGS = ["en-us", "en-gb", "en-gb-x-rp", "en-us-nyc", "en-gb-scotland", "en-029", "en-gb-x-gbcwmd", "en-gb-x-gbclan"]
# every variant used by make-wakeword-data.sh / make-wakeword-data2.py (training, old test, validation)
USED = ["m1", "m2", "m4", "m5", "m7", "f1", "f3", "f4", "klatt", "adam", "andy", "annie", "david", "edward", "john",
        "linda", "max", "paul", "rob", "steph", "m3", "m6", "m8", "f2", "f5", "klatt2", "benjamin", "michael", "shelby",
        "travis", "Alex", "Alicia", "Andrea", "Denis", "Diogo", "Gene", "Henrique", "Hugo", "Jacky", "Lee", "Mario",
        "Mike", "Nguyen", "anika", "announcer", "antonio", "aunty", "belinda", "caleb", "ed", "grandma", "grandpa",
        "iven", "klatt3", "marcelo", "steph2"]
VAL_VARIANTS = ["boris", "norbert", "quincy", "zac", "Gene2", "iven2", "klatt4", "michel", "pablo", "victor"]
FRESH_VARIANTS = ["edward2", "iven3", "iven4", "klatt5", "klatt6", "robert", "miguel", "Marco", "pedro", "sandro",
                  "gustave", "steph3"]
assert not {v.lower() for v in FRESH_VARIANTS} & {v.lower() for v in USED + VAL_VARIANTS}


def music(n):
    """Music-like tones: a sequence of chords of harmonic notes (attack/decay envelopes), sometimes a beat."""
    x, at = np.zeros(n), 0
    t = np.arange(int(1.2 * RATE)) / RATE
    while at < n:
        dur = int(rng.uniform(0.15, 1.2) * RATE)
        chord = np.zeros(dur)
        for _ in range(rng.randint(1, 4)):
            f0 = 110 * 2 ** (rng.randrange(0, 36) / 12)
            note = sum(np.sin(2 * np.pi * f0 * h * t[:dur] + rng.uniform(0, 6.3)) / h ** rng.uniform(1, 2)
                       for h in range(1, 6) if f0 * h < 7500)
            chord += note * np.exp(-t[:dur] * rng.uniform(1, 8)) * np.minimum(1, t[:dur] / 0.01)
        if rng.random() < 0.3:  # a drum-like click
            chord[:400] += nprng.standard_normal(400) * np.exp(-np.arange(400) / 60)
        m = min(dur, n - at)
        x[at:at + m] += chord[:m]
        at += dur
    return x / (np.max(np.abs(x)) + 1e-12) * 0.3


def stream(path, minutes, voices):
    total = int(minutes * 60 * RATE)
    calls, need = [], total
    while need > 0:
        texts = [rng.choice(NEGATIVES) if rng.random() < 0.5 else rng.choice(SENTENCES) for _ in range(8)]
        pauses = [rng.uniform(0.2, 2.5) for _ in texts]
        calls.append((rng.choice(voices), rng.randint(100, 220), rng.randint(5, 95), texts, pauses))
        need -= int(sum(pauses) * RATE + sum(0.065 * len(t) for t in texts) * RATE)
    with multiprocessing.Pool(int(os.environ.get("JOBS", "2"))) as pool:
        parts = pool.map(speak_stream, calls)
    x = np.zeros(total)
    at = int(0.5 * RATE)
    for p in parts:
        if at >= total:
            break
        p = p * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(p)) + 1e-12)
        p = p[: total - at]
        x[at:at + len(p)] += p
        at += len(p) + int(rng.uniform(0.2, 2.5) * RATE)
    for start in range(0, total, 20 * RATE):
        m = min(20 * RATE, total - start)
        x[start:start + m] += noise(rng.choice(["white", "pink", "brown"]), m, nprng) * 10 ** (rng.uniform(-55, -35) / 20)
    write(path, x)
    print(f"{path}: {minutes:g} min, {len(calls)} espeak calls, {time.time() - t0:.0f} s", flush=True)


def room(x):
    """A synthetic room: direct sound plus exponentially decaying noise (RT60 0.15-0.7 s), wet 20-60%."""
    rt60 = rng.uniform(0.15, 0.7)
    n = int(rt60 * RATE)
    ir = nprng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir[: int(0.002 * RATE)] = 0
    ir *= rng.uniform(0.2, 0.6) / (np.sqrt(np.sum(ir * ir)) + 1e-12)
    ir[0] = 1.0
    m = len(x) + n - 1
    size = 1 << (m - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(ir, size), size)[: len(x)]
    return y, rt60


rows = []


def add_rows(split, voices, npos, nneg, warp_prob):
    jobs, meta = [], []
    for voice in voices:
        phrases = [(POSITIVE, "hey_edge_net")] * npos + [(t, "other") for t in rng.sample(NEGATIVES, nneg)]
        rng.shuffle(phrases)
        for b in range(0, len(phrases), 5):
            batch = phrases[b:b + 5]
            speed, pitch = rng.randint(100, 220), rng.randint(5, 95)
            warp = rng.uniform(0.86, 1.16) if rng.random() < warp_prob else 1.0
            jobs.append((voice, speed, pitch, [t for t, _ in batch], warp))
            meta.append((voice, speed, pitch, warp, batch))
    with multiprocessing.Pool(int(os.environ.get("JOBS", "2"))) as pool:
        spoken = pool.map(speak_batch, jobs, chunksize=4)
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, split, cls), exist_ok=True)
    for (voice, speed, pitch, warp, batch), speeches in zip(meta, spoken):
        for (text, cls), speech in zip(batch, speeches):
            speech = speech * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(speech)) + 1e-12)
            x, end = clip(speech, rng)
            x, kind, snr = mix_noise(speech, x, rng, nprng)
            name = f"{cls}_{len(rows):05d}.wav"
            write(os.path.join(out, split, cls, name), x)
            rows.append([f"{split}/{cls}/{name}", split, cls, text, voice, speed, pitch, kind, snr, f"{end:.4f}", f"{warp:.3f}"])
    print(f"{split}: {len(jobs)} espeak calls, {time.time() - t0:.0f} s", flush=True)


def augment(backgrounds):
    """One augmented copy of every training positive and of every 3rd training negative of the older data sets."""
    sources = []
    for d, keep in (("wakeword-data", lambda r: r["split"] == "train"), ("wakeword-data2", lambda r: r["split"] == "train"),
                    ("wakeword-data3", lambda r: r["split"] == "train")):
        base = os.path.join(root, "models", d)
        for r in csv.DictReader(open(os.path.join(base, "manifest.csv"))):
            if keep(r):
                sources.append((base, r))
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, "aug", cls), exist_ok=True)
    negatives = 0
    for base, r in sources:
        if r["class"] == "other":
            negatives += 1
            if negatives % 3:
                continue
        x = read(os.path.join(base, r["file"]))
        end = float(r["phrase_end"])
        # shift -0.3..+0.5 s (the phrase end stays inside the 3 s clip, before 2.9 s)
        d = int(rng.uniform(-0.3, min(0.5, 2.9 - end)) * RATE)
        x = np.concatenate([np.zeros(d), x])[: len(x)] if d >= 0 else np.concatenate([x[-d:], np.zeros(-d)])
        end += d / RATE
        notes = [f"shift {d / RATE:+.3f}"]
        if rng.random() < 0.6:
            x, rt60 = room(x)
            notes.append(f"room {rt60:.2f}")
        x = x * 10 ** (rng.uniform(-30, -3) / 20) / (np.max(np.abs(x)) + 1e-12)
        kind, snr = "none", ""
        if rng.random() < 0.8:
            kind = rng.choice(list(backgrounds))
            bg = backgrounds[kind]
            at = rng.randrange(0, len(bg) - len(x))
            seg = bg[at:at + len(x)]
            s = rng.uniform(0, 20)
            loud = x[np.abs(x) > 1e-4]
            x = x + seg / (np.sqrt(np.mean(seg * seg)) + 1e-12) * (np.sqrt(np.mean(loud * loud)) if len(loud) else 0) / 10 ** (s / 20)
            snr = f"{s:.1f}"
        name = f"{r['class']}_{len(rows):05d}.wav"
        write(os.path.join(out, "aug", r["class"], name), x)
        rows.append([f"aug/{r['class']}/{name}", "aug", r["class"], r["text"], r["voice"], r["speed"], r["pitch"],
                     kind + " " + " ".join(notes), snr, f"{end:.4f}", r.get("warp", "1.000")])
    print(f"aug: {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    os.makedirs(os.path.join(out, "stream"), exist_ok=True)
    os.makedirs(os.path.join(out, "noise"), exist_ok=True)
    test_voices = [f"{l}+{v}" for l in LANGS for v in FRESH_VARIANTS]
    val_voices = [f"{l}+{v}" for l in LANGS for v in VAL_VARIANTS]
    add_rows("test", test_voices, 4, 6, 0.5)
    add_rows("val", val_voices, 2, 3, 0.5)
    stream(os.path.join(out, "stream", "negative.wav"), 66, test_voices)
    stream(os.path.join(out, "stream", "val.wav"), 30, val_voices)
    tones = music(5 * 60 * RATE)
    write(os.path.join(out, "noise", "music.wav"), tones)
    backgrounds = {k: read(os.path.join(root, "models", "wakeword-data", "noise", f"{k}.wav")) for k in ("white", "pink", "brown", "babble")}
    backgrounds["music"] = tones
    augment(backgrounds)
    write_manifest(out, rows, t0)
