#!/usr/bin/python3
"""Renders text-line crops for the ch_ppocr_mobile_v2.0_cls accuracy test of the int8 quantizer.

Each crop is one line of words in a DejaVu font (22 faces), dark text on a light, slightly noisy background, turned
by a small random angle (-8..8 degrees) and, for half of the crops, by 180 degrees more (the class the model detects).
Crops are preprocessed the way PaddleOCR feeds the classifier: resized to height 48 keeping the aspect ratio (width
at most 192), scaled to [-1, 1], padded with zeros on the right. Writes OUT/crops.npy (float32 [N, 3, 48, 192]),
OUT/flipped.npy (uint8 [N], 1 = turned by 180) and, for the image preprocessing path, OUT/ppm/NNNN.ppm (first 16 crops,
as rendered, before resizing).

usage: make_text_crops.py OUT_DIR [COUNT] [SEED]
"""
import glob
import os
import random
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

WORDS = ("the quick brown fox jumps over lazy dog invoice total amount date receipt number street city station "
         "train platform exit entrance open closed monday friday price sale discount coffee milk bread water "
         "edge network model runtime kernel board camera sensor battery voltage 2026 15:30 42 7.99 $120 No.18 "
         "Hello World Paris London Berlin Tokyo ACCOUNT PASSWORD Warning Caution Fragile Handle with care").split()


def render(rng, fonts):
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5)))
    font = ImageFont.truetype(rng.choice(fonts), rng.randint(18, 40))
    left, top, right, bottom = font.getbbox(text)
    pad = rng.randint(2, 10)
    w, h = right - left + 2 * pad, bottom - top + 2 * pad
    bg = rng.randint(170, 255)
    img = Image.new("RGB", (w, h), (bg, bg - rng.randint(0, 20), bg - rng.randint(0, 30)))
    ink = rng.randint(0, 90)
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill=(ink, ink, ink + rng.randint(0, 40)))
    flipped = rng.random() < 0.5
    angle = rng.uniform(-8, 8) + (180 if flipped else 0)
    img = img.rotate(angle, resample=Image.BILINEAR, expand=True, fillcolor=(bg, bg, bg))
    arr = np.asarray(img).astype(np.float32)
    arr += np.asarray(rng.gauss(0, 1), dtype=np.float32) * np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 4, arr.shape).astype(np.float32)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), flipped


def preprocess(img):
    h, w = 48, 192
    ratio = img.width / img.height
    rw = min(w, max(1, int(np.ceil(h * ratio))))
    x = np.asarray(img.resize((rw, h), Image.BILINEAR)).astype(np.float32).transpose(2, 0, 1) / 255.0
    x = (x - 0.5) / 0.5
    out = np.zeros((3, h, w), np.float32)
    out[:, :, :rw] = x
    return out


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 4)
    fonts = sorted(glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf"))
    if not fonts:
        sys.exit("no DejaVu fonts in /usr/share/fonts/truetype/dejavu")
    os.makedirs(os.path.join(out, "ppm"), exist_ok=True)
    crops, flips = [], []
    for i in range(count):
        img, flipped = render(rng, fonts)
        if i < 16:
            img.save(os.path.join(out, "ppm", f"{i:04d}.ppm"))
        crops.append(preprocess(img))
        flips.append(1 if flipped else 0)
    np.save(os.path.join(out, "crops.npy"), np.stack(crops))
    np.save(os.path.join(out, "flipped.npy"), np.array(flips, np.uint8))


if __name__ == "__main__":
    main()
