#!/usr/bin/python3
"""More espeak TRAINING speakers for "hey edge net", into models/wakeword-data6/ (git-ignored), recombined attribute
by attribute: make-wakeword-data5.py's random variants change only formants and pitch and copy the rest of one
parent (intonation, stress timing, voicing, roughness, flutter, breath, tone, echo, klatt), so its speakers keep the
training variants' prosody and voice quality. Here every line of a new variant comes from its own randomly chosen
training (USED) variant, so prosody and voice quality are recombined too:

  espeak/espeak-ng-data            a copy of the installed espeak-ng data with N_VARIANTS new variants (voices/!v/ww6_NNN):
                                   formant k from a random parent that sets it (frequency x0.88-1.12, height and
                                   width x0.8-1.2), pitch base/range from a random parent x0.8-1.25, each other
                                   attribute from a random parent that sets it with probability 1/2 (else espeak's
                                   default), stress lengths and additions x0.8-1.25 when taken
  train/{hey_edge_net,other}/*.wav those variants, each in 4 of the 8 English languages (3 positives and 2 near misses /
                                   commands per voice), with make-wakeword-data5.py's speaker perturbation, noise and room
  stream/train.wav                 STREAM_MIN minutes of negative speech of these voices
  manifest.csv                     make-wakeword-data5.py's columns
The held-out protocol of make-wakeword-data4.py (its test and validation voices, clips and streams) is not touched;
no test or validation variant is a parent. Deterministic (seeded).

usage: make-wakeword-data6.py [OUT_DIR]   (JOBS=2 processes; env N_VARIANTS=150 STREAM_MIN=15)
"""
import importlib.util
import os
import random
import shutil
import sys
import time

import numpy as np

from wakeword_speech import write_manifest

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "wakeword-data6")
spec = importlib.util.spec_from_file_location("data5", os.path.join(here, "make-wakeword-data5.py"))
data5 = importlib.util.module_from_spec(spec)
sys.modules["data5"] = data5  # so the process pool can pickle its functions by name
sys.argv = [sys.argv[0], out]  # data5 (and data4 inside it) read the output folder from argv at import
spec.loader.exec_module(data5)
N_VARIANTS = int(os.environ.get("N_VARIANTS", "150"))
STREAM_MIN = float(os.environ.get("STREAM_MIN", "15"))
rng = random.Random(20261202_6)
# data5's clip, perturbation and stream code, on this script's folder, seeds and rows
data5.out, data5.rng, data5.nprng, data5.rows, data5.t0 = out, rng, np.random.default_rng(20261202_6), [], time.time()
ATTRIBUTES = {"intonation", "stressLength", "stressAdd", "stressAmp", "voicing", "consonants", "roughness", "flutter",
              "breath", "breathw", "tone", "echo", "klatt"}


def make_variants(folder):
    src = os.path.join(data5.ESPEAK_DATA, "voices", "!v")
    parents = [data5.parse_variant(os.path.join(src, v)) for v in sorted(data5.USED) if os.path.exists(os.path.join(src, v))]
    assert not {v.lower() for v in data5.USED} & data5.HELD_OUT
    formants = {}  # k -> every parent's formant k line
    pitches, attributes = [], {}
    for p in parents:
        for f in p:
            if f[0] == "formant" and len(f) >= 5:
                formants.setdefault(int(f[1]), []).append([float(x) for x in f[2:5]])
            elif f[0] == "pitch" and len(f) == 3:
                pitches.append((int(f[1]), int(f[2])))
            elif f[0] in ATTRIBUTES:
                attributes.setdefault(f[0], []).append(f[1:])
    names = []
    for i in range(N_VARIANTS):
        name = f"ww6_{i:03d}"
        lines = ["language variant", f"name {name}", f"gender {rng.choice(['male', 'female'])}"]
        for k, options in sorted(formants.items()):
            if rng.random() < 0.7:
                freq, height, width = rng.choice(options)
                scale = rng.uniform(0.88, 1.12) if k > 0 else 1.0
                lines.append(f"formant {k} {round(freq * scale)} {round(height * rng.uniform(0.8, 1.2))} {round(width * rng.uniform(0.8, 1.2))}")
        base, span = rng.choice(pitches)
        lines.append(f"pitch {round(base * rng.uniform(0.8, 1.25))} {round(span * rng.uniform(0.8, 1.25))}")
        for key, options in sorted(attributes.items()):
            if rng.random() < 0.5:
                values = rng.choice(options)
                if key in ("stressLength", "stressAdd"):
                    values = [str(round(int(v) * rng.uniform(0.8, 1.25))) for v in values]
                lines.append(" ".join([key, *values]))
        with open(os.path.join(folder, name), "w") as fh:
            fh.write("\n".join(lines) + "\n")
        names.append(name)
    return names


if __name__ == "__main__":
    espeak_path = os.path.abspath(os.path.join(out, "espeak"))
    data = os.path.join(espeak_path, "espeak-ng-data")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(data5.ESPEAK_DATA, data)
    variants = make_variants(os.path.join(data, "voices", "!v"))
    for cls in ("hey_edge_net", "other"):
        os.makedirs(os.path.join(out, "train", cls), exist_ok=True)
    os.makedirs(os.path.join(out, "stream"), exist_ok=True)
    data5.espeak_clips(espeak_path, variants)
    data5.stream(os.path.join(out, "stream", "train.wav"), STREAM_MIN, espeak_path, variants)
    write_manifest(out, data5.rows, data5.t0)
