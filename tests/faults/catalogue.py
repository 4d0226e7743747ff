"""The catalogue visitors see, as plain values, to compare before and after a run.

`catalogue_snapshot()` reads every PEF row (Program, ProgramSubcategory,
Activity, Class, Session, SessionTime, Location) with every concrete field,
timestamps included, so a failed run that rewrote a row with the same values
still shows (its `updated_at` moved).
"""

from activity_finder.models import (
    Activity,
    Class,
    Location,
    Program,
    ProgramSubcategory,
    Session,
    SessionTime,
)

PEF_MODELS = (
    Program,
    ProgramSubcategory,
    Activity,
    Class,
    Session,
    SessionTime,
    Location,
)


def _values(instance):
    return {
        model_field.attname: getattr(instance, model_field.attname)
        for model_field in instance._meta.concrete_fields
    }


def catalogue_snapshot():
    """{model name: {pk: {field: value}}} for every PEF row."""
    return {
        model.__name__: {
            row.pk: _values(row) for row in model.objects.order_by("pk")
        }
        for model in PEF_MODELS
    }


def diff(before, after, *, limit=20):
    """Human-readable differences between two snapshots (empty when equal)."""
    lines = []
    for model in before.keys() | after.keys():
        old, new = before.get(model, {}), after.get(model, {})
        for pk in sorted(old.keys() - new.keys()):
            lines.append(f"{model} {pk} removed")
        for pk in sorted(new.keys() - old.keys()):
            lines.append(f"{model} {pk} added")
        for pk in sorted(old.keys() & new.keys()):
            for name, value in old[pk].items():
                if new[pk].get(name) != value:
                    lines.append(
                        f"{model} {pk}.{name}: {value!r} -> {new[pk].get(name)!r}"
                    )
    lines.sort()
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines


def assert_unchanged(before):
    changes = diff(before, catalogue_snapshot())
    assert not changes, "The catalogue changed:\n" + "\n".join(changes)


def counts(snapshot):
    return {model: len(rows) for model, rows in snapshot.items()}
