"""Framing list-mode events into spectra, streaming, with bounded memory.

Events arrive in chunks (:func:`ndp.spectra.io.listmode.iter_events`); each chunk is histogrammed with
one ``numpy.bincount`` over (detector, frame, channel) restricted to the frames the chunk
touches, and added into an accumulator that grows as frames appear. Memory is the accumulator
plus one chunk, whatever the file's size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import xarray as xr

from ndp.errors import FileFormatError, NdpError
from ndp.spectra.dataset import MAX_CHANNELS, make_spectra
from ndp.spectra.io.listmode import EventChunk, in_time_order

__all__ = ["MAX_FRAMES", "frame_events"]

#: Most frames one list-mode file may be cut into (a week in 10-s frames). More means a corrupt
#: time stamp or a mistaken frame_s, refused before the counts array is allocated.
MAX_FRAMES = 100_000


class _Accumulator:
    def __init__(self, n_det: int, n_channels: int):
        self.counts = np.zeros((n_det, 16, n_channels), dtype=np.int64)
        self.n_frames = 0

    def ensure(self, n_det: int, n_frames: int, n_channels: int):
        d, f, c = self.counts.shape
        if n_det > d or n_frames > f or n_channels > c:
            grown = np.zeros((max(d, n_det), max(f, n_frames, 2 * f if n_frames > f else f),
                              max(c, n_channels)), dtype=np.int64)  # fmt: skip
            grown[:d, :f, :c] = self.counts
            self.counts = grown
        self.n_frames = max(self.n_frames, n_frames)


class _ChannelError(Exception):
    """A channel outside 0 … n_channels − 1 (located by the caller)."""


def _histogram(c: np.ndarray, nc: int) -> np.ndarray:
    # bincount returns more than nc bins exactly when a channel is too high, and refuses
    # negative ones: the bounds check costs nothing extra.
    try:
        h = np.bincount(c, minlength=nc)
    except ValueError:
        raise _ChannelError from None
    if h.size > nc:
        raise _ChannelError
    return h


def _frame_index(t, frame_s, edges):
    if edges is None:
        f = np.floor(t / frame_s).astype(np.int64)
        return f, f >= 0
    f = np.searchsorted(edges, t, side="right") - 1
    return f, (f >= 0) & (f < edges.size - 1)


def _add_sorted(acc, t, c, det_index, d, det_ids, frame_s, edges, nc, n_det):
    """Time-sorted events: find each frame's slice by bisection and histogram it directly."""
    if edges is None:
        f_lo = max(int(np.floor(t[0] / frame_s)), 0)
        f_hi = int(np.floor(t[-1] / frame_s))
        if f_hi < 0:
            return
        cuts = np.arange(f_lo, f_hi + 2) * frame_s
        # Bisection must agree with floor(t / frame_s) at the edges; float division decides.
        pos = np.searchsorted(t, cuts, side="left")
        for k in range(pos.size):
            while pos[k] < t.size and np.floor(t[pos[k]] / frame_s) < f_lo + k:
                pos[k] += 1
            while pos[k] > 0 and np.floor(t[pos[k] - 1] / frame_s) >= f_lo + k:
                pos[k] -= 1
        frames = range(f_lo, f_hi + 1)
    else:
        pos = np.searchsorted(t, edges, side="left")
        frames = range(edges.size - 1)
        f_hi = edges.size - 2
    acc.ensure(n_det, f_hi + 1, nc)
    for k, frame in enumerate(frames):
        a, b = pos[k], pos[k + 1]
        if b <= a:
            continue
        if det_index is not None:
            acc.counts[det_index, frame, :nc] += _histogram(c[a:b], nc)
        else:  # several detectors interleaved but jointly time-sorted
            for det, idx in det_ids.items() or {0: 0}.items():
                sel = d[a:b] == det if det_ids else slice(None)
                acc.counts[idx, frame, :nc] += _histogram(c[a:b][sel], nc)


def _add_general(acc, t, c, d, det_ids, detectors, frame_s, edges, nc, n_det):
    if c.min() < 0 or c.max() >= nc:
        raise _ChannelError
    f, keep = _frame_index(t, frame_s, edges)
    dd = None
    if detectors == "separate":
        dd = np.fromiter((det_ids[int(x)] for x in d), dtype=np.int64, count=d.size)
    if not np.all(keep):
        f, c = f[keep], c[keep]
        dd = dd[keep] if dd is not None else None
    if f.size == 0:
        return
    f_lo, f_hi = int(f.min()), int(f.max())
    acc.ensure(n_det, f_hi + 1, nc)
    nc_acc = acc.counts.shape[2]
    width = f_hi - f_lo + 1
    flat = (f - f_lo) * nc_acc + c
    if dd is not None:
        flat = flat + dd * (width * nc_acc)
    hist = np.bincount(flat, minlength=n_det * width * nc_acc).reshape(n_det, width, nc_acc)
    acc.counts[:n_det, f_lo : f_hi + 1, :] += hist


def _guard(ch: EventChunk, source, t_max: float, frame_s: float | None, n_channels: int | None):
    """Refuse, before allocating, frame and channel counts that only corrupt data can ask for."""
    if frame_s is not None and t_max / frame_s >= MAX_FRAMES:
        i = int(np.argmax(ch.time_s == t_max)) if ch.time_s.size else 0
        line = ch.line + i if ch.line is not None else None
        raise FileFormatError(
            source, f"event {ch.first + i}: time {t_max:.9g} s makes {t_max / frame_s:.3g} frames of "
            f"{frame_s:g} s; expected at most {MAX_FRAMES} (a corrupt time stamp or a too short frame_s?)", line,
        )  # fmt: skip
    if n_channels is None and ch.channel.size and int(ch.channel.max()) >= MAX_CHANNELS:
        i = int(np.argmax(ch.channel))
        line = ch.line + i if ch.line is not None else None
        raise FileFormatError(
            source,
            f"event {ch.first + i}: channel {ch.channel[i]}; expected 0 <= channel < {MAX_CHANNELS}",
            line,
        )


def frame_events(
    chunks: Iterable[EventChunk],
    *,
    frame_s: float | None = None,
    boundaries_s=None,
    n_channels: int | None = None,
    detectors: str = "sum",
    start=None,
    source: str = "list-mode",
    end_s: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> xr.Dataset:
    """Histogram events into frames of fixed duration or between given boundaries.

    Parameters
    ----------
    chunks : iterable of EventChunk
        Events in time order (per detector).
    frame_s : float, optional
        Frame duration, s; frames start at t = 0 (the acquisition start).
    boundaries_s : array_like of shape (F + 1,), optional
        Frame edges, s, increasing (e.g. the cycler's half-cycle boundaries). Events outside
        are not counted. Give either this or ``frame_s``.
    n_channels : int, optional
        Channels per spectrum; default: the highest channel seen + 1, rounded up to a power of 2.
    detectors : {"sum", "separate"}
        Sum all detectors into one spectrum per frame, or keep each detector's frames apart
        (frames are then ordered by detector, then time; the ``detector`` coordinate says which).
    start : datetime64, optional
        Absolute time of t = 0, so frames get absolute ``start`` stamps.
    source : str
        Name recorded in the ``source`` coordinate.
    end_s : float, optional
        End of the acquisition, s (default: the last event), for the last frame's real time.
    progress : callable, optional
        Called with the number of events done after each chunk.

    Returns
    -------
    xarray.Dataset
        Spectra as every reader returns them (dims ``frame``, ``channel``). Live time equals
        real time (list-mode files carry no dead time); ``attrs["live_time"]`` says so.

    Raises
    ------
    FileFormatError
        Timestamps going backwards (naming the event and, for text files, the line), channels
        at or above ``n_channels``.
    """
    if (frame_s is None) == (boundaries_s is None):
        raise NdpError("framing: give exactly one of frame_s or boundaries_s")
    if frame_s is not None and not (frame_s > 0):
        raise NdpError(f"frame_s: expected > 0 s, got {frame_s}")
    edges = None
    if boundaries_s is not None:
        edges = np.asarray(boundaries_s, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise NdpError("boundaries_s: expected at least two increasing times in s")
    if detectors not in ("sum", "separate"):
        raise NdpError(f"detectors: expected 'sum' or 'separate', got {detectors!r}")
    if n_channels is not None and not 0 < n_channels <= MAX_CHANNELS:
        raise NdpError(f"n_channels: expected 1 to {MAX_CHANNELS}, got {n_channels}")
    if edges is not None and edges.size - 1 > MAX_FRAMES:
        raise NdpError(f"boundaries_s: {edges.size - 1} frames; expected at most {MAX_FRAMES}")

    acc = _Accumulator(1, n_channels or 1)
    det_ids: dict[int, int] = {}
    t_max = -np.inf
    done = 0
    for ch in in_time_order(iter(chunks), source):
        if ch.time_s.size == 0:
            continue
        t, c, d = ch.time_s, ch.channel, ch.detector
        single = d is None or bool(np.all(d == d[0]))
        d0 = 0 if d is None else int(d[0])
        if detectors == "separate":
            for det in [d0] if single else np.unique(d):
                det_ids.setdefault(int(det), len(det_ids))
        t_max = max(t_max, float(t[-1]) if single else float(t.max()))
        _guard(ch, source, t_max, frame_s, n_channels)
        nc = n_channels or int(1 << int(np.ceil(np.log2(max(int(c.max()) + 1, 2)))))
        n_det = len(det_ids) if detectors == "separate" else 1
        try:
            if single or not np.any(t[1:] < t[:-1]):
                _add_sorted(acc, t, c, det_ids.get(d0, 0) if single else None, d, det_ids,
                            frame_s, edges, nc, n_det)  # fmt: skip
            else:
                _add_general(acc, t, c, d, det_ids, detectors, frame_s, edges, nc, n_det)
        except _ChannelError:
            bad = (c < 0) | (c >= nc)
            i = int(np.argmax(bad))
            line = ch.line + i if ch.line is not None else None
            limit = f"< n_channels {nc}" if n_channels is not None else ">= 0"
            raise FileFormatError(
                source, f"event {ch.first + i}: channel {c[i]}; expected 0 <= channel {limit}", line
            ) from None
        done += t.size
        if progress is not None:
            progress(done)

    n_det = max(len(det_ids), 1) if detectors == "separate" else 1
    if edges is None:
        n_frames = acc.n_frames
        lo = np.arange(n_frames) * frame_s
        hi = lo + frame_s
        stop = end_s if end_s is not None else t_max
        if n_frames:
            hi[-1] = max(min(hi[-1], stop), lo[-1]) if np.isfinite(stop) else hi[-1]
    else:
        n_frames = edges.size - 1
        lo, hi = edges[:-1], edges[1:]
        acc.ensure(n_det, n_frames, 1)
    if n_frames == 0:
        raise FileFormatError(source, "no events inside the frames")
    nc = n_channels or acc.counts.shape[2]
    counts = acc.counts[:n_det, :n_frames, :nc]
    # A last frame holding one event at its very start still needs a positive duration.
    real = hi - lo if edges is not None else np.maximum(hi - lo, 1e-9)
    t0 = np.datetime64("NaT") if start is None else np.datetime64(start, "ns")
    starts = t0 + (lo * 1e9).astype("timedelta64[ns]")
    labels = sorted(det_ids, key=det_ids.get) if detectors == "separate" else ["sum"]
    ds = make_spectra(
        counts.reshape(n_det * n_frames, nc),
        start=np.tile(starts, n_det),
        live_time_s=np.tile(real, n_det),
        real_time_s=np.tile(real, n_det),
        source=source,
        fmt="list-mode",
        detector=[str(lab) for lab in labels for _ in range(n_frames)],
    )
    ds = ds.assign_coords(t_start_s=("frame", np.tile(lo, n_det), {"units": "s"}))
    ds.attrs["live_time"] = "assumed equal to real time (list-mode files carry no dead time)"
    return ds
