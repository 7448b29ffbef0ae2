"""A bounded reader of one VBA module's source, for a workbook nobody vouches for.

A VBA project keeps each module's source in the MS-OVBA compressed form (MS-OVBA 2.4.1): a
signature byte, then chunks of at most 4,096 compressed bytes that each decompress to at most
4,096 bytes. pyOpenVBA's decoder trusts the copy tokens: a chunk whose tokens copy past 4,096
bytes inflates 683 times its size, so a 50 MB project holds about 34 GB of "source". Here every
chunk is capped at 4,096 bytes (a token past that is malformed, as the specification says), the
total is capped, and a reader takes the chunks one at a time and stops when it has what it
needs. pyOpenVBA still parses the container (CFB) and the dir stream's records.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: What one chunk decompresses to at most (MS-OVBA 2.4.1.1.7 DecompressedChunk).
CHUNK_BYTES = 4096
#: The most the dir stream may decompress to: a real one holds a few hundred bytes per module.
MAX_DIR_BYTES = 1024 * 1024


class OvbaError(ValueError):
    """A malformed or oversized VBA stream: one line naming the stream."""


def chunks(stream: bytes, name: str, limit: int) -> Iterator[bytes]:
    """The decompressed chunks of the CompressedContainer ``stream`` (MS-OVBA 2.4.1.3.1), one
    at a time; OvbaError naming ``name`` if it is malformed or inflates past ``limit`` bytes."""
    if not stream or stream[0] != 0x01:
        raise OvbaError(f"{name}: not a compressed VBA stream (no signature byte 0x01)")
    pos, total = 1, 0
    while pos < len(stream):
        if pos + 2 > len(stream):
            raise OvbaError(f"{name}: truncated chunk header at byte {pos}")
        header = int.from_bytes(stream[pos : pos + 2], "little")
        if (header >> 12) & 0b111 != 0b011:  # CompressedChunkSignature
            raise OvbaError(f"{name}: bad chunk signature at byte {pos}")
        end = min(len(stream), pos + 3 + (header & 0x0FFF))  # CompressedChunkSize + 3 bytes in all
        body = stream[pos + 2 : end]
        out = _tokens(body, name, pos) if header & 0x8000 else _raw(body, name, pos)
        total += len(out)
        if total > limit:
            raise OvbaError(f"{name}: inflates to more than {limit:,} bytes, the limit for it")
        yield out
        pos = end


def _raw(body: bytes, name: str, at: int) -> bytes:
    """An uncompressed chunk: 4,096 literal bytes (MS-OVBA 2.4.1.3.3)."""
    if len(body) != CHUNK_BYTES:
        raise OvbaError(f"{name}: the raw chunk at byte {at} holds {len(body):,} bytes, not {CHUNK_BYTES:,}")
    return body


def _tokens(body: bytes, name: str, at: int) -> bytes:
    """A compressed chunk's token sequences (MS-OVBA 2.4.1.3.4-2.4.1.3.6): a flag byte, then
    eight tokens, each a literal byte (flag bit 0) or a 2-byte copy token (bit 1) whose split
    between length and offset bits grows with the bytes decompressed so far in the chunk."""
    out = bytearray()
    pos = 0
    while pos < len(body):
        flags = body[pos]
        pos += 1
        for bit in range(8):
            if pos >= len(body):
                break
            if not (flags >> bit) & 1:
                length, offset = 1, 0
            else:
                if pos + 2 > len(body):
                    raise OvbaError(f"{name}: truncated copy token in the chunk at byte {at}")
                token = int.from_bytes(body[pos : pos + 2], "little")
                bits = max(4, (len(out) - 1).bit_length())  # CopyTokenHelp: ceil(log2(difference))
                length, offset = (token & (0xFFFF >> bits)) + 3, (token >> (16 - bits)) + 1
                if offset > len(out):
                    raise OvbaError(f"{name}: a copy token reaches before its chunk at byte {at}")
            if len(out) + length > CHUNK_BYTES:
                raise OvbaError(f"{name}: the chunk at byte {at} decompresses past {CHUNK_BYTES:,} bytes")
            if offset == 0:
                out.append(body[pos])
                pos += 1
                continue
            pos += 2
            start = len(out) - offset
            if offset >= length:
                out += out[start : start + length]
            else:  # an overlapping copy repeats the pattern, byte by byte
                for k in range(length):
                    out.append(out[start + k])
    return bytes(out)


def module_prefix(vba_project: bytes, module: str, stop: bytes, limit: int) -> bytes | None:
    """The start of ``module``'s source in the vbaProject.bin ``vba_project``, decompressed
    chunk by chunk up to the end of the first line starting with ``stop`` (or the end of the source
    if none does), reading no other module's source; None if the project has no such module.
    OvbaError if the project is malformed or the module's source inflates past ``limit``."""
    from pyopenvba.cfb import CFB
    from pyopenvba.vba import _parse_dir_stream  # the dir stream's record parser; no bounded public one

    try:  # pyOpenVBA's parser of the container, bounded by the bytes it is given
        cfb = CFB.from_bytes(vba_project)
    except Exception as exc:  # its refusal, or a malformed file tripping it: one line either way
        raise OvbaError(f"not a VBA project ({_first_line(exc)})") from None
    directory = _stream(cfb, "dir")
    if directory is None:
        raise OvbaError("VBA/dir: missing; not a VBA project")
    raw = b"".join(chunks(directory, "VBA/dir", MAX_DIR_BYTES))
    try:
        _, infos = _parse_dir_stream(raw)
    except Exception as exc:  # pyOpenVBA's refusal of a malformed record
        raise OvbaError(f"VBA/dir: {_first_line(exc)}") from None
    info = next((i for i in infos if module in (i.name, i.name_unicode)), None)
    if info is None:
        return None
    stream_name = info.stream_name_unicode or info.stream_name or info.name
    source = _stream(cfb, stream_name)
    if source is None:
        raise OvbaError(f"VBA/{stream_name}: missing, though the dir stream lists module {module}")
    if info.text_offset > len(source):
        raise OvbaError(f"VBA/{stream_name}: its source offset {info.text_offset:,} lies past its end")
    line = re.compile(rb"(?:^|\n)" + re.escape(stop) + rb"[^\n]*\n")  # the whole line, at a line's start
    text = bytearray()
    for chunk in chunks(source[info.text_offset :], f"VBA/{stream_name}", limit):
        text += chunk
        if line.search(text, max(0, text.rfind(b"\n", 0, len(text) - len(chunk)))):  # from the last whole line
            break
    return bytes(text)


def _stream(cfb, name: str) -> bytes | None:
    """The stream ``name`` of the VBA storage, None if there is none."""
    try:
        return cfb.get_stream_in_storage("VBA", name)
    except KeyError:
        return None
    except Exception as exc:  # a broken sector chain
        raise OvbaError(f"VBA/{name}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0] or type(exc).__name__
