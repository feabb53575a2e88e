"""c2k's tar writer writes the bytes tarfile writes (PAX format), header for header and archive
for archive."""

from __future__ import annotations

import io
import os
import tarfile
import threading

import pytest
from hypothesis import given, settings, strategies as st

from converter.images import buildcontext
from converter.images.buildcontext import IgnoreRules, write_context
from converter.errors import ImageError
from converter.images.tarwriter import ChangedWhileReading, TarWriter, _header

_KINDS = [tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE,
          tarfile.CHRTYPE, tarfile.BLKTYPE]
_NAMES = st.text(st.sampled_from("ab-_./Zé字 "), min_size=1, max_size=130).filter(
    lambda s: "\0" not in s)


def _tarfile_header(name, mode, size, mtime, kind, link, device):
    info = tarfile.TarInfo(name)
    info.mode, info.size, info.mtime, info.type, info.linkname = mode, size, mtime, kind, link
    if device:
        info.devmajor, info.devminor = device
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(name=_NAMES, link=st.one_of(st.just(""), _NAMES),
       mode=st.integers(0, 0o177777), kind=st.sampled_from(_KINDS),
       size=st.one_of(st.integers(0, 4096), st.integers(8 ** 11 - 2, 8 ** 11 + 2)),
       mtime=st.one_of(st.integers(0, 2 ** 31), st.integers(-10, 10), st.just(8 ** 11)),
       device=st.tuples(st.integers(0, 300), st.integers(0, 300)))
def test_every_header_is_tarfiles(name, link, mode, kind, size, mtime, device):
    if kind == tarfile.DIRTYPE:
        name = name.rstrip("/") + "/" if name.strip("/") else "d/"
    device = device if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE) else None
    assert _header(name, mode, size, mtime, kind, link, device) == \
        _tarfile_header(name, mode, size, mtime, kind, link, device)


def _tarfile_archive(root, out):
    """What c2k wrote with tarfile before it had its own writer: the reference."""
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel, full, _ in buildcontext._walk(root, IgnoreRules()):
            info = tar.gettarinfo(full, arcname=rel)
            if info is None:
                continue
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = int(info.mtime)
            if info.isreg():
                with open(full, "rb") as fh:
                    tar.addfile(info, fh)
            else:
                tar.addfile(info)


def _awkward_tree(root):
    (root / ("d" * 60) / ("x" * 60)).mkdir(parents=True)       # a path over 100 bytes
    (root / ("e" * 99)).mkdir()                                  # 100 bytes with its slash
    (root / ("g" * 100)).mkdir()                                 # 101: a PAX path record
    (root / "Dockerfile").write_text("FROM x\n")
    for size in (0, 1, 511, 512, 513, 10240, 3 * 1024 * 1024 + 7):
        (root / f"f{size}").write_bytes(os.urandom(size))
    (root / ("d" * 60) / ("x" * 60) / "deep.txt").write_text("deep")
    (root / "ünïcödé.txt").write_text("u")
    os.symlink("t" * 150, root / "long-link")
    os.symlink("ünï", root / "unicode-link")
    os.symlink("..", root / "up")
    os.link(root / "f1", root / "hard-f1")
    os.mkfifo(root / "fifo")
    os.chmod(root / "f1", 0o4755)
    os.utime(root / "f0", (-5, -5))                  # before 1970: a PAX mtime record
    os.utime(root / "f511", (9e9, 9e9))              # beyond 11 octal digits: PAX too
    os.utime(root / "f512", (1.7, 1.7))              # fractions of a second dropped
    return root


def test_a_context_archive_is_byte_for_byte_tarfiles(tmp_path):
    root = _awkward_tree(tmp_path / "ctx")
    archive = write_context(str(root), str(tmp_path / "c2k.tar"))
    _tarfile_archive(str(root), str(tmp_path / "tarfile.tar"))
    assert (tmp_path / "c2k.tar").read_bytes() == (tmp_path / "tarfile.tar").read_bytes()
    assert archive.files == 10                       # regular files with content: not the link
    assert archive.size == sum(os.path.getsize(root / f"f{n}")
                               for n in (0, 1, 511, 512, 513, 10240, 3 * 1024 * 1024 + 7)) + \
        len("FROM x\n") + len("deep") + len("u".encode())
    with tarfile.open(archive.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert members["hard-f1"].islnk() and members["hard-f1"].linkname == "f1"
        assert members["f512"].mtime == 1 and members["f0"].mtime == -5
        assert tar.extractfile(f"{'d' * 60}/{'x' * 60}/deep.txt").read() == b"deep"


def test_an_inline_dockerfile_is_tarfiles_too(tmp_path):
    (tmp_path / "ctx").mkdir()
    archive = write_context(str(tmp_path / "ctx"), str(tmp_path / "c.tar"),
                            dockerfile_inline="FROM inline\n")
    out = tmp_path / "ref.tar"
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(buildcontext.INLINE_DOCKERFILE)
        info.size, info.mode = len(b"FROM inline\n"), 0o644
        tar.addfile(info, io.BytesIO(b"FROM inline\n"))
    assert (tmp_path / "c.tar").read_bytes() == out.read_bytes()
    assert archive.files == 1


def test_a_file_that_shrinks_while_archived_is_an_error(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 2000)
    before = os.lstat(path)
    path.write_bytes(b"x" * 10)
    with open(tmp_path / "out.tar", "wb") as out, pytest.raises(ChangedWhileReading) as info:
        TarWriter(out).add("f", str(path), before)
    assert info.value.strerror == "it shrank while it was being archived"


def test_the_context_names_the_file_that_changed(tmp_path, monkeypatch):
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM x\n")
    (root / "log").write_bytes(b"x" * 2000)
    walk = buildcontext._walk

    def truncating_walk(*args):          # the file shrinks between the walk's lstat and the copy
        for rel, full, st_ in walk(*args):
            if rel == "log":
                (root / "log").write_bytes(b"")
            yield rel, full, st_

    monkeypatch.setattr(buildcontext, "_walk", truncating_walk)
    with pytest.raises(ImageError, match=r"cannot read .*/log: it shrank while it was being "
                                         r"archived") as info:
        write_context(str(root), str(tmp_path / "c.tar"))
    assert ".dockerignore" in str(info.value)


def test_a_file_swapped_for_a_fifo_is_an_error_not_a_hang(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    before = os.lstat(path)
    path.unlink()
    os.mkfifo(path)                       # no writer will ever come: a blocking open would hang
    outcome = []

    def archive():
        with open(tmp_path / "out.tar", "wb") as out:
            try:
                TarWriter(out).add("f", str(path), before)
            except ChangedWhileReading as exc:
                outcome.append(exc)

    worker = threading.Thread(target=archive, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and outcome
