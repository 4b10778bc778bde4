"""BrainVision and EEGLAB fixtures for eeglens-io, written by other software (pybv, eeglabio,
scipy.io.savemat) or by hand from the specifications, plus broken variants and golden values read
back by MNE-Python.

    pip install mne pybv eeglabio scipy
    python3 tools/golden/io_make_other_fixtures.py

Writes fixtures/io/brainvision/*, fixtures/io/eeglab/*, fixtures/broken/{bv_*,set_*} and
fixtures/io/other_golden_mne.json. Deterministic except for the creation date scipy writes
into MAT-file headers.
"""
import json
import os
import struct
import warnings
from datetime import datetime, timezone

import numpy as np
import scipy.io

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BV = os.path.join(ROOT, "fixtures", "io", "brainvision")
SET = os.path.join(ROOT, "fixtures", "io", "eeglab")
BROKEN = os.path.join(ROOT, "fixtures", "broken")


def signals(n_ch, n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 100.0
    return np.array([20 * np.sin(2 * np.pi * (3 + c) * t) + rng.normal(0, 5, n) for c in range(n_ch)])


def brainvision():
    import pybv
    os.makedirs(BV, exist_ok=True)
    uv = signals(3, 250, 1)
    events = np.array([[10, 1], [120, 2], [200, 3]])
    meas = datetime(2021, 3, 4, 5, 6, 7, 123456, tzinfo=timezone.utc)
    # pybv takes volts and writes µV with the given resolution
    pybv.write_brainvision(data=uv * 1e-6, sfreq=100.0, ch_names=["Fp1", "Cz", "O2"], fname_base="pybv_float32",
                           folder_out=BV, overwrite=True, events=events, fmt="binary_float32", meas_date=meas)
    pybv.write_brainvision(data=uv * 1e-6, sfreq=100.0, ch_names=["Fp1", "Cz", "O2"], fname_base="pybv_int16",
                           folder_out=BV, overwrite=True, events=events, fmt="binary_int16", resolution=0.1)
    # Hand-written: vectorised INT_32, per-channel resolution and units, ANSI µ, a comma in a name.
    n = 40
    raw = [np.arange(n, dtype=np.int32) * 3 - 50, -np.arange(n, dtype=np.int32) * 1000, np.full(n, 7, np.int32)]
    with open(os.path.join(BV, "vectorized_int32.eeg"), "wb") as fh:
        for r in raw:
            fh.write(r.astype("<i4").tobytes())
    vhdr = ("Brain Vision Data Exchange Header File Version 1.0\r\n; comment\r\n\r\n[Common Infos]\r\n"
            "DataFile=vectorized_int32.eeg\r\nMarkerFile=vectorized_int32.vmrk\r\nDataFormat=BINARY\r\n"
            "DataOrientation=VECTORIZED\r\nNumberOfChannels=3\r\nSamplingInterval=2000\r\n\r\n"
            "[Binary Infos]\r\nBinaryFormat=INT_32\r\n\r\n[Channel Infos]\r\n"
            "Ch1=C3,,0.5,\xb5V\r\nCh2=EMG\\1chin,,0.001,mV\r\nCh3=Temp,,1,C\r\n")
    with open(os.path.join(BV, "vectorized_int32.vhdr"), "wb") as fh:
        fh.write(vhdr.encode("latin-1"))
    vmrk = ("Brain Vision Data Exchange Marker File, Version 1.0\r\n\r\n[Marker Infos]\r\n"
            "Mk1=New Segment,,1,1,0,20200124040556394531\r\nMk2=Stimulus,S  1,11,1,0\r\n"
            "Mk3=Comment,eyes\\1closed,21,5,0\r\n")
    with open(os.path.join(BV, "vectorized_int32.vmrk"), "wb") as fh:
        fh.write(vmrk.encode("latin-1"))
    # Broken: a marker whose position is not a number (skipped with a warning, data still read).
    with open(os.path.join(BROKEN, "bv_bad_marker.vmrk"), "wb") as fh:
        fh.write((vmrk + "Mk4=Stimulus,bad,notanumber,1,0\r\n").encode("latin-1"))
    with open(os.path.join(BROKEN, "bv_bad_marker.vhdr"), "wb") as fh:
        fh.write(vhdr.replace("vectorized_int32", "bv_bad_marker").encode("latin-1"))
    with open(os.path.join(BROKEN, "bv_bad_marker.eeg"), "wb") as fh:
        for r in raw:
            fh.write(r.astype("<i4").tobytes())
    # Broken: the .eeg is missing; the .eeg size is not a whole number of samples.
    with open(os.path.join(BROKEN, "bv_missing_eeg.vhdr"), "wb") as fh:
        fh.write(vhdr.replace("vectorized_int32.eeg", "bv_missing_eeg.eeg").replace(
            "MarkerFile=vectorized_int32.vmrk\r\n", "").encode("latin-1"))
    with open(os.path.join(BROKEN, "bv_size_mismatch.vhdr"), "wb") as fh:
        fh.write(vhdr.replace("vectorized_int32.eeg", "bv_size_mismatch.eeg").replace(
            "INT_32", "INT_16").replace("NumberOfChannels=3", "NumberOfChannels=7").replace(
            "MarkerFile=vectorized_int32.vmrk\r\n", "").replace("Ch3=Temp,,1,C\r\n",
            "Ch3=Temp,,1,C\r\nCh4=a\r\nCh5=b\r\nCh6=c\r\nCh7=d\r\n").encode("latin-1"))
    with open(os.path.join(BROKEN, "bv_size_mismatch.eeg"), "wb") as fh:
        fh.write(b"\x00" * 30)
    with open(os.path.join(BROKEN, "bv_zero_sampling_interval.vhdr"), "wb") as fh:
        fh.write(vhdr.replace("vectorized_int32.eeg", "bv_bad_marker.eeg").replace("SamplingInterval=2000",
                 "SamplingInterval=0").replace("MarkerFile=vectorized_int32.vmrk\r\n", "").encode("latin-1"))


def eeglab():
    import eeglabio.epochs
    import eeglabio.raw
    os.makedirs(SET, exist_ok=True)
    uv = signals(4, 300, 2)
    names = ["Fp1", "Fp2", "Cz", "VEOG"]
    # eeglabio: fields as top-level variables, data embedded (float32), in V -> written as µV
    ann = [["eyes_closed", "blink"], np.array([0.5, 1.25]), np.array([0.0, 0.5])]
    eeglabio.raw.export_set(os.path.join(SET, "eeglabio_raw.set"), uv * 1e-6, 100.0, names, annotations=ann)
    # eeglabio epochs: 3 trials of 50 samples
    ep = np.stack([uv[:, i * 50:(i + 1) * 50] for i in range(3)]) * 1e-6
    events = np.array([[25, 0, 1], [75, 0, 2], [125, 0, 1]])
    eeglabio.epochs.export_set(os.path.join(SET, "eeglabio_epochs.set"), ep, 100.0, events, -0.25, 0.24, names,
                               event_id={"rest": 1, "task": 2})
    # Older EEGLAB layout by hand: one struct variable EEG, compressed, data in a .fdt whose
    # stored name is wrong (EEGLAB falls back to the .set's stem).
    chanlocs = np.rec.fromarrays([np.array(names, dtype=object), np.array(["EEG", "EEG", "EEG", "EOG"], dtype=object)],
                                 names=["labels", "type"])
    ev = np.rec.fromarrays([np.array(["S1", 7.0, "boundary"], dtype=object), np.array([11.0, 51.0, 101.0]),
                            np.array([0.0, 10.0, 0.0])], names=["type", "latency", "duration"])
    eeg = {"setname": "by hand", "srate": 100.0, "nbchan": 4.0, "pnts": 300.0, "trials": 1.0, "xmin": 0.0,
           "data": "renamed_elsewhere.fdt", "datfile": "renamed_elsewhere.fdt", "chanlocs": chanlocs, "event": ev,
           "subject": "NDARAA075AMK", "etc": {"T0": np.array([2019.0, 7.0, 1.0, 13.0, 14.0, 15.5])}}
    scipy.io.savemat(os.path.join(SET, "struct_fdt.set"), {"EEG": eeg}, do_compression=True, oned_as="row")
    uv.T.astype("<f4").tofile(os.path.join(SET, "struct_fdt.fdt"))
    # Broken: .set whose .fdt is missing under either name; a v7.3 (HDF5) file.
    scipy.io.savemat(os.path.join(BROKEN, "set_missing_fdt.set"), {"EEG": eeg}, do_compression=True, oned_as="row")
    hdr = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    with open(os.path.join(BROKEN, "set_v73_hdf5.set"), "wb") as fh:
        fh.write(hdr.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM" + b"\x00" * 384 + b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    bad = dict(eeg, srate=0.0)
    scipy.io.savemat(os.path.join(BROKEN, "set_zero_srate.set"), {"EEG": bad}, do_compression=True, oned_as="row")
    # Broken: truncated compressed MAT-file.
    with open(os.path.join(SET, "struct_fdt.set"), "rb") as fh:
        b = fh.read()
    with open(os.path.join(BROKEN, "set_truncated.set"), "wb") as fh:
        fh.write(b[: len(b) // 2])


def golden():
    import mne
    out = {}
    for name in ["pybv_float32.vhdr", "pybv_int16.vhdr", "vectorized_int32.vhdr"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = mne.io.read_raw_brainvision(os.path.join(BV, name), preload=True, verbose="error")
        d = raw.get_data()
        chans = {}
        for i, ch in enumerate(raw.ch_names):
            scale = 1e6 if raw.info["chs"][i]["unit"] == 107 and ch != "Temp" else 1.0
            chans[ch] = [float(x) for x in d[i] * scale]
        out[name] = {"sfreq": raw.info["sfreq"], "channels": chans,
                     "meas_date": raw.info["meas_date"].isoformat() if raw.info["meas_date"] else None,
                     "annotations": [[float(a["onset"]), float(a["duration"]), a["description"]] for a in raw.annotations]}
    for name in ["eeglabio_raw.set", "struct_fdt.set"]:
        raw = mne.io.read_raw_eeglab(os.path.join(SET, name), preload=True, verbose="error")
        d = raw.get_data() * 1e6
        out[name] = {"sfreq": raw.info["sfreq"], "channels": {ch: [float(x) for x in d[i]] for i, ch in enumerate(raw.ch_names)},
                     "annotations": [[float(a["onset"]), float(a["duration"]), a["description"]] for a in raw.annotations]}
    ep = mne.io.read_epochs_eeglab(os.path.join(SET, "eeglabio_epochs.set"), verbose="error")
    d = ep.get_data() * 1e6
    out["eeglabio_epochs.set"] = {"sfreq": ep.info["sfreq"], "n_epochs": int(d.shape[0]),
                                  "channels": {ch: [float(x) for x in d[:, i, :].reshape(-1)] for i, ch in enumerate(ep.ch_names)},
                                  "annotations": []}
    with open(os.path.join(ROOT, "fixtures", "io", "other_golden_mne.json"), "w") as fh:
        json.dump({"generator": f"mne {mne.__version__}", "files": out}, fh, indent=1)


if __name__ == "__main__":
    os.makedirs(BROKEN, exist_ok=True)
    brainvision()
    eeglab()
    golden()
