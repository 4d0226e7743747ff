"""The benchmark's naive baseline must write the same rows as the real import."""

import pytest
from django.forms.models import model_to_dict

from activity_finder.models import (
    Activity,
    Class,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)
from tests.traction_rec_import.import_support import (
    make_sample_locations,
    sample_org_folder,
)
from traction_rec_import.importer import run_import
from traction_rec_import.naive import run_naive_import

pytestmark = pytest.mark.django_db

MODELS = (Program, ProgramSubcategory, Activity, Class, Session)
SKIP = {"id", "created_at", "updated_at"}
PARENTS = {"program": Program, "subcategory": ProgramSubcategory,
           "activity": Activity, "session_class": Class}  # fmt: skip


def rows():
    """Every row keyed by Salesforce Id, parents named by Salesforce Id."""
    sf_ids = {model: dict(model.objects.values_list("pk", "sf_id")) for model in MODELS}
    out = {}
    for model in MODELS:
        for row in model.objects.all():
            values = {k: v for k, v in model_to_dict(row).items() if k not in SKIP}
            for name, parent in PARENTS.items():
                if name in values:
                    values[name] = sf_ids[parent][values[name]]
            out[(model.__name__, row.sf_id)] = values
    for time in SessionTime.objects.select_related("session"):
        values = model_to_dict(time, exclude=["id", "session"])
        out[("SessionTime", time.session.sf_id)] = values
    return out


def clear():
    for model in (SessionTime, Session, Class, Activity, ProgramSubcategory, Program):
        model.objects.all().delete()


def test_it_writes_the_same_rows_as_the_real_import(sample_org_dir, tmp_path):
    make_sample_locations(sample_org_dir)
    folder = sample_org_folder(sample_org_dir, tmp_path / "fetch")

    run_import(directory=folder)
    real = rows()
    clear()
    result = run_naive_import(folder)
    naive = rows()

    assert len(real) == 6 + 12 + 50 + 50 + 378 + 378
    assert naive == real
    assert (result["sessions_total"], result["sessions_done"]) == (378, 378)
    assert result["session"]["created"] == 378


def test_it_finds_everything_unchanged_on_a_second_run(sample_org_dir, tmp_path):
    make_sample_locations(sample_org_dir)
    folder = sample_org_folder(sample_org_dir, tmp_path / "fetch")
    run_import(directory=folder)

    result = run_naive_import(folder)

    assert result["session"]["unchanged"] == 378
    assert result["class"]["unchanged"] == 50


def test_it_stops_at_the_time_limit(sample_org_dir, tmp_path):
    make_sample_locations(sample_org_dir)
    folder = sample_org_folder(sample_org_dir, tmp_path / "fetch")

    result = run_naive_import(folder, time_limit=0)

    assert (result["sessions_total"], result["sessions_done"]) == (378, 0)
    assert Session.objects.count() == 0
