"""Reading COMBINE archives (.omex) safely: which model, and only within limits.

A COMBINE archive is a zip file with a ``manifest.xml`` that lists its entries and
marks the master file (Bergmann et al. 2014, BMC Bioinformatics 15:369). Reading
one must neither run the wrong model nor exhaust the machine:

* **Which model.** More than one entry marked ``master="true"`` is an error naming
  them; a master listed in the manifest but absent from the archive is an error
  naming it (silently running another model would give a dossier the wrong
  numbers). A SED-ML master points to its model through its first ``<model
  source=...>``. Without a master, exactly one SBML entry is used; several are an
  error naming them.
* **Within limits.** The entry count is capped (``archive_entries``), the declared
  inflated size of the whole archive is capped (``archive_bytes``) and so is the
  inflated size of each entry read (``file_bytes``, the same limit as for plain
  files), checked on the declared sizes before anything is inflated and again while
  inflating (a lying header cannot get past the cap).
* **Intact.** Encrypted entries, compression methods other than stored/deflate/
  bzip2/lzma, bad CRCs, absolute paths and ``..`` (zip slip) are refused with the
  entry named.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path, PurePosixPath

from workbench.core.limits import limit, limit_hint
from workbench.errors import InputFileError

__all__ = ["read_omex_model"]

_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate",
            zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
_CHUNK = 1 << 20


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, src: str) -> bytes:
    """Inflate one entry, refusing encryption, unknown methods, bad CRCs and oversize."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise InputFileError(f"archive entry {name!r} is encrypted; the workbench does not read "
                             "encrypted archives", source=src, element=name,
                             fix="rebuild the archive without a password")
    if info.compress_type not in _METHODS:
        raise InputFileError(f"archive entry {name!r} uses compression method "
                             f"{info.compress_type}, which is not one of "
                             + ", ".join(_METHODS.values()), source=src, element=name,
                             fix="rebuild the archive with deflate compression (any zip tool)")
    cap = limit("file_bytes")
    if info.file_size > cap:
        raise InputFileError(f"archive entry {name!r} inflates to {info.file_size:,} bytes, more "
                             f"than the limit 'file_bytes' ({cap:,}); it was not inflated",
                             source=src, element=name, fix=limit_hint("file_bytes"))
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                out += chunk
                if len(out) > cap:
                    raise InputFileError(f"archive entry {name!r} inflates to more than the "
                                         f"limit 'file_bytes' ({cap:,} bytes)", source=src,
                                         element=name, fix=limit_hint("file_bytes"))
    except zipfile.BadZipFile as exc:
        what = "its checksum (CRC-32) does not match" if "CRC" in str(exc) else str(exc)
        raise InputFileError(f"archive entry {name!r} is corrupt: {what}", source=src,
                             element=name, fix="download or build the archive again") from None
    except (NotImplementedError, RuntimeError, EOFError, OSError, ValueError) as exc:
        # RuntimeError: encrypted; NotImplementedError: method; others: truncated or broken data
        raise InputFileError(f"archive entry {name!r} cannot be read ({type(exc).__name__}: "
                             f"{exc})", source=src, element=name,
                             fix="download or build the archive again") from None
    return bytes(out)


def _location(loc: str) -> str:
    loc = loc.strip()
    while loc.startswith("./"):
        loc = loc[2:]
    return loc.lstrip("/")


def _sedml_model_source(raw: bytes, src: str, entry: str) -> str | None:
    from workbench.core.model_gate import scan_xml

    scan_xml(raw, f"{src}!{entry}")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError:
        return None
    for el in root.iter():
        if el.tag.rsplit("}", 1)[-1] == "model" and el.get("source"):
            return el.get("source")
    return None


def read_omex_model(path: str | Path) -> tuple[str, bytes]:
    """(entry name, bytes) of the SBML model a COMBINE archive designates.

    Raises
    ------
    InputFileError
        Not a zip file; too many entries; an entry too large, encrypted, corrupt or
        with an unsafe path; a missing or ambiguous master; no SBML model.
    """
    from workbench.core.model_gate import scan_xml

    src = str(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InputFileError("not a COMBINE archive (not a zip file)", source=src,
                             fix="give a .omex file written by a COMBINE tool") from None
    with zf:
        infos = zf.infolist()
        cap = limit("archive_entries")
        if len(infos) > cap:
            raise InputFileError(f"the archive has {len(infos):,} entries, more than the limit "
                                 f"'archive_entries' ({cap:,}); it was not read", source=src,
                                 fix=limit_hint("archive_entries"))
        total = sum(i.file_size for i in infos)
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            n = info.filename
            p = PurePosixPath(n.replace("\\", "/"))
            if p.is_absolute() or ".." in p.parts or re.match(r"^[A-Za-z]:", n):
                raise InputFileError(f"archive entry {n!r} has an absolute path or '..' "
                                     "(zip slip); refusing the archive", source=src, element=n,
                                     fix="rebuild the archive with relative entry paths")
            by_name[_location(n)] = info
        if total > limit("archive_bytes"):
            big = max(infos, key=lambda i: i.file_size)
            raise InputFileError(f"the archive inflates to {total:,} bytes (declared), more than "
                                 f"the limit 'archive_bytes' ({limit('archive_bytes'):,}); the "
                                 f"largest entry is {big.filename!r} ({big.file_size:,} bytes); "
                                 "nothing was inflated", source=src, element=big.filename,
                                 fix=limit_hint("archive_bytes"))
        entries: list[tuple[str, str, bool]] = []
        if "manifest.xml" in by_name:
            raw = _read_entry(zf, by_name["manifest.xml"], src)
            scan_xml(raw, f"{src}!manifest.xml")
            try:
                root = ET.fromstring(raw)
            except ET.ParseError as exc:
                raise InputFileError(f"manifest.xml is not valid XML ({exc})", source=src,
                                     element="manifest.xml") from None
            for el in root.iter():
                if el.tag.rsplit("}", 1)[-1] == "content" and el.get("location"):
                    loc = _location(el.get("location", ""))
                    if loc in ("", "."):
                        continue
                    entries.append((loc, el.get("format", ""),
                                    el.get("master", "false").strip().lower() == "true"))
        masters = [e for e in entries if e[2]]
        if len(masters) > 1:
            raise InputFileError("the manifest marks more than one master file: "
                                 + ", ".join(repr(e[0]) for e in masters)
                                 + "; which model to run is ambiguous", source=src,
                                 element="manifest.xml",
                                 fix="mark exactly one entry master=\"true\" in manifest.xml")
        if masters:
            loc, fmt, _ = masters[0]
            if loc not in by_name:
                raise InputFileError(f"the master file {loc!r} named in manifest.xml is not in "
                                     "the archive (entries: "
                                     + ", ".join(repr(n) for n in sorted(by_name)[:10]) + ")",
                                     source=src, element=loc,
                                     fix="add the master file to the archive, or mark the file "
                                         "to run as master in manifest.xml")
            if "sbml" in fmt.lower():
                return loc, _read_entry(zf, by_name[loc], src)
            if "sed-ml" in fmt.lower() or "sedml" in fmt.lower() or loc.lower().endswith(".sedml"):
                ref = _sedml_model_source(_read_entry(zf, by_name[loc], src), src, loc)
                if ref is not None and not re.match(r"^[A-Za-z][\w+.-]*:", ref):
                    target = _location(str(PurePosixPath(loc).parent / ref)
                                       if "/" in loc else ref)
                    if target not in by_name:
                        raise InputFileError(f"the master SED-ML {loc!r} runs the model "
                                             f"{ref!r}, which is not in the archive", source=src,
                                             element=loc, fix="add the model to the archive")
                    return target, _read_entry(zf, by_name[target], src)
        sbml = [e[0] for e in entries if "sbml" in e[1].lower() and e[0] in by_name]
        listed_missing = [e[0] for e in entries if "sbml" in e[1].lower() and e[0] not in by_name]
        if not sbml and listed_missing:
            raise InputFileError("the SBML file(s) listed in manifest.xml are not in the "
                                 "archive: " + ", ".join(repr(n) for n in listed_missing),
                                 source=src, element=listed_missing[0],
                                 fix="add the model to the archive")
        if not entries:
            sbml = [n for n in by_name if n.lower().endswith((".xml", ".sbml"))
                    and n not in ("manifest.xml", "metadata.rdf")]
        if len(sbml) > 1:
            raise InputFileError("the archive holds several SBML models and no master: "
                                 + ", ".join(repr(n) for n in sbml[:10])
                                 + "; which one to run is ambiguous", source=src,
                                 element="manifest.xml",
                                 fix="mark the model to run master=\"true\" in manifest.xml")
        if not sbml:
            raise InputFileError("the archive holds no SBML model", source=src,
                                 fix="add the model and list it in manifest.xml with an SBML "
                                     "format")
        return sbml[0], _read_entry(zf, by_name[sbml[0]], src)
