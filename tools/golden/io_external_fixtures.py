"""Copies small EDF/BDF test files shipped in the pyedflib wheel (PyPI) into
fixtures/io/external/ and records what MNE-Python reads from them.

    python3 tools/golden/io_external_fixtures.py     # needs pip, mne

Writes fixtures/io/external/{test_subsecond.edf,test_utf8.edf,
test_generator_datarec_generator_2.bdf,LICENSE.pyedflib,external_golden_mne.json}.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "fixtures", "io", "external")
FILES = ["test_subsecond.edf", "test_utf8.edf", "test_generator_datarec_generator_2.bdf"]
VERSION = "0.1.42"


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                        f"pyedflib=={VERSION}", "-d", tmp], check=True)
        whl = glob.glob(os.path.join(tmp, "pyedflib-*.whl"))[0]
        with zipfile.ZipFile(whl) as z:
            for f in FILES:
                with z.open(f"pyedflib/tests/data/{f}") as src, open(os.path.join(OUT, f), "wb") as dst:
                    shutil.copyfileobj(src, dst)
            lic = [n for n in z.namelist() if n.endswith("licenses/LICENSE")][0]
            with z.open(lic) as src, open(os.path.join(OUT, "LICENSE.pyedflib"), "wb") as dst:
                shutil.copyfileobj(src, dst)

    import mne
    golden = {}
    for f in FILES:
        p = os.path.join(OUT, f)
        raw = (mne.io.read_raw_bdf if f.endswith(".bdf") else mne.io.read_raw_edf)(p, preload=True, verbose="error")
        d = raw.get_data() * 1e6
        # MNE resamples every channel to the highest rate: keep channels at that rate only
        native = {ch: [float(x) for x in d[i][:64]] + [float(d[i][-1])] for i, ch in enumerate(raw.ch_names)
                  if ch in ("Fp1", "sine 2.5Hz")}
        golden[f] = {
            "sfreq": raw.info["sfreq"],
            "n_times": int(raw.n_times),
            "meas_date": raw.info["meas_date"].isoformat() if raw.info["meas_date"] else None,
            "first64_and_last": native,
            "annotations": [[float(a["onset"]), float(a["duration"]), a["description"]] for a in raw.annotations],
        }
    with open(os.path.join(OUT, "external_golden_mne.json"), "w") as fh:
        json.dump({"generator": f"mne {mne.__version__}", "files": golden}, fh, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
