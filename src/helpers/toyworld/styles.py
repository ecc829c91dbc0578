"""Procedural rendering: a 32×32 RGB work in an artist's style, or a generic "photo".

A work is its artist's texture (:data:`~helpers.toyworld.artists.PATTERNS`) in the artist's two main
colours, placed by the artist's composition, with the artist's motifs in the accent colour. Every work
varies inside the style: the angle turns by up to ±10°, the frequency changes by up to ±15%, the phase,
the composition's placement and the motifs' positions are random, the colours shift slightly, and a
little pixel noise is added (a world's ``variation`` scales the turn, the frequency change, the colour
shift and the noise). Generic images (captions that name no artist) are soft two-colour gradients
with a few blurred blobs, in any colours. Everything is a pure function of a ``numpy`` generator.
"""

from __future__ import annotations

import numpy as np

from .artists import Artist

__all__ = ["SIZE", "render", "render_generic", "hex_rgb"]

SIZE = 32
_AXIS = np.arange(SIZE, dtype=np.float64) + 0.5
_X, _Y = np.meshgrid(_AXIS, _AXIS)  # _Y grows downwards


def hex_rgb(color: str) -> np.ndarray:
    """``"#rrggbb"`` as a float array in [0, 1]."""
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64) / 255.0


def _rotated(angle: float, cx: float = SIZE / 2, cy: float = SIZE / 2) -> tuple[np.ndarray, np.ndarray]:
    a = np.deg2rad(angle)
    dx, dy = _X - cx, _Y - cy
    return dx * np.cos(a) + dy * np.sin(a), -dx * np.sin(a) + dy * np.cos(a)


def _wave(t: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.cos(2 * np.pi * t)


def _triangle(t: np.ndarray) -> np.ndarray:
    return 2 * np.abs(t - np.floor(t + 0.5))


def _pattern(kind: str, angle: float, freq: float, rng: np.random.Generator) -> np.ndarray:
    """A texture field in [0, 1]; 1 is the foreground colour."""
    k = freq / SIZE
    ph, ph2 = rng.random(), rng.random()
    cx, cy = SIZE / 2 + rng.uniform(-4, 4, size=2)
    u, v = _rotated(angle, cx, cy)
    if kind == "stripes":
        return _wave(k * u + ph)
    if kind == "waves":
        return _wave(k * u + 0.18 * np.sin(2 * np.pi * (1.5 * k * v + ph2)) + ph)
    if kind == "checker":
        return 0.5 + 0.5 * np.sign(np.sin(np.pi * (k * u + ph)) * np.sin(np.pi * (k * v + ph2))) * 0.999
    if kind == "dots":
        du, dv = (k * u + ph) % 1 - 0.5, (k * v + ph2) % 1 - 0.5
        return np.clip(1.6 - 5.0 * np.hypot(du, dv), 0, 1)
    if kind == "rings":
        return _wave(k * np.hypot(u, v) + ph)
    if kind == "spokes":
        return _wave(np.round(freq) * np.arctan2(v, u) / (2 * np.pi) + ph)
    if kind == "hatch":
        return np.maximum(_wave(k * u + ph), _wave(k * (u + v) / np.sqrt(2) + ph2)) ** 3
    if kind == "zigzag":
        return _wave(k * v + 0.9 * _triangle(k * u) + ph)
    if kind == "grid":
        return np.maximum(_wave(k * u + ph), _wave(k * v + ph2)) ** 6
    if kind == "bricks":
        row = np.floor(k * v + ph2)
        mortar = np.minimum(_triangle(k * v + ph2), _triangle(0.5 * k * u + 0.5 * (row % 2) + ph))
        return (mortar > 0.22).astype(np.float64)
    if kind == "blobs":
        field = np.zeros((SIZE, SIZE))
        for _ in range(int(np.round(freq))):
            bx, by = rng.uniform(0, SIZE, size=2)
            field += np.exp(-((_X - bx) ** 2 + (_Y - by) ** 2) / (2 * (SIZE / freq) ** 2))
        return np.clip(field, 0, 1)
    if kind == "bands":
        return np.floor((k * u / 2 + ph) * 3) % 3 / 2
    raise ValueError(f"unknown pattern {kind!r}")


def _sharpen(field: np.ndarray, edge: str) -> np.ndarray:
    if edge == "hard":
        return 1 / (1 + np.exp(-14 * (field - 0.5)))
    return field


def _composition(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Where the texture shows (1) and where the plain background does (0)."""
    j = rng.uniform(-3, 3, size=2)
    if kind == "full":
        return np.ones((SIZE, SIZE))
    if kind == "disc":
        return (np.hypot(_X - 16 - j[0], _Y - 16 - j[1]) < 11 + j[0] / 3).astype(np.float64)
    if kind == "split":
        return (_X < 16 + 1.5 * j[0]).astype(np.float64)
    if kind == "band":
        return (np.abs(_Y - 16 - j[1]) < 7).astype(np.float64)
    if kind == "frame":
        border = 5 + int(round(j[0] / 3))
        inner = (np.minimum(_X, SIZE - _X) > border) & (np.minimum(_Y, SIZE - _Y) > border)
        return inner.astype(np.float64)
    if kind == "diagonal":
        return (_X + _Y < SIZE + 3 * j[0]).astype(np.float64)
    raise ValueError(f"unknown composition {kind!r}")


def _motifs(kind: str, rng: np.random.Generator) -> np.ndarray:
    """Small accent-coloured shapes (1 where they are)."""
    out = np.zeros((SIZE, SIZE))
    if kind == "none":
        return out
    for _ in range(int(rng.integers(2, 4))):
        mx, my = rng.uniform(5, SIZE - 5, size=2)
        dx, dy = _X - mx, _Y - my
        if kind == "circles":
            shape = np.hypot(dx, dy) < 2.6
        elif kind == "squares":
            shape = (np.abs(dx) < 2.5) & (np.abs(dy) < 2.5)
        elif kind == "crosses":
            shape = ((np.abs(dx) < 0.8) & (np.abs(dy) < 3.5)) | ((np.abs(dy) < 0.8) & (np.abs(dx) < 3.5))
        elif kind == "diamonds":
            shape = np.abs(dx) + np.abs(dy) < 3.2
        elif kind == "bars":
            shape = (np.abs(dx) < 4.5) & (np.abs(dy) < 1.0)
        else:
            raise ValueError(f"unknown motif {kind!r}")
        out = np.maximum(out, shape.astype(np.float64))
    return out


def _jitter(color: np.ndarray, rng: np.random.Generator, amount: float = 0.05) -> np.ndarray:
    return np.clip(color + rng.uniform(-amount, amount, size=3), 0, 1)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def _spread(factor: float, variation: float) -> float:
    return factor if variation == 1 else 1 + variation * (factor - 1)


def render(artist: Artist, rng: np.random.Generator, variation: float = 1.0) -> np.ndarray:
    """One work by ``artist``: a ``(32, 32, 3)`` uint8 array, drawn with ``rng``. ``variation`` scales how
    much works vary inside the style (angle, frequency, colours, noise); 1 is the easy world's."""
    bg, fg, accent = (_jitter(hex_rgb(c), rng, 0.05 * variation) for c in (artist.bg, artist.fg, artist.accent))
    angle = artist.angle + rng.uniform(-10 * variation, 10 * variation)
    freq = artist.freq * _spread(rng.uniform(0.85, 1.15), variation)
    field = _sharpen(_pattern(artist.pattern, angle, freq, rng), artist.edge)
    mask = _composition(artist.composition, rng)[..., None]
    textured = bg + (fg - bg) * field[..., None]
    shade = (1 - 0.25 * _Y / SIZE)[..., None]  # the untextured part: the background, darkening downwards
    image = mask * textured + (1 - mask) * bg * shade
    motif = _motifs(artist.motif, rng)[..., None]
    image = image * (1 - motif) + accent * motif
    image = image + rng.normal(0, 0.025 * variation, size=image.shape)
    return _to_uint8(image)


def render_generic(rng: np.random.Generator) -> np.ndarray:
    """A generic image, in no artist's style: a soft gradient between two random colours with 1–3 soft
    blobs of other random colours."""
    c0, c1 = rng.uniform(0.1, 0.9, size=(2, 3))
    u, _ = _rotated(rng.uniform(0, 360))
    t = np.clip(0.5 + u / SIZE, 0, 1)[..., None]
    image = c0 + (c1 - c0) * t
    for _ in range(int(rng.integers(1, 4))):
        color = rng.uniform(0, 1, size=3)
        bx, by = rng.uniform(0, SIZE, size=2)
        radius = rng.uniform(3, 9)
        weight = np.exp(-((_X - bx) ** 2 + (_Y - by) ** 2) / (2 * radius**2))[..., None]
        image = image * (1 - 0.8 * weight) + color * 0.8 * weight
    image = image + rng.normal(0, 0.02, size=image.shape)
    return _to_uint8(image)
