"""Writes the broken files of fixtures/broken/ whose header numbers multiply to a size that does not
fit in 64 bits. Before the readers used checked arithmetic, each product wrapped to a small number
that matched the file, and the reader then allocated what the header claimed (petabytes: the
process aborted) or indexed past its data.

    python3 tools/golden/io_make_overflow_fixtures.py

No dependencies beyond the standard library; rerunning reproduces the committed bytes.

- record_size_overflow.edf: 2048 signals of 2^26 samples per record (2^38 bytes a record) and 2^26
  records: the data size 2^64 wraps to 0, and the file holds no data record. Records last 100 s, so
  the sampling rate (671 kHz) is within what the reader accepts and the size check is what fails.
- bv_channel_count_overflow.vhdr/.eeg: NumberOfChannels 2^62 with one channel line; the count sized
  an allocation, and 2^62 channels of 4 bytes wrap to 0.
- set_size_overflow.set/.fdt: EEGLAB fields nbchan 2^20, pnts 2^39, trials 8 and an empty .fdt:
  2^62 float32 values are 2^64 bytes, which wrap to 0.
"""
import os
import struct

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BROKEN = os.path.join(ROOT, "fixtures", "broken")


def field(s, w):
    b = s.encode("ascii")
    assert len(b) <= w, (s, w)
    return b + b" " * (w - len(b))


def edf_record_size_overflow():
    ns, spr, records = 2048, 1 << 26, 1 << 26
    head = (field("0", 8) + field("X X X X", 80) + field("Startdate X X X X", 80) + field("01.01.20", 8)
            + field("00.00.00", 8) + field(str(256 * (ns + 1)), 8) + field("", 44) + field(str(records), 8)
            + field("100", 8) + field(str(ns), 4))
    assert len(head) == 256
    cols = [(lambda i: f"S{i}", 16), (lambda i: "", 80), (lambda i: "uV", 8), (lambda i: "-100", 8),
            (lambda i: "100", 8), (lambda i: "-32768", 8), (lambda i: "32767", 8), (lambda i: "", 80),
            (lambda i: str(spr), 8), (lambda i: "", 32)]
    for value, w in cols:
        head += b"".join(field(value(i), w) for i in range(ns))
    assert len(head) == 256 * (ns + 1)
    return head


def vhdr_channel_count_overflow():
    return ("Brain Vision Data Exchange Header File Version 1.0\r\n"
            "\r\n"
            "[Common Infos]\r\n"
            "DataFile=bv_channel_count_overflow.eeg\r\n"
            "DataFormat=BINARY\r\n"
            "DataOrientation=MULTIPLEXED\r\n"
            f"NumberOfChannels={1 << 62}\r\n"
            "SamplingInterval=4000\r\n"
            "\r\n"
            "[Binary Infos]\r\n"
            "BinaryFormat=IEEE_FLOAT_32\r\n"
            "\r\n"
            "[Channel Infos]\r\n"
            "Ch1=Fz,,0.1,uV\r\n").encode("ascii")


def mat_element(ty, data):
    out = struct.pack("<II", ty, len(data)) + data
    return out + b"\0" * (-len(out) % 8)


def mat_matrix(name, cls, dims, content):
    body = mat_element(6, struct.pack("<II", cls, 0))  # array flags: class
    body += mat_element(5, struct.pack("<" + "i" * len(dims), *dims))
    body += mat_element(1, name.encode("ascii"))
    return mat_element(14, body + content)


def mat_double(name, value):
    return mat_matrix(name, 6, [1, 1], mat_element(9, struct.pack("<d", value)))


def mat_char(name, text):
    return mat_matrix(name, 4, [1, len(text)], mat_element(4, text.encode("utf-16-le")))


def set_size_overflow():
    head = field("MATLAB 5.0 MAT-file, written by tools/golden/io_make_overflow_fixtures.py", 116)
    head += b"\0" * 8 + struct.pack("<H", 0x0100) + b"IM"
    body = (mat_double("srate", 128.0) + mat_double("nbchan", float(1 << 20)) + mat_double("pnts", float(1 << 39))
            + mat_double("trials", 8.0) + mat_char("data", "set_size_overflow.fdt")
            + mat_char("datfile", "set_size_overflow.fdt"))
    return head + body


def write(name, data):
    with open(os.path.join(BROKEN, name), "wb") as fh:
        fh.write(data)


def main():
    os.makedirs(BROKEN, exist_ok=True)
    write("record_size_overflow.edf", edf_record_size_overflow())
    write("bv_channel_count_overflow.vhdr", vhdr_channel_count_overflow())
    write("bv_channel_count_overflow.eeg", struct.pack("<f", 1.0) * 4)
    write("set_size_overflow.set", set_size_overflow())
    write("set_size_overflow.fdt", b"")


if __name__ == "__main__":
    main()
