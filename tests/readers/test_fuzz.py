"""Fuzzing the reader with truncated, bit-flipped and spliced real WARC files (hypothesis, bounded).

Properties, for every mutated file: the reader never raises and never hangs (10 s alarm per example);
every record read is one document that is either kept or excluded with a reason (read = kept + excluded);
pointers are in order and inside the file; and `fetch_record` on any pointer either parses or raises the
one-line InputError, never anything else. 400 examples run in about 10 s.
"""

from __future__ import annotations

import signal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_tools.core.errors import InputError
from corpus_tools.readers.record import fetch_record
from corpus_tools.readers.warc import WarcRecordReader
from tests.conftest import TEST_DATA, WARC_REAL

# small real files (gzip per record, uncompressed, ARC, WARC 0.17 .. 1.1), so each example is quick
SOURCES = [WARC_REAL / "warcio" / n for n in ("example.warc.gz", "example-iana.org-chunked.warc", "post-test.warc.gz",
                                               "example-resource.warc.gz", "example-digest.warc")]
SOURCES += [WARC_REAL / "pywb" / "example-extra.warc", WARC_REAL / "jwarc" / "cc.warc.gz",
            WARC_REAL / "dolma_science" / "0.warc.gz", WARC_REAL / "whirlwind" / "whirlwind.warc.gz",
            WARC_REAL / "ukwa" / "IAH-20080430204825-00000-blackbook-truncated.warc.gz",
            TEST_DATA / "warc-broken" / "example.arc.gz", TEST_DATA / "warc-broken" / "encodings.warc.gz"]
BLOBS = [p.read_bytes() for p in SOURCES]


class Hang(BaseException):  # not Exception: the reader catches those and would swallow the alarm
    pass


def _alarm(signum, frame):
    raise Hang("the reader took more than 10 s on one small file")


@st.composite
def mutated(draw):
    i = draw(st.integers(0, len(BLOBS) - 1))
    data = bytearray(BLOBS[i])
    kind = draw(st.sampled_from(["truncate", "flip", "splice", "garbage"]))
    if kind == "truncate":
        data = data[: draw(st.integers(0, len(data)))]
    elif kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] ^= 1 << draw(st.integers(0, 7))
    elif kind == "splice":
        other = BLOBS[draw(st.integers(0, len(BLOBS) - 1))]
        data = data[: draw(st.integers(0, len(data)))] + other[draw(st.integers(0, len(other))):]
    else:
        pos = draw(st.integers(0, len(data)))
        data = data[:pos] + draw(st.binary(min_size=1, max_size=64)) + data[pos:]
    suffix = ".arc.gz" if SOURCES[i].name.endswith(".arc.gz") else (".warc" if SOURCES[i].suffix == ".warc" else ".warc.gz")
    return bytes(data), suffix


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_reader_survives_mutated_real_files(tmp_path, case):
    data, suffix = case
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    reader = WarcRecordReader([str(path)])
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        docs = list(reader.run())
        for doc in docs:
            m = doc.metadata
            if m["warc_type"] == "damaged" or not m["warc_length"]:
                continue
            try:
                fetch_record(str(path), m["warc_offset"], m["warc_length"])
            except InputError:
                pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    read = reader.stats.stats["records_read"].total  # a defaultdict: 0 when nothing was read
    kept = sum(1 for d in docs if "exclusion" not in d.metadata)
    excluded = sum(1 for d in docs if "exclusion" in d.metadata and d.metadata["exclusion"]["reason"])
    assert read == len(docs) == kept + excluded
    last_end = 0
    for d in docs:
        off, length = d.metadata["warc_offset"], d.metadata["warc_length"]
        assert last_end <= off <= len(data)
        if length is not None:
            assert off + length <= len(data)
            last_end = off + length
    if data == b"":
        assert docs == []
