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
        # Issue 12: values a float parser takes but no count is, dates no clock can hold.
        "nan_counts.Spe": spe([*ok[:5], "nan", *ok[6:]]),
        "inf_counts.Spe": spe([*ok[:5], "inf", *ok[6:]]),
        "huge_counts.Spe": spe([*ok[:5], "1e30", *ok[6:]]),
        "year_9999.Spe": spe(ok).replace("03/01/2020", "03/01/9999"),
        "nan_live_time.mca": mca(ok, live="nan"),
        "counted_zeroes.n42": '<?xml version="1.0"?>\n<RadInstrumentData xmlns="http://physics.nist.gov/N42/2011/N42">\n'
        "<RadMeasurement><RealTimeDuration>PT600S</RealTimeDuration><Spectrum><LiveTimeDuration>PT598S"
        '</LiveTimeDuration><ChannelData compressionCode="CountedZeroes">5 0 1e12 7</ChannelData>'
        "</Spectrum></RadMeasurement>\n</RadInstrumentData>\n",
        "bad_cell_early.csv": "# live_time_s: 600\nchannel,counts\n0,1\n1,2\n2,x3\n3,4\n4,5\n5,6\n",
        "no_live_time.csv": "channel,counts\n" + "".join(f"{i},10\n" for i in range(64)),
        "huge_current.csv": "time_s,current_mA,voltage_V\n0,-1,3\n10,-1e30,3\n20,-1,3\n30,1,3\n40,1,3\n",
        "cut_last_row.csv": "Time(s),Current(mA),Voltage(V)\n0,-1,3.0\n10,-1,3.0\n20,1,3.0\n30,1",
    }
    for name, text in files.items():
        (HERE / name).write_bytes(text.encode("latin-1"))
    # A .Chn whose header declares 4096 channels but holds 100.
    import struct

    header = struct.pack(
        "<hHH2sII8s4sHH", -1, 1, 1, b"00", 30000, 29900, b"01MAR201", b"0900", 0, 4096
    )
    (HERE / "truncated.Chn").write_bytes(header + bytes(400))
    # List-mode files that only look like HDF5 / Parquet, and events no frame grid can hold.
    (HERE / "garbage.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"not hdf5 at all " * 8)
    (HERE / "garbage.parquet").write_bytes(b"PAR1 garbage, no footer PAR1")
    import numpy as np

    np.savez(HERE / "channel_1e15.npz", time=np.array([0.0, 1.0, 2.0]), channel=np.array([1, 10**15, 3]))
    np.savez(HERE / "time_1e12.npz", time=np.array([0.0, 1.0e12]), channel=np.array([1, 2]))


if __name__ == "__main__":
    main()
