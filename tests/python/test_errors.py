"""Bad input raises exceptions that carry the status name and the library's
message (file, line, problem); nothing crashes."""
from __future__ import annotations

import pytest

import libprime
from libprime import Outcomes, TagStore

BAD_TAGS = [
    ("missing_column.csv", libprime.ParseError, "missing_column.csv:1:"),
    ("duplicate_image.csv", libprime.DuplicateError, "duplicate_image.csv:4:"),
    ("unterminated_quote.csv", libprime.ParseError, "unterminated_quote.csv:3:"),
    ("invalid_utf8.csv", libprime.ParseError, "invalid_utf8.csv:2:"),
    ("empty.csv", libprime.ParseError, "empty.csv"),
    ("wrong_field_count.csv", libprime.ParseError, "wrong_field_count.csv:3:"),
    ("not_a_store.prime", libprime.FormatError, "not_a_store.prime"),
]


@pytest.mark.parametrize("name,exc,text", BAD_TAGS)
def test_bad_tags(cli_dir, name, exc, text):
    with pytest.raises(libprime.PrimeError) as e:
        TagStore.load(cli_dir / "bad" / name)
    err = e.value
    # exactly the class of the library's status (ParseError for PRIME_E_PARSE,
    # DuplicateError for PRIME_E_DUPLICATE, FormatError for PRIME_E_FORMAT)
    assert type(err) is exc, "%s raised %s (%s)" % (name, type(err).__name__, err.status_name)
    assert libprime.PrimeError in type(err).__mro__
    assert text in err.detail
    assert err.status_name.startswith("PRIME_E_") and err.status < 0
    assert err.status_name in str(err) and err.detail in str(err)
    assert libprime.last_error() == err.detail


@pytest.mark.parametrize("name,text", [
    ("outcomes_missing.csv", 'image "a7" of the tag store has no outcome'),
    ("outcomes_range.csv", "outcomes_range.csv:3:"),
    ("outcomes_duplicate.csv", "outcomes_duplicate.csv:4:"),
])
def test_bad_outcomes(cli_dir, small, name, text):
    store, _ = small
    with pytest.raises(libprime.PrimeError) as e:
        Outcomes.load(cli_dir / "bad" / name, store)
    assert text in e.value.detail


def test_missing_file(tmp_path):
    with pytest.raises(libprime.PrimeIOError) as e:
        TagStore.load(tmp_path / "nonexistent.csv")
    assert "nonexistent.csv" in e.value.detail and e.value.status_name == "PRIME_E_IO"
    assert isinstance(e.value, OSError)


def test_wrong_count_outcomes(small):
    store, _ = small
    with Outcomes([1.0] * 3) as o:
        with pytest.raises(libprime.MismatchError) as e:
            libprime.search(store, o)
        assert e.value.status_name == "PRIME_E_MISMATCH"
    with Outcomes.unset(len(store)) as o:
        with pytest.raises(libprime.MismatchError):
            libprime.search(store, o)


def test_wrong_handle_types(small):
    store, outcomes = small
    with pytest.raises(TypeError):
        libprime.search(outcomes, store)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.add_image("x", 3, [])  # type: ignore[arg-type]


def test_closed_handles(cli_dir):
    s = TagStore.load(cli_dir / "tags.csv")
    s.close()
    for f in (len, repr, lambda x: x.find_tag("dark"), lambda x: x.tags):
        try:
            f(s)
        except ValueError as e:
            assert "closed" in str(e)
    with pytest.raises(ValueError):
        len(s)


def test_garbage_bytes_do_not_crash():
    import random
    rnd = random.Random(5)
    for _ in range(200):
        data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
        for prefix in (b"", b"image,class,tags\n", b'{"image": '):
            try:
                s, o = TagStore.from_bytes(prefix + data, name="fuzz")
                s.close()
                if o is not None:
                    o.close()
            except libprime.PrimeError as e:
                assert e.detail
