#!/usr/bin/python3
"""Wake-word experiments in PyTorch on the cached openWakeWord embeddings (no audio work, seconds per run).

Reads the embeddings `edgenet finetune/evaluate --embedding-cache DIR` stored (raw float32 [n, 96], chain started on
silence; key = SHA-256 of "realpath|size|mtime ticks|tail|window"), builds the same 16x96 windows and labels as
`finetune --detect` (positives end 0..0.32 s after the phrase end, negatives end >= 0.4 s before it or come from
negative clips/streams; windows ending before 0.5 s of a clip are skipped), trains the alexa MLP layout
(1536 -> 128 -> 128 -> 2, ReLU) and scores clips and streams every 80 ms with the detector rule of `evaluate`
(score >= threshold on CONSECUTIVE frames, then a refractory period). Augmented copies are not cached and so are not
used here: this is the unaugmented comparison.

Voice-split validation: --val-voices holds whole voices (espeak language x variant) of the training split out of
training; the threshold is chosen on them (highest threshold with all their positives detected), never on the test
voices. Prints per-voice recall on the test voices.

usage: wakeword-lab.py [--data models/wakeword-data] [--epochs 8] [--hidden 128] [--dropout 0] ...
"""
import argparse
import csv
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("--data", default="models/wakeword-data")
p.add_argument("--epochs", type=int, default=8)
p.add_argument("--lr", type=float, default=0.0005)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--oversample", type=int, default=6)
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--dropout", type=float, default=0.0)
p.add_argument("--weight-decay", type=float, default=0.0)
p.add_argument("--label-smoothing", type=float, default=0.0)
p.add_argument("--span", default="0:0.32")
p.add_argument("--negative-before", type=float, default=0.4)
p.add_argument("--init", choices=["alexa", "random"], default="alexa")
p.add_argument("--val-voices", default="", help="comma list of LANG or +VARIANT held out of training for validation")
p.add_argument("--all-negatives", action="store_true", help="all negative training clips (default every 3rd, as train-sub)")
p.add_argument("--noise-std", type=float, default=0.0, help="Gaussian noise on the embeddings while training")
p.add_argument("--mixup", type=float, default=0.0)
p.add_argument("--consecutive", type=int, default=2)
p.add_argument("--refractory", type=float, default=1.5)
p.add_argument("--recall", type=float, default=1.0)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--test-thresholds", default="0.5,0.9,0.99,0.999")
p.add_argument("--save", default="")
p.add_argument("--extra", default="", help="a make-wakeword-data2.py folder: its train/ clips are added to training, its val/ voices replace the validation")
p.add_argument("--model", default="", help="score this trained head (ONNX, e.g. edgenet export-onnx of a finetune --detect model) instead of training")
p.add_argument("--positive-index", type=int, default=0, help="with --model: the wake word's output (class folders sorted: hey_edge_net = 0)")
p.add_argument("--extra-negatives", type=int, default=1, help="every n-th negative clip of --extra train/")
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)

data = a.data
cache = os.path.join(data, "embeddings")
W, E, CHUNK, RATE = 16, 96, 1280, 16000


def embeddings(rel, tails=(16000, 0), base=None):
    base = base or data
    cache = os.path.join(base, "embeddings")
    real = os.path.realpath(os.path.join(base, rel))
    st = os.stat(real)
    ticks = 621355968000000000 + st.st_mtime_ns // 100
    # the cache key holds the path the tool saw: fully resolved, or (older runs) through a linked models/ folder
    for path in (real, os.path.abspath(os.path.join(base, rel))):
        for tail in tails:
            key = f"{path}|{st.st_size}|{ticks}|{tail}|{W}"
            f = os.path.join(cache, hashlib.sha256(key.encode()).hexdigest().upper()[:24] + ".f32")
            if os.path.exists(f):
                return np.fromfile(f, dtype=np.float32).reshape(-1, E)
    return None


def windows(emb):
    """[count, 1536] windows and their end times in seconds."""
    n = emb.shape[0] - W + 1
    idx = np.arange(n)[:, None] + np.arange(W)[None, :]
    return emb[idx].reshape(n, W * E), (np.arange(n) + 1) * CHUNK / RATE


rows = list(csv.DictReader(open(os.path.join(data, "manifest.csv"))))
for r in rows:
    r["base"] = data
if a.extra:
    extra = list(csv.DictReader(open(os.path.join(a.extra, "manifest.csv"))))
    en = 0
    for r in extra:
        r["base"] = a.extra
        if r["split"] == "train" and r["class"] == "other":
            en += 1
            if (en - 1) % a.extra_negatives:
                continue
        r["split"] = {"train": "train2", "val": "val2"}[r["split"]]
        rows.append(r)
val_keys = [v for v in a.val_voices.split(",") if v]


def held(voice):
    lang, variant = voice.split("+")
    return any(k == lang or k == "+" + variant for k in val_keys)


pf, pt = map(float, a.span.split(":"))
if a.model:
    a.epochs = 0
X, Y = [], []
missing = 0
neg_i = 0
counts = {"pos_clips": 0, "neg_clips": 0}
val_clips, test_clips = [], []
for r in rows:
    split, cls, voice = r["split"], r["class"], r["voice"]
    if split == "test":
        test_clips.append(r)
        continue
    if split == "val2" or (not a.extra and (split == "val" or held(voice))):
        val_clips.append(r)
        continue
    if split == "val" or held(voice) or a.model:  # a given model needs no training windows
        continue
    if split == "train2":
        pass
    elif cls == "other":
        neg_i += 1
        if not a.all_negatives and (neg_i - 1) % 3:
            continue
    emb = embeddings(r["file"], base=r["base"])
    if emb is None:
        missing += 1
        continue
    w, end = windows(emb)
    keep = end >= 0.5 - 1e-9
    if cls == "other":
        lab = np.zeros(len(end), np.int64)
        counts["neg_clips"] += 1
    else:
        pe = float(r["phrase_end"])
        lab = np.full(len(end), -1, np.int64)
        lab[(end >= pe + pf - 1e-9) & (end <= pe + pt + 1e-9)] = 1
        lab[end <= pe - a.negative_before + 1e-9] = 0
        # the tail=16000 cache holds 1 s of silence after the clip: windows past the 3 s clip are not training data
        keep &= end <= 3.0 + 1e-9
        counts["pos_clips"] += 1
    keep &= lab >= 0
    X.append(w[keep]); Y.append(lab[keep])
for rel in [] if a.model else ["stream/train.wav"] + [f"noise/{k}.wav" for k in ("babble", "brown", "pink", "silence", "white")]:
    emb = embeddings(rel, tails=(0,))
    w, _ = windows(emb)
    X.append(w); Y.append(np.zeros(len(w), np.int64))
if a.model:
    X, Y = [np.zeros((0, W * E), np.float32)], [np.zeros(0, np.int64)]
X = np.concatenate(X); Y = np.concatenate(Y)
pos = np.flatnonzero(Y == 1)
order = np.concatenate([np.arange(len(Y))] + [pos] * (a.oversample - 1))
X = torch.from_numpy(X[order]); Y = torch.from_numpy(Y[order])
if a.epochs == 0 and not a.model:
    sys.exit(0)
print(f"train windows {len(Y)} ({int((Y == 1).sum())} positive incl. x{a.oversample}); clips {counts}; missing cache {missing}; val clips {len(val_clips)}", flush=True)

# model: alexa layout, optionally from alexa's weights (as finetune --trainable-last 3 does; the head is new)
layers = []
alexa = None
if a.init == "alexa":
    import onnx
    from onnx import numpy_helper
    m = onnx.load("models/openwakeword/alexa_v0.1.onnx")
    alexa = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
l1, l2, l3 = torch.nn.Linear(W * E, a.hidden), torch.nn.Linear(a.hidden, a.hidden), torch.nn.Linear(a.hidden, 2)
if alexa is not None and a.hidden == 128:
    with torch.no_grad():
        l1.weight.copy_(torch.from_numpy(alexa["1.weight"])); l1.bias.copy_(torch.from_numpy(alexa["1.bias"]))
        l2.weight.copy_(torch.from_numpy(alexa["3.weight"])); l2.bias.copy_(torch.from_numpy(alexa["3.bias"]))
drop = [torch.nn.Dropout(a.dropout)] if a.dropout > 0 else []
model = torch.nn.Sequential(torch.nn.Flatten(), *drop, l1, torch.nn.ReLU(), *drop, l2, torch.nn.ReLU(), l3)
opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
start = time.perf_counter()
n = len(Y)
for epoch in range(a.epochs):
    model.train()
    perm = torch.randperm(n)
    total = 0.0
    for s in range(0, n, a.batch):
        idx = perm[s:s + a.batch]
        x, y = X[idx], Y[idx]
        if a.noise_std > 0:
            x = x + a.noise_std * torch.randn_like(x)
        opt.zero_grad()
        if a.mixup > 0:
            lam = float(np.random.default_rng().beta(a.mixup, a.mixup))
            j = torch.randperm(len(idx))
            out = model(lam * x + (1 - lam) * x[j])
            loss = lam * loss_fn(out, y) + (1 - lam) * loss_fn(out, y[j])
        else:
            loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    print(f"epoch {epoch + 1} loss {total / n:.4f}", flush=True)
seconds = time.perf_counter() - start
model.eval()
if a.save:
    torch.save(model.state_dict(), a.save)


if a.model:
    import onnx
    from onnx import numpy_helper
    m = onnx.load(a.model)
    init = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in m.graph.initializer}
    gemms = []
    for node in m.graph.node:
        if node.op_type in ("Gemm", "MatMul"):
            w = init[node.input[1]]
            trans = any(at.name == "transB" and at.i == 1 for at in node.attribute)
            w = w.T if trans else w
            b = init[node.input[2]] if len(node.input) > 2 and node.input[2] in init else np.zeros(w.shape[1], np.float32)
            gemms.append((w, b))
        elif node.op_type == "Add" and gemms and node.input[1] in init:
            w, b = gemms[-1]
            gemms[-1] = (w, b + init[node.input[1]])
    print(f"model {a.model}: layers {[g[0].shape for g in gemms]}")

    def forward(x):
        for i, (w, b) in enumerate(gemms):
            x = x @ w + b
            if i + 1 < len(gemms):
                x = np.maximum(x, 0)
        x = x - x.max(1, keepdims=True)
        e = np.exp(x)
        return e / e.sum(1, keepdims=True)
    seconds = 0.0


def scores(emb):
    w, _ = windows(emb)
    if a.model:
        return forward(w)[:, a.positive_index]
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(w)), 1)[:, 1].numpy()


def detections(s, t, refractory_frames):
    run = quiet = hits = 0
    for v in s:
        if quiet > 0:
            quiet -= 1; run = 0; continue
        run = run + 1 if v >= t else 0
        if run >= a.consecutive:
            run = 0; quiet = refractory_frames; hits += 1
    return hits


def peak(s):
    """The highest threshold at which the clip is detected: max over frames of the min of CONSECUTIVE frames."""
    k = a.consecutive
    if len(s) < k:
        return 0.0
    return float(np.max(np.min(np.stack([s[i:len(s) - k + 1 + i] for i in range(k)]), 0)))


refr = int(round(a.refractory * RATE / CHUNK))


def clip_peaks(clips):
    out = []
    for r in clips:
        emb = embeddings(r["file"], tails=(16000,), base=r["base"])
        if emb is None:
            continue
        out.append((r, peak(scores(emb))))
    return out


GRID = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999]
val = clip_peaks(val_clips)
vpos = [pk for r, pk in val if r["class"] == "hey_edge_net"]
vneg = [pk for r, pk in val if r["class"] != "hey_edge_net"]
chosen = GRID[0]
for t in GRID:
    if vpos and np.mean([pk >= t for pk in vpos]) >= a.recall - 1e-12:
        chosen = t
heldv = [(r, pk) for r, pk in val if held(r["voice"]) or r["split"] == "val2"]
print(f"validation: {len(vpos)} positive clips ({sum(1 for r, _ in heldv if r['class'] == 'hey_edge_net')} of held-out voices), {len(vneg)} negative; chosen threshold {chosen}")
for t in sorted(set([chosen] + [float(v) for v in a.test_thresholds.split(",")])):
    hv = [pk >= t for r, pk in heldv if r["class"] == "hey_edge_net"]
    print(f"  val t={t}: recall {np.mean([pk >= t for pk in vpos]) * 100:.1f}% (held-out voices {np.mean(hv) * 100 if hv else float('nan'):.1f}%),"
          f" negative clips {sum(pk >= t for pk in vneg)}/{len(vneg)}")
vby = {}
for r, pk in heldv:
    if r["class"] == "hey_edge_net":
        vby.setdefault(r["voice"], []).append(pk >= chosen)
for axis, pos_ in (("language", 0), ("variant", 1)):
    agg = {}
    for k, v in vby.items():
        agg.setdefault(k.split("+")[pos_], []).extend(v)
    print(f"  validation voices by {axis}: " + ", ".join(f"{k} {np.mean(v) * 100:.0f}%" for k, v in sorted(agg.items(), key=lambda kv: np.mean(kv[1]))))
test = clip_peaks(test_clips)
stream = scores(embeddings("stream/negative.wav", tails=(0,)))
hours = len(stream) * CHUNK / RATE / 3600
result = {}
for t in sorted(set([chosen] + [float(v) for v in a.test_thresholds.split(",")])):
    tp = [pk >= t for r, pk in test if r["class"] == "hey_edge_net"]
    fn = sum(pk >= t for r, pk in test if r["class"] != "hey_edge_net")
    fa = detections(stream, t, refr)
    tag = " (chosen on validation)" if t == chosen else ""
    print(f"test t={t}{tag}: recall {np.mean(tp) * 100:.1f}% ({sum(tp)}/{len(tp)}), negative clips {fn}/{sum(1 for r, _ in test if r['class'] != 'hey_edge_net')}, FA/h {fa / hours:.2f}")
    if t == chosen:
        result = {"threshold": t, "recall": float(np.mean(tp)), "false_clips": int(fn), "fa_per_hour": fa / hours}
# per-voice recall at the chosen threshold
by = {}
for r, pk in test:
    if r["class"] == "hey_edge_net":
        by.setdefault(r["voice"], []).append(pk >= chosen)
bad = sorted(((np.mean(v), k, len(v)) for k, v in by.items()))
print("test voices below 100% at the chosen threshold:", ", ".join(f"{k} {m * 100:.0f}%/{n}" for m, k, n in bad if m < 1))
for axis, pos_ in (("language", 0), ("variant", 1)):
    agg = {}
    for k, v in by.items():
        agg.setdefault(k.split("+")[pos_], []).extend(v)
    print(f"  by {axis}: " + ", ".join(f"{k} {np.mean(v) * 100:.0f}%" for k, v in sorted(agg.items(), key=lambda kv: np.mean(kv[1]))))
result.update({"train_seconds": seconds, "args": vars(a)})
print(json.dumps(result))
