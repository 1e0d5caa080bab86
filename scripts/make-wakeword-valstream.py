#!/usr/bin/python3
"""A longer validation stream for the held-out protocol of make-wakeword-data4.py: VAL_MIN (default 120) minutes of
negative speech of its VALIDATION voices (the same near misses, commands and sentences, pauses and noise floor as
its 30 min stream/val.wav, another seed), written to models/wakeword-data4/stream/val-long.wav. Thresholds chosen
for at most 3 false accepts per hour on 30 min rest on one or two false accepts; on 2 h on six.

usage: make-wakeword-valstream.py [DATA4_DIR]   (env VAL_MIN=120 JOBS=2)
"""
import importlib.util
import os
import random
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
data4_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(here), "models", "wakeword-data4")
spec = importlib.util.spec_from_file_location("data4", os.path.join(here, "make-wakeword-data4.py"))
data4 = importlib.util.module_from_spec(spec)
sys.modules["data4"] = data4
sys.argv = [sys.argv[0], data4_dir]  # data4 reads its folder from argv at import
spec.loader.exec_module(data4)
data4.rng, data4.nprng = random.Random(20261202_7), np.random.default_rng(20261202_7)

if __name__ == "__main__":
    minutes = float(os.environ.get("VAL_MIN", "120"))
    voices = [f"{l}+{v}" for l in data4.LANGS for v in data4.VAL_VARIANTS]
    data4.stream(os.path.join(data4_dir, "stream", "val-long.wav"), minutes, voices)
