"""Reports and JSON are written atomically: the old files or the new ones, never a mix."""

import os

import pytest

from sim.output import atomic_write_many, atomic_write_text


def test_a_set_of_files_is_replaced_whole(tmp_path):
    old = {tmp_path / "results.json": "old results", tmp_path / "report.html": "old report"}
    for path, text in old.items():
        path.write_text(text)
    new = {str(tmp_path / "results.json"): b"new results", str(tmp_path / "figures" / "a.svg"): b"<svg/>",
           str(tmp_path / "report.html"): None}  # the third cannot be written: nothing may change
    with pytest.raises(TypeError):
        atomic_write_many(new)
    assert sorted(os.listdir(tmp_path)) == ["figures", "report.html", "results.json"]
    assert os.listdir(tmp_path / "figures") == []  # no temporary file left behind
    assert [p.read_text() for p in old] == ["old results", "old report"]
    atomic_write_many({**new, str(tmp_path / "report.html"): b"new report"})
    assert [p.read_text() for p in old] == ["new results", "new report"]
    assert (tmp_path / "figures" / "a.svg").read_text() == "<svg/>"


def test_a_written_file_has_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    atomic_write_text(str(tmp_path / "x.json"), "{}")
    assert (tmp_path / "x.json").stat().st_mode & 0o777 == 0o666 & ~umask
