"""Copies of the template whose VBA project is edited stream by stream, with pyOpenVBA's own
container writer and compressor: a module's compressed source replaced by hand-made bytes, such
as a "VBA bomb" whose copy tokens run past the 4,096 bytes a chunk may decompress to.

Used by tests/test_template_doctor.py and benchmarks/bench_doctor.py.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pyopenvba.cfb import CFB
from pyopenvba.vba import _parse_dir_stream, compress, decompress

VBA_PART = "xl/vbaProject.bin"

#: One compressed chunk (MS-OVBA 2.4.1.1.4) of 6 bytes that claims 4,099 decompressed bytes: the
#: header (3 bytes after it, compressed, signature 0b011), a flag byte 0b10 (a literal, then a copy
#: token), the literal "A" and a copy token of offset 1 and length 4,098 (all 12 length bits set,
#: the split at the start of a chunk). An unbounded decoder repeats the "A" 4,098 times: 683x.
BOMB_CHUNK = (0xB000 | 3).to_bytes(2, "little") + bytes([0b10]) + b"A" + (0x0FFF).to_bytes(2, "little")


def bomb(chunks: int) -> bytes:
    """A compressed container of ``chunks`` overrunning chunks: 6 bytes each, 4,099 unbounded."""
    return b"\x01" + BOMB_CHUNK * chunks


def module_streams(template: Path) -> dict[str, tuple[str, int]]:
    """module name -> (its stream's name, the offset of its compressed source in the stream)."""
    cfb = CFB.from_bytes(zipfile.ZipFile(template).read(VBA_PART))
    _, infos = _parse_dir_stream(decompress(cfb.get_stream_in_storage("VBA", "dir")))
    return {i.name: (i.stream_name, i.text_offset) for i in infos}


def with_sources(template: Path, out: Path, sources: dict[str, bytes], *, compressed: bool = True) -> Path:
    """A copy of ``template`` at ``out`` with each named module's source replaced: by the given
    compressed bytes as they are (``compressed``), or by the text compressed with pyOpenVBA."""
    streams = module_streams(template)
    with zipfile.ZipFile(template) as zin:
        cfb = CFB.from_bytes(zin.read(VBA_PART))
        for module, source in sources.items():
            name, offset = streams[module]
            head = cfb.get_stream_in_storage("VBA", name)[:offset]
            cfb.write_stream_in_storage("VBA", name, head + (source if compressed else compress(source)))
        project = cfb.to_bytes()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, project if info.filename == VBA_PART else zin.read(info))
    return out
