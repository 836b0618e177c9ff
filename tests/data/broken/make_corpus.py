"""Regenerate the broken-file corpus: python tests/data/broken/make_corpus.py

Each file is broken in one way a real acquisition can break a file; tests/test_broken_files.py
holds the error each must give.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def spe(counts, meas="598 600", first=0, last=None):
    last = len(counts) - 1 if last is None else last
    lines = ["$SPEC_ID:", "broken", "$DATE_MEA:", "03/01/2020 09:00:00", "$MEAS_TIM:", meas,
             "$DATA:", f"{first} {last}", *[f"{c:8}" for c in counts]]  # fmt: skip
    return "\r\n".join(lines) + "\r\n"


def mca(counts, live="598.0", real="600.0", end=True):
    lines = ["<<PMCA SPECTRUM>>", "TAG - broken", f"LIVE_TIME - {live}", f"REAL_TIME - {real}",
             "START_TIME - 03/01/2020 09:00:00", "<<DATA>>", *[str(c) for c in counts]]  # fmt: skip
    if end:
        lines.append("<<END>>")
    return "\n".join(lines) + "\n"


def main():
    ok = [10] * 64
    files = {
        "empty.Spe": "",
        "truncated.Spe": spe(ok[:40], last=63),
        "negative_counts.Spe": spe([*ok[:10], "-3", *ok[11:]]),
        "nonnumeric_counts.Spe": spe([*ok[:5], "12a", *ok[6:]]),
        "zero_live_time.Spe": spe(ok, meas="0 600"),
        "live_gt_real.Spe": spe(ok, meas="700 600"),
        "truncated.mca": mca(ok, end=False),
        "nonnumeric_counts.mca": mca([*ok[:7], "x", *ok[8:]]),
        "live_gt_real.mca": mca(ok, live="610.5", real="600.0"),
        "missing_live_time.txt": "Detector:   Lynx\nLabel:  broken\nReal Time:  600\n\nChannel Counts\n"
        + "".join(f"{i} 10\n" for i in range(64)),
        "skipped_channel.txt": "Detector:   Lynx\nLive Time:  598\nReal Time:  600\n\nChannel Counts\n"
        + "".join(f"{i} 10\n" for i in range(64) if i != 30),
        "nonnumeric.csv": "channel,counts\n"
        + "".join(f"{i},{'ten' if i == 17 else 10}\n" for i in range(64)),
        "malformed.n42": '<?xml version="1.0"?>\n<RadInstrumentData xmlns="http://physics.nist.gov/N42/2011/N42">\n'
        "<RadMeasurement><RealTimeDuration>PT600S</RealTimeDuration>\n</RadInstrumentData>\n",
        "backwards_time.csv": "BOARD;CHANNEL;TIMETAG;ENERGY;ENERGYSHORT;FLAGS\n"
        + "".join(f"0;0;{t};{100 + t % 7};0;0x0\n" for t in (1000, 2000, 3000, 2500, 4000)),
        "frames_1024ch.Spe": spe([5] * 1024),
        "frames_2048ch.Spe": spe([5] * 2048).replace("09:00:00", "09:10:00"),
    }
    for name, text in files.items():
        (HERE / name).write_bytes(text.encode("latin-1"))
    # A .Chn whose header declares 4096 channels but holds 100.
    import struct

    header = struct.pack(
        "<hHH2sII8s4sHH", -1, 1, 1, b"00", 30000, 29900, b"01MAR201", b"0900", 0, 4096
    )
    (HERE / "truncated.Chn").write_bytes(header + bytes(400))


if __name__ == "__main__":
    main()
