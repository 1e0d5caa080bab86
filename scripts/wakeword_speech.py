"""Speech and noise helpers shared by the wake-word data scripts (make-wakeword-data2.py, make-wakeword-data4.py):
espeak-ng calls split and resampled to 16 kHz, FFT resampling, coloured noise, WAV read/write and clip placement.
The random generators are passed in, so each script keeps its own seeded streams."""

import io
import subprocess
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


def espeak(voice, speed, pitch, ssml):
    data = subprocess.run(["espeak-ng", "-m", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", ssml],
                          check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(data)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768, w.getframerate()


def speak_batch(args):
    """One espeak call for several phrases (split again at the long exact-zero gaps); each trimmed, at 16 kHz, warped."""
    voice, speed, pitch, texts, warp = args
    x, rate = espeak(voice, speed, pitch, "<speak>" + f'<break time="{BREAK_MS}ms"/>'.join(texts) + "</speak>")
    quiet = np.abs(x) <= 2 / 32768
    edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
    gaps = [(s, e) for s, e in zip(edges[::2], edges[1::2]) if e - s >= 0.8 * rate and s > 0 and e < len(x)]
    if len(gaps) != len(texts) - 1:
        parts = [espeak(voice, speed, pitch, f"<speak>{t}</speak>")[0] for t in texts]
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
