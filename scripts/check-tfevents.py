#!/usr/bin/env python3
"""Checks TensorBoard event files with Debian's protobuf tools, independently of kindling and of the Node tests.

Usage: python3 scripts/check-tfevents.py FILE [FILE ...]
Needs `apt-get install python3-protobuf protobuf-compiler`. Compiles src/loggers/tensorboard.test-util.proto with protoc,
checks both masked CRC32C of every TFRecord (CRC computed here), decodes each Event and prints it; exits non-zero on
the first problem. Not part of CI.
"""
import importlib.util
import pathlib
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO = ROOT / "src" / "loggers" / "tensorboard.test-util.proto"


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def load_schema():
    out = pathlib.Path(tempfile.mkdtemp())
    subprocess.run(["protoc", f"--proto_path={PROTO.parent}", f"--python_out={out}", PROTO.name], check=True)
    spec = importlib.util.spec_from_file_location("tensorboard_pb2", out / "tensorboard_pb2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records(data: bytes):
    offset = 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        (length_crc,) = struct.unpack_from("<I", data, offset + 8)
        if length_crc != masked(crc32c(data[offset : offset + 8])):
            raise ValueError(f"bad length CRC at byte {offset}")
        body = data[offset + 12 : offset + 12 + length]
        (data_crc,) = struct.unpack_from("<I", data, offset + 12 + length)
        if data_crc != masked(crc32c(body)):
            raise ValueError(f"bad data CRC at byte {offset}")
        yield body
        offset += 16 + length


def main(paths):
    pb2 = load_schema()
    for path in paths:
        data = pathlib.Path(path).read_bytes()
        count = 0
        for body in records(data):
            event = pb2.Event()
            event.ParseFromString(body)
            if count == 0 and event.file_version != "brain.Event:2":
                raise ValueError(f"{path}: the first event should give the file version, got {event}")
            for value in event.summary.value:
                kind = value.WhichOneof("value")
                shown = value.simple_value if kind == "simple_value" else f"histogram num={value.histo.num} sum={value.histo.sum}"
                print(f"{path}: step {event.step} {value.tag} = {shown}")
            count += 1
        print(f"{path}: {count} events, every CRC correct")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
