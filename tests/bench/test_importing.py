import hashlib
import json

from bench.importing import change_one_percent, sample_folder


def _folder(path, sessions=250):
    path.mkdir()
    rows = [
        {
            "Id": f"cso{n}",
            "Course_Option": {"Id": f"co{n}", "Name": f"Option {n}", "Total_Capacity_Available": 5,
                              "Registration_Total": 3},
            "Course_Session": {"Id": f"cs{n}", "Course": {"Id": f"c{n % 10}"}},
        }
        for n in range(sessions)
    ]
    classes = [{"Id": f"c{n}", "Name": f"Course {n}"} for n in range(10)]
    (path / "sessions.json").write_text(json.dumps(rows))
    (path / "classes.json").write_text(json.dumps(classes))
    (path / "manifest.json").write_text(json.dumps({
        "format": 1,
        "files": {
            "sessions.json": {"records": sessions, "sha256": "old"},
            "classes.json": {"records": 10, "sha256": "old"},
        },
    }))
    return path


def test_it_changes_every_hundredth_session_and_keeps_the_checksum_true(tmp_path):
    folder = _folder(tmp_path / "f")

    changed = change_one_percent(folder)

    rows = json.loads((folder / "sessions.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert changed == 3
    changed_rows = [
        n for n, row in enumerate(rows) if row["Course_Option"]["Name"].endswith("(changed)")
    ]
    assert changed_rows == [0, 100, 200]
    assert rows[100]["Course_Option"]["Total_Capacity_Available"] == 4
    assert rows[100]["Course_Option"]["Registration_Total"] == 4
    assert rows[101]["Course_Option"]["Total_Capacity_Available"] == 5
    assert manifest["files"]["sessions.json"]["sha256"] == hashlib.sha256(
        (folder / "sessions.json").read_bytes()
    ).hexdigest()


def test_it_samples_sessions_with_only_their_classes(tmp_path):
    folder = _folder(tmp_path / "f")

    kept = sample_folder(folder, tmp_path / "sample", 20)

    sample = tmp_path / "sample"
    rows = json.loads((sample / "sessions.json").read_text())
    classes = json.loads((sample / "classes.json").read_text())
    manifest = json.loads((sample / "manifest.json").read_text())
    assert kept == 13
    assert [row["Id"] for row in rows][:3] == ["cso0", "cso20", "cso40"]
    assert [c["Id"] for c in classes] == ["c0"]
    assert manifest["files"]["sessions.json"]["records"] == 13
    assert manifest["files"]["classes.json"]["records"] == 1
    assert manifest["files"]["classes.json"]["sha256"] == hashlib.sha256(
        (sample / "classes.json").read_bytes()
    ).hexdigest()
    assert len(json.loads((folder / "sessions.json").read_text())) == 250
