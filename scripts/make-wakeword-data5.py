#!/usr/bin/python3
"""More TRAINING speakers for "hey edge net", into models/wakeword-data5/ (git-ignored). The held-out protocol of
make-wakeword-data4.py (its test and validation voices, clips and streams) is not touched, and none of its test or
validation variants is used here:

  espeak/espeak-ng-data            a copy of the installed espeak-ng data with N_VARIANTS new random voice variants
                                   (voices/!v/ww5_NNN): each is a training variant of make-wakeword-data4.py's USED
                                   list with the formant lines of another USED variant mixed in, every formant's
                                   frequency x0.9-1.1, height and width x0.85-1.15, and the pitch base/range x0.85-1.2
  train/{hey_edge_net,other}/*.wav the random espeak variants (each in 4 of the 8 English languages: 3 positives and
                                   2 near misses / commands per voice), the flite voices (kal, kal16, awb, rms, slt:
                                   duration stretch 0.75-1.35, a random mean pitch) and the festival voices
                                   (kal_diphone, ked_diphone, cmu_us_slt_arctic_hts: duration stretch 0.75-1.35);
                                   speaker perturbation on top: a vocal-tract warp (resampling 0.86-1.16) on half the
                                   clips and a sox pitch shift (-300..+300 cents, formants move with it) and tempo
                                   change (0.85-1.15) on half; noise at 5-30 dB SNR on 85%, a synthetic room on 30%
  stream/train.wav                 STREAM_MIN minutes of negative speech of these voices (near misses, commands,
                                   sentences with pauses over a changing noise floor): training negative audio
  manifest.csv                     the columns of make-wakeword-data4.py's (file, split, class, text, voice, speed,
                                   pitch, noise, snr_db, phrase_end, warp); voice is engine:voice, the sox change in
                                   noise
Needs flite, festival, festvox-kallpc16k, festvox-kdlpc16k, festvox-us-slt-hts and sox (installed with apt-get when
missing). Deterministic (seeded) for a given set of installed engines.

usage: make-wakeword-data5.py [OUT_DIR]   (JOBS=2 processes; env N_VARIANTS=100 STREAM_MIN=15)
"""
import importlib.util
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import time

import numpy as np

from wakeword_speech import POSITIVE, RATE, SENTENCES, clip, festival, flite, mix_noise, noise, resample, sox_perturb, speak_batch, write, write_manifest

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("data4", os.path.join(here, "make-wakeword-data4.py"))
data4 = importlib.util.module_from_spec(spec)
sys.argv, argv = sys.argv[:1], sys.argv  # data4 reads its output folder from argv at import
spec.loader.exec_module(data4)
sys.argv = argv
LANGS, USED, NEGATIVES = data4.LANGS, data4.USED, data4.NEGATIVES
HELD_OUT = {v.lower() for v in data4.VAL_VARIANTS + data4.FRESH_VARIANTS}
# a few more near misses, spoken by the new voices only (training negatives)
NEGATIVES = NEGATIVES + ["hey eddie", "hey edna", "hedge fund", "hey kenneth", "edge of the net", "hey, ed, get it"]

out = argv[1] if len(argv) > 1 else os.path.join(root, "models", "wakeword-data5")
rng = random.Random(20261130_5)
nprng = np.random.default_rng(20261130_5)
t0 = time.time()
N_VARIANTS = int(os.environ.get("N_VARIANTS", "100"))
STREAM_MIN = float(os.environ.get("STREAM_MIN", "15"))
JOBS = int(os.environ.get("JOBS", "2"))
ESPEAK_DATA = "/usr/lib/x86_64-linux-gnu/espeak-ng-data"
FLITE = ["kal", "kal16", "awb", "rms", "slt"]
FLITE_F0 = {"kal": (85, 140), "kal16": (85, 140), "awb": (80, 135), "rms": (80, 140), "slt": (150, 240)}
FESTIVAL = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]
APT = ["flite", "festival", "festvox-kallpc16k", "festvox-kdlpc16k", "festvox-us-slt-hts", "sox"]


def install():
    need = [p for p in APT if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                                              text=True).stdout != "install ok installed"]
    if need:
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *need], check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def parse_variant(path):
    lines = [l.split("//")[0].strip() for l in open(path, encoding="latin-1")]
    return [l.split() for l in lines if l]


def make_variants(folder):
    """N_VARIANTS random variants from the training (USED) variants only; returns their names."""
    src = os.path.join(ESPEAK_DATA, "voices", "!v")
    parents = {v: parse_variant(os.path.join(src, v)) for v in USED if os.path.exists(os.path.join(src, v))}
    assert not {v.lower() for v in parents} & HELD_OUT
    names = []
    for i in range(N_VARIANTS):
        a, b = rng.sample(sorted(parents), 2)
        formants_b = {int(f[1]): f for f in parents[b] if f[0] == "formant"}
        lines = [f"language variant", f"name ww5_{i:03d}"]
        seen = set()
        for f in parents[a]:
            key = f[0]
            if key in ("language", "name"):
                continue
            if key == "formant":
                k = int(f[1])
                seen.add(k)
                if k in formants_b and rng.random() < 0.5:
                    f = formants_b[k]
                vals = [float(x) for x in f[2:]]
                scale = [rng.uniform(0.9, 1.1) if k > 0 else 1.0, rng.uniform(0.85, 1.15), rng.uniform(0.85, 1.15)]
                vals = [v * (scale[j] if j < 3 else 1.0) for j, v in enumerate(vals)]
                f = ["formant", str(k)] + [str(int(round(v))) for v in vals]
            elif key == "pitch" and len(f) == 3:
                f = ["pitch", str(int(int(f[1]) * rng.uniform(0.85, 1.2))), str(int(int(f[2]) * rng.uniform(0.85, 1.2)))]
            lines.append(" ".join(f))
        for k, f in formants_b.items():  # formants only the other parent sets
            if k not in seen and rng.random() < 0.5:
                lines.append(" ".join(f))
        name = f"ww5_{i:03d}"
        with open(os.path.join(folder, name), "w") as fh:
            fh.write("\n".join(lines) + "\n")
        names.append(name)
    return names


rows = []


def perturb(x):
    """Speaker perturbation: a vocal-tract warp on half, a sox pitch/tempo change on half."""
    warp = rng.uniform(0.86, 1.16) if rng.random() < 0.5 else 1.0
    if warp != 1.0:
        x = resample(x, warp)
    note = ""
    if rng.random() < 0.5:
        cents, tempo = rng.uniform(-300, 300), rng.uniform(0.85, 1.15)
        x = sox_perturb(x, cents, tempo)
        note = f"sox {cents:+.0f}c x{tempo:.2f}"
    return x, warp, note


def add_clip(speech, text, cls, voice, speed, pitch):
    speech, warp, note = perturb(speech)
    speech = speech * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(speech)) + 1e-12)
    x, end = clip(speech, rng)
    if rng.random() < 0.3:
        x, rt60 = data4.room(x)
        note += f" room {rt60:.2f}"
    x, kind, snr = mix_noise(speech, x, rng, nprng)
    name = f"{cls}_{len(rows):05d}.wav"
    write(os.path.join(out, "train", cls, name), x)
    rows.append([f"train/{cls}/{name}", "train", cls, text, voice, speed, pitch, (kind + " " + note).strip(), snr,
                 f"{end:.4f}", f"{warp:.3f}"])


def phrases(npos, nneg):
    negatives = rng.sample(NEGATIVES, nneg) if nneg <= len(NEGATIVES) else [rng.choice(NEGATIVES) for _ in range(nneg)]
    p = [(POSITIVE, "hey_edge_net")] * npos + [(t, "other") for t in negatives]
    rng.shuffle(p)
    return p


def flite_job(args):
    voice, text, stretch, f0 = args
    return flite(voice, text, stretch, f0)


def espeak_clips(path, variants):
    jobs, meta = [], []
    for v in variants:
        for lang in rng.sample(LANGS, 4):
            batch = phrases(3, 2)
            speed, pitch = rng.randint(100, 220), rng.randint(5, 95)
            jobs.append((f"{lang}+{v}", speed, pitch, [t for t, _ in batch], 1.0, path))
            meta.append((f"espeak:{lang}+{v}", speed, pitch, batch))
    with multiprocessing.Pool(JOBS) as pool:
        spoken = pool.map(speak_batch, jobs, chunksize=4)
    for (voice, speed, pitch, batch), speeches in zip(meta, spoken):
        for (text, cls), speech in zip(batch, speeches):
            add_clip(speech, text, cls, voice, speed, pitch)
    print(f"espeak: {len(jobs)} calls, {time.time() - t0:.0f} s", flush=True)


def flite_clips(npos, nneg):
    jobs, meta = [], []
    for v in FLITE:
        for text, cls in phrases(npos, nneg):
            stretch, f0 = rng.uniform(0.75, 1.35), rng.uniform(*FLITE_F0[v])
            jobs.append((v, text, stretch, f0))
            meta.append((f"flite:{v}", f"{stretch:.2f}", f"{f0:.0f}", text, cls))
    with multiprocessing.Pool(JOBS) as pool:
        spoken = pool.map(flite_job, jobs, chunksize=8)
    for (voice, speed, pitch, text, cls), speech in zip(meta, spoken):
        add_clip(speech, text, cls, voice, speed, pitch)
    print(f"flite: {len(jobs)} clips, {time.time() - t0:.0f} s", flush=True)


def festival_clips(npos, nneg):
    jobs, meta = [], []
    for v in FESTIVAL:
        p = phrases(npos, nneg)
        for b in range(0, len(p), 20):
            items = [(t, rng.uniform(0.75, 1.35)) for t, _ in p[b:b + 20]]
            jobs.append((v, items))
            meta.append((v, items, p[b:b + 20]))
    with multiprocessing.Pool(JOBS) as pool:
        spoken = pool.map(festival, jobs)
    for (v, items, batch), speeches in zip(meta, spoken):
        for (text, stretch), (_, cls), speech in zip(items, batch, speeches):
            add_clip(speech, text, cls, f"festival:{v}", f"{stretch:.2f}", "")
    print(f"festival: {sum(len(m[1]) for m in meta)} clips, {time.time() - t0:.0f} s", flush=True)


def stream(path, minutes, espeak_path, variants):
    """Negative speech of the new voices (one phrase per synthesis), with pauses, over a changing noise floor."""
    total = int(minutes * 60 * RATE)
    texts = [rng.choice(NEGATIVES) if rng.random() < 0.5 else rng.choice(SENTENCES) for _ in range(int(minutes * 60 / 3))]
    fl, fe, es = [], {v: [] for v in FESTIVAL}, []
    for t in texts:
        engine = rng.random()
        if engine < 0.4:
            v = rng.choice(FLITE)
            fl.append((v, t, rng.uniform(0.75, 1.35), rng.uniform(*FLITE_F0[v])))
        elif engine < 0.65:
            fe[rng.choice(FESTIVAL)].append((t, rng.uniform(0.75, 1.35)))
        else:
            es.append((f"{rng.choice(LANGS)}+{rng.choice(variants)}", rng.randint(100, 220), rng.randint(5, 95), [t], 1.0,
                       espeak_path))
    with multiprocessing.Pool(JOBS) as pool:
        parts = pool.map(flite_job, fl, chunksize=8)
        parts += [x for xs in pool.map(festival, [(v, items) for v, items in fe.items() if items]) for x in xs]
        parts += [xs[0] for xs in pool.map(speak_batch, es, chunksize=4)]
    rng.shuffle(parts)
    x = np.zeros(total)
    at = int(0.5 * RATE)
    for p in parts:
        if at >= total:
            break
        p, _, _ = perturb(p)
        p = p * 10 ** (rng.uniform(-20, -6) / 20) / (np.max(np.abs(p)) + 1e-12)
        p = p[: total - at]
        x[at:at + len(p)] += p
        at += len(p) + int(rng.uniform(0.2, 2.5) * RATE)
    for start in range(0, total, 20 * RATE):
        m = min(20 * RATE, total - start)
        x[start:start + m] += noise(rng.choice(["white", "pink", "brown"]), m, nprng) * 10 ** (rng.uniform(-55, -35) / 20)
    write(path, x[:at] if at < total else x)
    print(f"{path}: {min(at, total) / RATE / 60:.1f} min, {len(parts)} phrases, {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    install()
    espeak_path = os.path.abspath(os.path.join(out, "espeak"))
    data = os.path.join(espeak_path, "espeak-ng-data")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(ESPEAK_DATA, data)
    variants = make_variants(os.path.join(data, "voices", "!v"))
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, "train", cls), exist_ok=True)
    os.makedirs(os.path.join(out, "stream"), exist_ok=True)
    espeak_clips(espeak_path, variants)
    flite_clips(120, 80)
    festival_clips(100, 70)
    stream(os.path.join(out, "stream", "train.wav"), STREAM_MIN, espeak_path, variants)
    write_manifest(out, rows, t0)
