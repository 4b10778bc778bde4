"""Writes the broken files of fixtures/broken/ that are well formed but say impossible things, name
files outside their folder, or hold binary where text belongs. The readers used to accept them
silently (a record duration of 1e-300 s gave sampling rates printed with 300 digits; EDF+C records
whose time-keeping annotations ran backwards became overlapping segments with no warning; duplicate
channel labels passed; a BrainVision DataFile of ../x.eeg or /dev/zero was followed out of the
header's folder) or answered with unreadable messages (500 bytes of binary quoted from a .vhdr).

    python3 tools/golden/io_make_implausible_fixtures.py

No dependencies beyond the standard library; rerunning reproduces the committed bytes.

EDF/BDF (one data signal `Fz` of 4 samples a record unless said otherwise):
- record_duration_tiny.edf / record_duration_huge.edf: record durations of 1e-300 s and 1e300 s.
- record_duration_tiny.bdf: the same in a BDF file.
- sampling_rate_too_high.edf: 10000 samples in records of 0.001 s, 10 MHz.
- edfplus_c_tal_backwards.edf: EDF+C whose record onsets are 0, 1, 0.5 s (1-s records).
- edfplus_c_tal_jump.edf: EDF+C whose record onsets are 0, 1, 7 s.
- edfplus_d_tal_overlap.edf: EDF+D whose record onsets are 0, 1, 1.5 s (overlapping records).
- edfplus_tal_onset_huge.edf: EDF+C whose first record's onset is 1e300 s.
- duplicate_labels.edf: signals Fz, Cz, `FZ` (Fz again, in other case), Cz.

BrainVision (`.vhdr` with a `.eeg` of float32 multiplexed samples):
- bv_duplicate_labels.vhdr: channels Fz, Cz, Fz.
- bv_sampling_interval_tiny.vhdr / bv_sampling_interval_huge.vhdr: SamplingInterval 1e-300 and 1e300 µs.
- escape/bv_datafile_parent.vhdr: DataFile=../bv_outside.eeg (which exists, in fixtures/broken).
- escape/bv_datafile_absolute.vhdr: DataFile=/etc/passwd; escape/bv_datafile_device.vhdr: /dev/zero.
- escape/bv_datafile_backslash_parent.vhdr: DataFile=..\\bv_outside.eeg (Windows separators).
- escape/bv_markerfile_parent.vhdr: a valid DataFile and MarkerFile=sub/../../bv_outside.vmrk.
- bv_binary_garbage.vhdr: 600 pseudo-random bytes, none of them a line ending.
- bv_no_sampling_interval.vhdr: [Common Infos] on line 3 has no SamplingInterval.
- bv_no_channel_line.vhdr: NumberOfChannels=2 and only Ch1; [Channel Infos] is on line 14.

EEGLAB (`.set`, MAT-file v5 written by hand):
- set_duplicate_labels.set: three channels labelled Fz, Cz, fz, data embedded.
- set_srate_huge.set: srate 1e300.
- escape/set_fdt_outside.set: EEG.data names ../set_outside.fdt (which exists, in fixtures/broken);
  no set_fdt_outside.fdt is beside it.
"""
import os
import random
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "fixtures")
BROKEN = os.path.join(FIXTURES, "broken")
ESCAPE = os.path.join(BROKEN, "escape")


def field(s, w):
    b = s.encode("latin-1") if isinstance(s, str) else s
    assert len(b) <= w, (s, w)
    return b + b" " * (w - len(b))


def tal(onset, texts=("",)):
    out = onset.encode("ascii") + b"\x14"
    for t in texts:
        out += t.encode("utf-8") + b"\x14"
    return out + b"\x00"


def edf(labels, duration, spr, records, *, reserved="", bdf=False, tals=None, ann_spr=40):
    """labels: data signal labels; records: number of records; tals: per-record TAL bytes (adds an
    annotation signal last)."""
    sigs = [dict(label=l, unit="uV", pmin="-100", pmax="100", dmin="-32768", dmax="32767", spr=str(spr))
            for l in labels]
    if bdf:
        for s in sigs:
            s.update(dmin="-8388608", dmax="8388607")
    if tals is not None:
        sigs.append(dict(label="BDF Annotations" if bdf else "EDF Annotations", unit="", pmin="-1", pmax="1",
                         dmin="-32768", dmax="32767", spr=str(ann_spr)))
    ns = len(sigs)
    head = ((b"\xffBIOSEMI" if bdf else field("0", 8)) + field("X X X X", 80)
            + field("Startdate 24-JAN-2020 X X X", 80) + field("24.01.20", 8) + field("04.05.56", 8)
            + field(str(256 * (ns + 1)), 8) + field(reserved, 44) + field(str(records), 8) + field(duration, 8)
            + field(str(ns), 4))
    assert len(head) == 256
    for key, w in [("label", 16), ("transducer", 80), ("unit", 8), ("pmin", 8), ("pmax", 8), ("dmin", 8),
                   ("dmax", 8), ("prefilter", 80), ("spr", 8), ("reserved", 32)]:
        head += b"".join(field(s.get(key, ""), w) for s in sigs)
    bps = 3 if bdf else 2
    body = b""
    for r in range(records):
        for s in sigs[:len(labels)]:
            for k in range(int(s["spr"])):
                v = (r * 7 + k * 3) % 50 - 25
                body += struct.pack("<i", v)[:3] if bdf else struct.pack("<h", v)
        if tals is not None:
            t = tals[r]
            assert len(t) <= ann_spr * bps
            body += t + b"\x00" * (ann_spr * bps - len(t))
    return head + body


def vhdr(data_file, channels, *, interval="4000", marker_file=None, n_channels=None):
    lines = ["Brain Vision Data Exchange Header File Version 1.0", "", "[Common Infos]",
             "Codepage=UTF-8", f"DataFile={data_file}"]
    if marker_file is not None:
        lines.append(f"MarkerFile={marker_file}")
    lines += ["DataFormat=BINARY", "DataOrientation=MULTIPLEXED",
              f"NumberOfChannels={len(channels) if n_channels is None else n_channels}"]
    if interval is not None:
        lines.append(f"SamplingInterval={interval}")
    lines += ["", "[Binary Infos]", "BinaryFormat=IEEE_FLOAT_32", "", "[Channel Infos]"]
    lines += [f"Ch{i + 1}={name},,1,µV" for i, name in enumerate(channels)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def eeg(n_channels, n_samples):
    return b"".join(struct.pack("<f", float((t * 5 + c) % 11 - 5)) for t in range(n_samples) for c in range(n_channels))


def vmrk(data_file):
    return ("Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n[Common Infos]\r\n"
            f"DataFile={data_file}\r\n\r\n[Marker Infos]\r\nMk1=Stimulus,S  1,5,1,0\r\n").encode("ascii")


def mat_element(ty, data):
    out = struct.pack("<II", ty, len(data)) + data
    return out + b"\0" * (-len(out) % 8)


def mat_matrix(name, cls, dims, content):
    body = mat_element(6, struct.pack("<II", cls, 0))
    body += mat_element(5, struct.pack("<" + "i" * len(dims), *dims))
    body += mat_element(1, name.encode("ascii"))
    return mat_element(14, body + content)


def mat_double(name, value):
    return mat_matrix(name, 6, [1, 1], mat_element(9, struct.pack("<d", value)))


def mat_char(name, text):
    return mat_matrix(name, 4, [1, len(text)], mat_element(4, text.encode("utf-16-le")))


def mat_single_matrix(name, rows, cols, values):
    """A float32 matrix; `values` in column-major order."""
    return mat_matrix(name, 7, [rows, cols], mat_element(7, struct.pack("<" + "f" * len(values), *values)))


def mat_struct(name, fields, items):
    """A 1 x len(items) struct array; each item maps field names to ready element bytes (unnamed)."""
    width = 32
    names = b"".join(f.encode("ascii").ljust(width, b"\0") for f in fields)
    content = mat_element(5, struct.pack("<i", width)) + mat_element(1, names)
    for item in items:
        for f in fields:
            content += item[f]
    return mat_matrix(name, 2, [1, len(items)], content)


def mat_file(body):
    head = field("MATLAB 5.0 MAT-file, written by tools/golden/io_make_implausible_fixtures.py", 116)
    return head + b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM" + body


def eeglab_set(srate, labels, *, data=None, n_samples=4):
    nbchan = len(labels)
    body = mat_double("srate", srate) + mat_double("nbchan", float(nbchan)) + mat_double("pnts", float(n_samples))
    body += mat_double("trials", 1.0)
    if data is None:
        values = [float((t * 3 + c) % 7) for t in range(n_samples) for c in range(nbchan)]
        body += mat_single_matrix("data", nbchan, n_samples, values)
    else:
        body += mat_char("data", data) + mat_char("datfile", data)
    chanlocs = [{"labels": mat_char("", l), "type": mat_char("", "EEG")} for l in labels]
    body += mat_struct("chanlocs", ["labels", "type"], chanlocs)
    return mat_file(body)


def write(name, data, where=BROKEN):
    with open(os.path.join(where, name), "wb") as fh:
        fh.write(data)


def main():
    os.makedirs(ESCAPE, exist_ok=True)
    # EDF/BDF: implausible durations and rates.
    write("record_duration_tiny.edf", edf(["Fz"], "1e-300", 4, 2))
    write("record_duration_huge.edf", edf(["Fz"], "1e300", 4, 2))
    write("record_duration_tiny.bdf", edf(["Fz"], "1e-300", 4, 2, bdf=True))
    write("sampling_rate_too_high.edf", edf(["Fz"], "0.001", 10000, 1))
    # EDF+: time-keeping annotations that contradict the header.
    plus_c = dict(reserved="EDF+C")
    write("edfplus_c_tal_backwards.edf", edf(["Fz"], "1", 4, 3, tals=[tal("+0"), tal("+1"), tal("+0.5")], **plus_c))
    write("edfplus_c_tal_jump.edf", edf(["Fz"], "1", 4, 3, tals=[tal("+0"), tal("+1"), tal("+7")], **plus_c))
    write("edfplus_d_tal_overlap.edf",
          edf(["Fz"], "1", 4, 3, tals=[tal("+0"), tal("+1"), tal("+1.5")], reserved="EDF+D"))
    write("edfplus_tal_onset_huge.edf",
          edf(["Fz"], "1", 4, 2, tals=[tal("+1" + "0" * 300), tal("+1" + "0" * 300)], ann_spr=200, **plus_c))
    write("duplicate_labels.edf", edf(["Fz", "Cz", "FZ", "Cz"], "1", 4, 2))
    # BrainVision.
    write("bv_duplicate_labels.vhdr", vhdr("bv_duplicate_labels.eeg", ["Fz", "Cz", "Fz"]))
    write("bv_duplicate_labels.eeg", eeg(3, 8))
    write("bv_sampling_interval_tiny.vhdr", vhdr("bv_sampling_interval.eeg", ["Fz"], interval="1e-300"))
    write("bv_sampling_interval_huge.vhdr", vhdr("bv_sampling_interval.eeg", ["Fz"], interval="1e300"))
    write("bv_sampling_interval.eeg", eeg(1, 8))
    write("bv_outside.eeg", eeg(1, 8))
    write("bv_outside.vmrk", vmrk("bv_outside.eeg"))
    write("bv_datafile_parent.vhdr", vhdr("../bv_outside.eeg", ["Fz"]), ESCAPE)
    write("bv_datafile_backslash_parent.vhdr", vhdr("..\\bv_outside.eeg", ["Fz"]), ESCAPE)
    write("bv_datafile_absolute.vhdr", vhdr("/etc/passwd", ["Fz"]), ESCAPE)
    write("bv_datafile_device.vhdr", vhdr("/dev/zero", ["Fz"]), ESCAPE)
    write("bv_inside.eeg", eeg(1, 8), ESCAPE)
    write("bv_markerfile_parent.vhdr", vhdr("bv_inside.eeg", ["Fz"], marker_file="sub/../../bv_outside.vmrk"),
          ESCAPE)
    rng = random.Random(20261206)
    # No line ending among them: the whole file is its first line.
    garbage = [b for b in (rng.randrange(256) for _ in range(700)) if b not in (10, 13)][:600]
    write("bv_binary_garbage.vhdr", bytes(garbage))
    write("bv_no_sampling_interval.vhdr", vhdr("bv_sampling_interval.eeg", ["Fz"], interval=None))
    write("bv_no_channel_line.vhdr", vhdr("bv_sampling_interval.eeg", ["Fz"], n_channels=2))
    # EEGLAB.
    write("set_duplicate_labels.set", eeglab_set(128.0, ["Fz", "Cz", "fz"]))
    write("set_srate_huge.set", eeglab_set(1e300, ["Fz"]))
    write("set_fdt_outside.set", eeglab_set(128.0, ["Fz"], data="../set_outside.fdt"), ESCAPE)
    write("set_outside.fdt", struct.pack("<4f", 1, 2, 3, 4))


if __name__ == "__main__":
    main()
