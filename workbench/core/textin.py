"""Reading input files safely: regular files only, bounded size, honest decoding.

Every text input (SBML, Antimony, study YAML, CSV tables) goes through
:func:`read_input_bytes` and :func:`decode_text`, so that

* a named pipe, a device or a socket is refused instead of blocking forever
  (``workbench info /dev/zero`` or a FIFO must not hang);
* a file larger than the ``file_bytes`` limit is refused before it is read;
* the encoding is honoured: a byte-order mark (UTF-8, UTF-16, UTF-32, as Windows
  editors write them), UTF-16 without a mark (recognised by its zero bytes, XML 1.0
  Appendix F), and the ``encoding`` of an XML declaration (ISO-8859-1, windows-1252);
* text that cannot be decoded is refused with the byte offset and line, never
  replaced silently (a garbled name in a model is a wrong answer, not a cosmetic).

SBML text is handed to libSBML as UTF-8 with its declaration rewritten to say so
(SBML requires UTF-8; the content is unchanged).
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path

from workbench.core.limits import limit, limit_hint
from workbench.errors import InputFileError, WorkbenchError

__all__ = ["decode_text", "load_yaml_text", "read_input_bytes", "read_input_text", "read_table"]

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16-be"))
_DECL = re.compile(r"""^\s*<\?xml[^>]*?\bencoding\s*=\s*(["'])([A-Za-z][A-Za-z0-9._:-]*)\1""")


def read_input_bytes(path: str | os.PathLike[str], what: str = "input file",
                     error: type[WorkbenchError] = InputFileError) -> bytes:
    """The bytes of a regular file, refusing special files and files over the size limit.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages ("model file", "study file", ...).
    error
        Error class raised (default :class:`~workbench.errors.InputFileError`, exit 2).
    """
    p = Path(path)
    src = str(p)
    try:
        st = os.stat(p)  # never blocks, unlike open() on a FIFO
    except FileNotFoundError:
        raise error(f"{what} not found", source=src,
                    fix="check the path (it is relative to the current directory)") from None
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror or exc})", source=src) from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"is a directory, not a {what}", source=src)
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else
                "a character device" if stat.S_ISCHR(st.st_mode) else
                "a block device" if stat.S_ISBLK(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise error(f"is {kind}, not a regular file; reading it could block or never end",
                    source=src, fix=f"save the {what} to a regular file and give that path")
    cap = limit("file_bytes")
    if st.st_size > cap:
        raise error(f"the {what} is too large ({st.st_size:,} bytes; limit 'file_bytes' is "
                    f"{cap:,})", source=src, fix=limit_hint("file_bytes"))
    try:
        with open(p, "rb") as fh:
            data = fh.read(cap + 1)
    except OSError as exc:
        raise error(f"cannot read the {what} ({exc.strerror or exc})", source=src) from None
    if len(data) > cap:  # grew while we read it
        raise error(f"the {what} is larger than the limit 'file_bytes' ({cap:,} bytes)",
                    source=src, fix=limit_hint("file_bytes"))
    return data


def _sniff(data: bytes) -> tuple[str | None, int, str]:
    """(encoding, bytes to skip, how it was recognised) from a BOM or zero-byte pattern."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc, len(bom), "byte-order mark"
    head = data[:512]
    if len(head) >= 4:
        if head[:4] == b"\0\0\0<":
            return "utf-32-be", 0, "zero bytes"
        if head[:4] == b"<\0\0\0":
            return "utf-32-le", 0, "zero bytes"
        n = len(head) // 2
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if n and odd > 0.25 * n and even == 0:
            return "utf-16-le", 0, "zero bytes"
        if n and even > 0.25 * n and odd == 0:
            return "utf-16-be", 0, "zero bytes"
    return None, 0, ""


def _line_of(data: bytes, offset: int, enc: str) -> int:
    nl = "\n".encode(enc) if enc.startswith(("utf-16", "utf-32")) else b"\n"
    return data[:offset].count(nl) + 1


def decode_text(data: bytes, source: str, *, xml: bool = False, what: str = "file",
                error: type[WorkbenchError] = InputFileError) -> str:
    """Decode input bytes to text, honouring BOMs, UTF-16/32 and the XML declaration.

    Parameters
    ----------
    data
        The raw bytes.
    source
        File name for messages.
    xml
        Honour (and rewrite to UTF-8) the ``encoding`` of an XML declaration.
    what
        What the file is, for messages.
    error
        Error class raised when the text cannot be decoded.

    Returns
    -------
    str
        The text without a byte-order mark; for XML the declaration says UTF-8.

    Raises
    ------
    error
        Undecodable bytes (with their offset and line), or an unknown declared encoding.
    """
    enc, skip, how = _sniff(data)
    declared = None
    if xml:
        head_enc = enc or "latin-1"
        try:
            head = data[skip:skip + 400].decode(head_enc, errors="ignore")
        except LookupError:  # pragma: no cover - the table above names real codecs
            head = ""
        m = _DECL.match(head)
        if m:
            declared = m.group(2)
            try:
                declared_codec = codecs.lookup(declared).name
            except LookupError:
                raise error(f"the XML declaration names the encoding {declared!r}, which is "
                            "unknown", source=source, element="encoding",
                            fix="save the file as UTF-8 and declare encoding=\"UTF-8\"") from None
            if enc is None:
                if declared_codec.startswith(("utf-16", "utf-32")):
                    raise error(f"the XML declaration says {declared!r} but the bytes are not "
                                f"{declared} (no byte-order mark, no zero bytes)", source=source,
                                element="encoding", fix="save the file as UTF-8")
                enc, how = declared_codec, f"XML declaration encoding={declared!r}"
    enc = enc or "utf-8"
    try:
        text = data[skip:].decode(enc)
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        bad = data[offset:offset + 4].hex(" ")
        raise error(f"the {what} is not valid {enc.upper()} text"
                    + (f" ({how})" if how else "")
                    + f": undecodable byte(s) {bad} at byte offset {offset} "
                      f"(line {_line_of(data, offset, enc)})", source=source,
                    element=f"byte {offset}",
                    fix="save the file as UTF-8" + (" (or declare its real encoding in the XML "
                                                    "declaration)" if xml else "")) from None
    if "\0" in text:
        offset = text.index("\0")
        raise error(f"the {what} contains a NUL character (at character {offset}); it is binary "
                    "or in an encoding that was not recognised", source=source,
                    element=f"character {offset}", fix="save the file as UTF-8 text")
    if xml and declared is not None:
        text = re.sub(r"""(^\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""", r"\1\2UTF-8\2",
                      text, count=1)
    return text


def read_input_text(path: str | os.PathLike[str], what: str = "input file", *,
                    xml: bool = False, max_bytes_limit: str | None = None,
                    error: type[WorkbenchError] = InputFileError) -> str:
    """:func:`read_input_bytes` then :func:`decode_text`.

    ``max_bytes_limit`` names a tighter limit than ``file_bytes`` (e.g. ``yaml_bytes``).
    """
    data = read_input_bytes(path, what, error)
    if max_bytes_limit is not None and len(data) > limit(max_bytes_limit):
        raise error(f"the {what} is too large ({len(data):,} bytes; limit '{max_bytes_limit}' "
                    f"is {limit(max_bytes_limit):,})", source=str(path),
                    fix=limit_hint(max_bytes_limit))
    return decode_text(data, str(path), xml=xml, what=what, error=error)


def read_table(path: str | os.PathLike[str], what: str = "table", **read_csv: object):
    """A CSV table as a DataFrame: safe reading (:func:`read_input_text`: regular file,
    size, BOM, UTF-16, undecodable bytes with their offset), at most ``table_rows``
    data rows, and parse errors that name the file and line.

    ``read_csv`` keywords go to :func:`pandas.read_csv` (the text is parsed from memory).
    """
    import io

    import pandas as pd

    from workbench.core.limits import check_limit

    src = str(path)
    text = read_input_text(path, what)
    if not text.strip():
        raise InputFileError(f"the {what} is empty", source=src,
                             fix="give a CSV file with a header row")
    rows = text.count("\n")
    check_limit("table_rows", rows - 1, f"the {what} has {rows - 1:,} data rows; it",
                source=src, element="rows", error=InputFileError)
    try:
        return pd.read_csv(io.StringIO(text), **read_csv)
    except pd.errors.EmptyDataError:
        raise InputFileError(f"the {what} is empty", source=src,
                             fix="give a CSV file with a header row") from None
    except (pd.errors.ParserError, ValueError) as exc:
        msg = " ".join(str(exc).split())
        m = re.search(r"line (\d+)", msg)
        raise InputFileError(f"the {what} is not a readable CSV table: {msg}", source=src,
                             element=f"line {m.group(1)}" if m else None,
                             fix="check the delimiters and quotes on that line") from None


def load_yaml_text(text: str, source: str, what: str = "YAML file",
                   error: type[WorkbenchError] = InputFileError):
    """Parse YAML safely (``yaml.safe_load`` semantics) within the ``yaml_aliases`` and
    ``yaml_nodes`` limits.

    The document is composed first (anchors shared, nothing expanded) and its size
    after expanding every alias is counted on the node graph, so an alias bomb
    ('billion laughs': a few hundred bytes, 10^9 values) is refused in
    milliseconds instead of exhausting memory later. Recursive aliases are refused.
    """
    import yaml

    from workbench.core.limits import LIMITS

    max_aliases, max_nodes = limit("yaml_aliases"), limit("yaml_nodes")
    aliases = 0

    class _Loader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            nonlocal aliases
            if self.check_event(yaml.AliasEvent):
                aliases += 1
                if aliases > max_aliases:
                    ev = self.peek_event()
                    raise error(f"the {what} uses more than {max_aliases:,} aliases (*name, limit "
                                f"'yaml_aliases': {LIMITS['yaml_aliases'].counts})", source=source,
                                element=f"line {ev.start_mark.line + 1}",
                                fix="write the values out; " + limit_hint("yaml_aliases"))
            return super().compose_node(parent, index)

    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expanded(node, max_nodes, source, what, error)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        msg = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise error(f"the {what} is not valid YAML: {msg}" + (f" ({where})" if where else ""),
                    source=source, element=where,
                    fix="check the indentation and quoting on that line") from None
    except RecursionError:
        raise error(f"the {what} nests too deeply to read", source=source,
                    fix="flatten the structure") from None


def _check_expanded(root, cap: int, source: str, what: str, error) -> None:
    """Count the values of a composed YAML node graph with aliases expanded (iterative)."""
    import yaml

    size: dict[int, int] = {}
    state: dict[int, int] = {}  # 1: on the stack, 2: done
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            total = 1
            if isinstance(node, yaml.SequenceNode):
                total += sum(size[id(c)] for c in node.value)
            elif isinstance(node, yaml.MappingNode):
                total += sum(size[id(k)] + size[id(v)] for k, v in node.value)
            size[key] = total
            state[key] = 2
            if total > cap:
                raise error(f"the {what} expands to more than {cap:,} values once its aliases "
                            f"are expanded (limit 'yaml_nodes'; an 'alias bomb' looks like this)",
                            source=source, element=f"line {node.start_mark.line + 1}",
                            fix="write the values out without nested aliases; "
                                + limit_hint("yaml_nodes"))
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            raise error(f"the {what} has a recursive alias (a value that contains itself)",
                        source=source, element=f"line {node.start_mark.line + 1}",
                        fix="remove the recursive anchor")
        state[key] = 1
        stack.append((node, True))
        if isinstance(node, yaml.SequenceNode):
            kids = node.value
        elif isinstance(node, yaml.MappingNode):
            kids = [x for kv in node.value for x in kv]
        else:
            kids = []
        for c in kids:
            if state.get(id(c)) != 2:
                stack.append((c, False))
