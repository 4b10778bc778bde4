"""Writes the small EDF/BDF fixtures of eeglens-io from scratch (independently of the Rust writer),
the broken variants in fixtures/broken/, and golden values read back by MNE-Python.

    python3 tools/golden/io_make_edf_fixtures.py          # writes fixtures/io/*.edf|bdf, fixtures/broken/*
    python3 tools/golden/io_make_edf_fixtures.py --mne    # also fixtures/io/edf_golden_mne.json

Everything is deterministic; rerunning reproduces the committed bytes.
"""
import json
import os
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IO = os.path.join(ROOT, "fixtures", "io")
BROKEN = os.path.join(ROOT, "fixtures", "broken")


def field(s, w):
    b = s.encode("utf-8") if isinstance(s, str) else s
    assert len(b) <= w, (s, w)
    return b + b" " * (w - len(b))


def tal(onset, duration, texts):
    b = ("+" if onset >= 0 else "-") + repr(abs(onset)).rstrip("0").rstrip(".") if onset != int(onset) else (
        ("+" if onset >= 0 else "-") + str(abs(int(onset))))
    out = b.encode()
    if duration is not None:
        out += b"\x15" + str(duration).encode()
    out += b"\x14"
    for t in texts:
        out += t.encode("utf-8") + b"\x14"
    return out + b"\x00"


def make(signals, n_records, duration, records, *, bdf=False, reserved="", start=("24.01.20", "04.05.56"),
         patient="X X X X", recording="Startdate 24-JAN-2020 X X X", overrides=None, declared_records=None):
    """signals: list of dicts label, unit, pmin, pmax, dmin, dmax, spr, (transducer, prefilter).
    records: list (per record) of list (per signal) of ints or bytes (annotation signals)."""
    ns = len(signals)
    f = {}
    f["version"] = (b"\xffBIOSEMI") if bdf else field("0", 8)
    f["patient"] = field(patient, 80)
    f["recording"] = field(recording, 80)
    f["startdate"] = field(start[0], 8)
    f["starttime"] = field(start[1], 8)
    f["header_bytes"] = field(str(256 * (ns + 1)), 8)
    f["reserved"] = field(reserved, 44)
    f["n_records"] = field(str(n_records if declared_records is None else declared_records), 8)
    f["duration"] = field(duration, 8)
    f["ns"] = field(str(ns), 4)
    for k, v in (overrides or {}).items():
        if k in f:
            f[k] = v
    head = b"".join(f[k] for k in ["version", "patient", "recording", "startdate", "starttime", "header_bytes",
                                    "reserved", "n_records", "duration", "ns"])
    assert len(head) == 256
    cols = [("label", 16), ("transducer", 80), ("unit", 8), ("pmin", 8), ("pmax", 8), ("dmin", 8), ("dmax", 8),
            ("prefilter", 80), ("spr", 8), ("reserved", 32)]
    for name, w in cols:
        for i, s in enumerate(signals):
            key = f"{name}{i}"
            if overrides and key in overrides:
                head += overrides[key]
            else:
                head += field(str(s.get(name, "")), w)
    bps = 3 if bdf else 2
    body = b""
    for rec in records:
        for s, vals in zip(signals, rec):
            if isinstance(vals, bytes):
                assert len(vals) <= s["spr"] * bps
                body += vals + b"\x00" * (s["spr"] * bps - len(vals))
            else:
                assert len(vals) == s["spr"]
                for v in vals:
                    body += struct.pack("<i", v)[:3] if bdf else struct.pack("<h", v)
    return head + body


def sig(label, unit, pmin, pmax, dmin, dmax, spr, **kw):
    d = dict(label=label, unit=unit, pmin=pmin, pmax=pmax, dmin=dmin, dmax=dmax, spr=spr)
    d.update(kw)
    return d


def wave(n, k, lo, hi):
    # deterministic integer pattern covering the range, including both extremes
    span = hi - lo
    return [lo + ((i * 7919 + k * 104729) % (span + 1)) if i > 1 else (lo if i == 0 else hi) for i in range(n)]


def edfplus_mixed():
    s = [sig("EEG Fp1", "uV", -3200, 3200, -32768, 32767, 32, prefilter="HP:0.1Hz LP:75Hz"),
         sig("EEG Cz", "uV", 3200, -3200, -32768, 32767, 32),  # inverted gain
         sig("ECG", "mV", -5, 5, -2048, 2047, 16),
         sig("EDF Annotations", "", -1, 1, -32768, 32767, 30)]
    recs = []
    for r in range(4):
        ann = tal(0.25 + r * 0.5, None, [""])
        if r == 0:
            ann += tal(0.25 + 0.3, None, ["Lights off"]) + tal(0.25 + 0.4, 1.5, ["Eyes closed", "µV check"])
        if r == 2:
            ann += tal(0.25 + 1.25, 0, ["Spike"])
        recs.append([wave(32, r, -32768, 32767), wave(32, r + 10, -32768, 32767), wave(16, r + 20, -2048, 2047), ann])
    return make(s, 4, "0.5", recs, reserved="EDF+C",
                patient="MCH-0234567 F 02-MAY-1951 Haagse_Harry", start=("24.01.20", "04.05.56"))


def bdfplus():
    s = [sig("Fp1", "uV", -262144, 262143, -8388608, 8388607, 64),
         sig("O2", "uV", -262144, 262143, -8388608, 8388607, 64),
         sig("Status", "Boolean", -8388608, 8388607, -8388608, 8388607, 64),
         sig("BDF Annotations", "", -1, 1, -8388608, 8388607, 20)]
    recs = []
    for r in range(3):
        ann = tal(float(r), None, [""])
        if r == 1:
            ann += tal(1.5, None, ["stim 1"])
        recs.append([wave(64, r, -8388608, 8388607), wave(64, r + 5, -8388608, 8388607),
                     [((i // 8) % 4) * 256 for i in range(64)], ann])
    return make(s, 3, "1", recs, bdf=True, reserved="BDF+C", start=("01.02.21", "10.11.12"),
                recording="Startdate 01-FEB-2021 X X X")


def plain_with_annotations():
    s = [sig("C3", "uV", -500, 500, -2048, 2047, 10),
         sig("EDF Annotations", "", -1, 1, -32768, 32767, 20)]
    recs = []
    for r in range(2):
        ann = tal(float(r), None, [""]) + (tal(0.7, None, ["blink"]) if r == 0 else b"")
        recs.append([wave(10, r, -2048, 2047), ann])
    return make(s, 2, "1", recs, reserved="", start=("31.12.99", "23.59.59"), patient="subj01",
                recording="plain")


def edfplus_d():
    s = [sig("EEG O1", "uV", -100, 100, -32768, 32767, 4),
         sig("EDF Annotations", "", -1, 1, -32768, 32767, 16)]
    onsets = [0.0, 1.0, 5.0, 6.0]  # a 3-second gap after the second record
    recs = [[wave(4, r, -32768, 32767), tal(o, None, [""]) + (tal(5.5, None, ["after gap"]) if r == 2 else b"")]
            for r, o in enumerate(onsets)]
    return make(s, 4, "1", recs, reserved="EDF+D")


def simple(**kw):
    s = [sig("Fz", "uV", -100, 100, -32768, 32767, 8)]
    n = kw.pop("n_records", 3)
    recs = [[wave(8, r, -32768, 32767)] for r in range(n)]
    return make(s, n, kw.pop("duration", "1"), recs, **kw)


def bids_tiny(root):
    """Two subjects, one with a session, RestingState and another task; participants.tsv with a
    byte-order mark and CRLF line endings."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "dataset_description.json"), "w") as fh:
        fh.write('{"Name": "tiny", "BIDSVersion": "1.8.0"}\n')
    with open(os.path.join(root, "participants.tsv"), "wb") as fh:
        fh.write(b"\xef\xbb\xbfparticipant_id\tsex\tage\tEHQ_Total\r\nsub-01\tF\t10.2\t80\r\n"
                 b"sub-02\tM\tn/a\t-40\r\n")
    s = [sig("Fp1", "uV", -200, 200, -32768, 32767, 16), sig("Cz", "uV", -200, 200, -32768, 32767, 16),
         sig("EOG", "uV", -800, 800, -32768, 32767, 16)]
    files = [("sub-01", None, "RestingState", None), ("sub-01", None, "SAIIT", "1"),
             ("sub-02", "01", "RestingState", None)]
    for sub, ses, task, run in files:
        d = os.path.join(root, sub, *( [f"ses-{ses}"] if ses else []), "eeg")
        os.makedirs(d, exist_ok=True)
        base = "_".join([sub] + ([f"ses-{ses}"] if ses else []) + [f"task-{task}"] + ([f"run-{run}"] if run else []))
        recs = [[wave(16, r, -32768, 32767), wave(16, r + 1, -32768, 32767), wave(16, r + 2, -32768, 32767)]
                for r in range(2)]
        write(d, base + "_eeg.edf", make(s, 2, "1", recs, patient=sub))
        with open(os.path.join(d, base + "_channels.tsv"), "w") as fh:
            fh.write("name\ttype\tunits\tstatus\nFp1\tEEG\tuV\tgood\nCz\tEEG\tuV\tbad\nEOG\tVEOG\tuV\tgood\n")
        with open(os.path.join(d, base + "_events.tsv"), "w") as fh:
            fh.write("onset\tduration\ttrial_type\tvalue\n0.5\tn/a\teyes_closed\t20\n1.25\t0.5\tn/a\t30\n")
    # Not EEG data: must be ignored by the scanner.
    write(os.path.join(root, "sub-01", "eeg"), "sub-01_task-RestingState_eeg.json", b"{}\n")


def write(dirname, name, data):
    with open(os.path.join(dirname, name), "wb") as fh:
        fh.write(data)


def main():
    os.makedirs(IO, exist_ok=True)
    os.makedirs(BROKEN, exist_ok=True)
    write(IO, "edfplus_mixed_rates.edf", edfplus_mixed())
    write(IO, "bdfplus_status.bdf", bdfplus())
    write(IO, "edf_plain_with_annotation_signal.edf", plain_with_annotations())
    write(IO, "edfplus_discontinuous.edf", edfplus_d())
    write(IO, "edf_minus1_records.edf", simple(declared_records=-1))

    ok = simple()
    write(BROKEN, "truncated_header.edf", ok[:100])
    write(BROKEN, "truncated_signal_header.edf", ok[:300])
    write(BROKEN, "truncated_record.edf", ok[:-5])
    write(BROKEN, "record_count_exceeds_file.edf", simple(declared_records=7))
    write(BROKEN, "minus1_records_partial.edf", simple(declared_records=-1)[:-3])
    write(BROKEN, "samples_per_record_not_a_number.edf", simple(overrides={"spr0": field("12a", 8)}))
    write(BROKEN, "zero_samples_per_record.edf", simple(overrides={"spr0": field("0", 8)}))
    write(BROKEN, "negative_record_duration.edf", simple(duration="-1"))
    write(BROKEN, "zero_record_duration.edf", simple(duration="0"))
    write(BROKEN, "impossible_date.edf", simple(start=("31.02.20", "04.05.56")))
    write(BROKEN, "impossible_time.edf", simple(start=("01.02.20", "25.05.56")))
    write(BROKEN, "header_bytes_wrong.edf", simple(overrides={"header_bytes": field("1024", 8)}))
    write(BROKEN, "digital_max_below_min.edf", simple(overrides={"dmax0": field("-40000", 8)}))
    write(BROKEN, "bad_version.edf", simple(overrides={"version": field("1", 8)}))
    # Malformed TALs: the data must still be read, the bad annotations reported and skipped.
    s = [sig("Fz", "uV", -100, 100, -32768, 32767, 8), sig("EDF Annotations", "", -1, 1, -32768, 32767, 24)]
    recs = [[wave(8, 0, -32768, 32767), tal(0.0, None, [""]) + b"12\x14no sign\x14\x00" + tal(0.5, None, ["good"])],
            [wave(8, 1, -32768, 32767), tal(1.0, None, [""]) + b"+1.5\x15-2\x14neg dur\x14\x00"]]
    write(BROKEN, "malformed_tal.edf", make(s, 2, "1", recs, reserved="EDF+C"))

    bids_tiny(os.path.join(IO, "bids_tiny"))

    if "--mne" in sys.argv:
        import mne
        import numpy as np
        golden = {}
        for name in ["edfplus_mixed_rates.edf", "bdfplus_status.bdf", "edf_plain_with_annotation_signal.edf"]:
            p = os.path.join(IO, name)
            raw = (mne.io.read_raw_bdf if name.endswith(".bdf") else mne.io.read_raw_edf)(
                p, preload=True, verbose="error", stim_channel=None, infer_types=False)
            chans = {}
            for i, ch in enumerate(raw.ch_names):
                # MNE resamples every channel to the highest rate; keep native-rate channels only
                if ch in ("ECG",):
                    continue
                d = raw.get_data(picks=[i])[0]
                # MNE returns volts for voltage channels and the raw physical value otherwise
                scale = 1.0 if ch == "Status" else 1e6
                chans[ch] = [float(x) for x in d * scale]
            golden[name] = {
                "sfreq": raw.info["sfreq"],
                "meas_date": raw.info["meas_date"].isoformat() if raw.info["meas_date"] else None,
                "channels": chans,
                "annotations": [[float(a["onset"]), float(a["duration"]), a["description"]] for a in raw.annotations],
            }
        with open(os.path.join(IO, "edf_golden_mne.json"), "w") as fh:
            json.dump({"generator": f"mne {mne.__version__}", "files": golden}, fh, indent=1)


if __name__ == "__main__":
    main()
