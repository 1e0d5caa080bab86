#!/usr/bin/python3
"""Per-voice recall of a wake-word evaluation: joins `edgenet evaluate --detect ... --clip-scores FILE.csv` (file,
positive, peak = the highest threshold at which the detector fires in the clip) with a data manifest (file, voice,
...; files relative to the manifest's folder) and prints recall by voice, language and variant at THRESHOLD.

usage: wakeword-voices.py CLIP_SCORES.csv MANIFEST.csv THRESHOLD [--worst N]
"""
import csv
import os
import sys

scores_path, manifest_path, threshold = sys.argv[1], sys.argv[2], float(sys.argv[3])
worst = int(sys.argv[sys.argv.index("--worst") + 1]) if "--worst" in sys.argv else 10
base = os.path.dirname(os.path.realpath(manifest_path))
voice = {os.path.realpath(os.path.join(base, r["file"])): r["voice"] for r in csv.DictReader(open(manifest_path))}
by_voice = {}
missing = 0
for r in csv.DictReader(open(scores_path)):
    if r["positive"] != "1":
        continue
    v = voice.get(os.path.realpath(r["file"]))
    if v is None:
        missing += 1
        continue
    by_voice.setdefault(v, []).append(float(r["peak"]) >= threshold)
if missing:
    print(f"{missing} positive clips not in {manifest_path}")


def line(groups):
    return ", ".join(f"{k} {100 * sum(v) / len(v):.0f}% ({sum(v)}/{len(v)})"
                     for k, v in sorted(groups.items(), key=lambda kv: (sum(kv[1]) / len(kv[1]), kv[0])))


total = [x for v in by_voice.values() for x in v]
print(f"per-voice recall at threshold {threshold}: {len(by_voice)} voices, {sum(total)}/{len(total)} positive clips detected")
bad = {k: v for k, v in by_voice.items() if sum(v) < len(v)}
print(f"voices below 100% ({len(bad)}): " + (line(dict(sorted(bad.items(), key=lambda kv: sum(kv[1]) / len(kv[1]))[:worst])) or "none"))
for axis, i in (("language", 0), ("variant", 1)):
    groups = {}
    for k, v in by_voice.items():
        groups.setdefault(k.split("+")[i], []).extend(v)
    print(f"by {axis}: " + line(groups))
