"""Speech and noise helpers shared by the wake-word data scripts (make-wakeword-data2.py, -data4.py, -data5.py):
espeak-ng calls split and resampled to 16 kHz, FFT resampling, coloured noise, WAV read/write and clip placement, the manifest.
The random generators are passed in, so each script keeps its own seeded streams."""

import csv
import io
import os
import subprocess
import tempfile
import time
import wave

import numpy as np

RATE, CLIP, BREAK_MS = 16000, 3.0, 1100

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


def resample(x, ratio):
    """Resamples to len(x) * ratio samples by FFT (band-limited)."""
    n = int(round(len(x) * ratio))
    spec = np.fft.rfft(x)
    m = n // 2 + 1
    spec = spec[:m] if m <= len(spec) else np.concatenate([spec, np.zeros(m - len(spec), complex)])
    return np.fft.irfft(spec, n) * (n / len(x))


def espeak(voice, speed, pitch, ssml, path=None):
    """path: a folder holding an espeak-ng-data folder (e.g. with extra voice variants); None = the installed data."""
    data = subprocess.run(["espeak-ng", "-m", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", ssml]
                          + ([f"--path={path}"] if path else []), check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768, w.getframerate()


def speak_batch(args):
    """One espeak call for several phrases (split again at the long exact-zero gaps); each trimmed, at 16 kHz, warped."""
    voice, speed, pitch, texts, warp = args[:5]
    path = args[5] if len(args) > 5 else None  # optional: espeak-ng data folder
    x, rate = espeak(voice, speed, pitch, "<speak>" + f'<break time="{BREAK_MS}ms"/>'.join(texts) + "</speak>", path)
    quiet = np.abs(x) <= 2 / 32768
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    gaps = [(s, e) for s, e in zip(edges[::2], edges[1::2]) if e - s >= 0.8 * rate and s > 0 and e < len(x)]
    if len(gaps) != len(texts) - 1:
        parts = [espeak(voice, speed, pitch, f"<speak>{t}</speak>", path)[0] for t in texts]
    else:
        bounds = [0] + [g for gap in gaps for g in gap] + [len(x)]
        parts = [x[bounds[2 * i]:bounds[2 * i + 1]] for i in range(len(texts))]
    result = []
    for p in parts:
        loud = np.flatnonzero(np.abs(p) > 2 / 32768)
        p = p[loud[0]:loud[-1] + 1] if len(loud) else p
        # warp > 1 stretches (lower formants and pitch, slower), < 1 the reverse
        result.append(resample(p, RATE / rate * warp))
    return result


def noise(kind, n, nprng):
    """Unit-RMS white, pink or brown noise of n samples."""
    white = nprng.standard_normal(n)
    if kind == "white":
        x = white
    else:
        spec = np.fft.rfft(white)
        f = np.arange(len(spec), dtype=np.float64)
        f[0] = 1
        spec /= np.sqrt(f) if kind == "pink" else f
        x = np.fft.irfft(spec, n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


def mix_noise(speech, x, rng, nprng):
    """With probability 0.85, white/pink/brown noise added to clip x at an SNR of 5-30 dB against the speech's loud
    samples; returns (x, noise kind, SNR text)."""
    if rng.random() >= 0.85:
        return x, "none", ""
    kind, s = rng.choice(["white", "pink", "brown"]), rng.uniform(5, 30)
    loud = speech[np.abs(speech) > 1e-4]
    x = x + noise(kind, len(x), nprng) * (np.sqrt(np.mean(loud * loud)) if len(loud) else 0) / 10 ** (s / 20)
    return x, kind, f"{s:.1f}"


def write(path, x):
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


def clip(speech, rng):
    """The speech placed in a CLIP-second clip so that it ends 2.0-2.4 s in; returns the clip and the phrase end (s)."""
    n = int(CLIP * RATE)
    end = int(rng.uniform(2.0, 2.4) * RATE)
    start = max(int(0.05 * RATE), end - len(speech))
    speech = speech[: n - start]
    x = np.zeros(n)
    x[start:start + len(speech)] = speech
    return x, (start + len(speech)) / RATE


def speak_stream(args):
    voice, speed, pitch, texts, pauses = args
    ssml = "<speak>" + "".join(t + f'<break time="{int(p * 1000)}ms"/>' for t, p in zip(texts, pauses)) + "</speak>"
    x, rate = espeak(voice, speed, pitch, ssml)
    return resample(x, RATE / rate)


def read(path):
    with wave.open(path) as w:
        assert w.getframerate() == RATE and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def wav_bytes(data):
    """A WAV file's samples (mono or the first channel) as float64 in [-1, 1) and its rate."""
    with wave.open(io.BytesIO(data)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768
        return x[:: w.getnchannels()], w.getframerate()


def flite(voice, text, stretch=1.0, f0=None):
    """flite (voices: `flite -lv`), duration stretch and an optional mean pitch (Hz); trimmed, at 16 kHz."""
    cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={stretch:.3f}"]
    if f0 is not None:
        cmd += ["--setf", f"int_f0_target_mean={f0:.1f}"]
    data = subprocess.run(cmd + ["-t", text, "-o", "/dev/stdout"], check=True, capture_output=True).stdout
    return _trimmed(*wav_bytes(data))


def festival(args):
    """One festival process for several phrases of one voice (e.g. kal_diphone, ked_diphone, cmu_us_slt_arctic_hts):
    args = (voice, [(text, duration stretch), ...]); each trimmed, at 16 kHz."""
    voice, items = args
    with tempfile.TemporaryDirectory() as tmp:
        lines = [f"(voice_{voice})"]
        for i, (text, stretch) in enumerate(items):
            quoted = text.replace("\\", " ").replace('"', " ")
            lines.append(f"(Parameter.set 'Duration_Stretch {stretch:.3f})")
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{tmp}/{i}.wav" \'riff)')
        script = os.path.join(tmp, "say.scm")
        with open(script, "w") as f:
            f.write("\n".join(lines) + "\n")
        subprocess.run(["festival", "--batch", script], check=True, capture_output=True)
        result = []
        for i in range(len(items)):
            with open(os.path.join(tmp, f"{i}.wav"), "rb") as f:
                result.append(_trimmed(*wav_bytes(f.read())))
        return result


def _trimmed(x, rate):
    loud = np.flatnonzero(np.abs(x) > 4 / 32768)
    x = x[max(0, loud[0] - 80):loud[-1] + 80] if len(loud) else x
    return resample(x, RATE / rate) if rate != RATE else x


def sox_perturb(x, cents=0.0, tempo=1.0):
    """A pitch shift (cents; formants move with it) and a tempo change (duration / tempo, pitch kept) by sox."""
    effects = []
    if cents:
        effects += ["pitch", f"{cents:.0f}"]
    if tempo != 1.0:
        effects += ["tempo", "-s", f"{tempo:.3f}"]
    if not effects:
        return x
    raw = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()
    fmt = ["-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16", "-c", "1"]
    out = subprocess.run(["sox", *fmt, "-", *fmt, "-", *effects], input=raw, check=True, capture_output=True).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64) / 32768


MANIFEST_COLUMNS = ["file", "split", "class", "text", "voice", "speed", "pitch", "noise", "snr_db", "phrase_end", "warp"]


def write_manifest(out, rows, t0):
    """OUT/manifest.csv (one row per clip, MANIFEST_COLUMNS), then the clip count per split and class and the time."""
    with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_COLUMNS)
        w.writerows(rows)
    counts = {}
    for r in rows:
        counts[(r[1], r[2])] = counts.get((r[1], r[2]), 0) + 1
    print(", ".join(f"{s}/{c}: {n}" for (s, c), n in sorted(counts.items())), f"; {time.time() - t0:.0f} s")
