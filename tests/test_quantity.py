import pytest

from models.quantity import IntOrPercent, parse_cpu, parse_duration, parse_memory


@pytest.mark.parametrize("text, millicores", [("500m", 500), ("2", 2000), (2, 2000), ("0.1", 100), ("1.5", 1500), (0.25, 250), ("1k", 1_000_000)],
                         ids=["milli", "cores-text", "cores-int", "fraction", "fraction-1.5", "float", "kilo"])
def test_cpu(text, millicores):
    assert parse_cpu(text) == millicores


@pytest.mark.parametrize("text, n", [("512Mi", 512 * 2**20), ("32Gi", 32 * 2**30), ("1G", 10**9), ("1e3", 1000), ("128974848", 128974848), ("1.5Gi", 3 * 2**29)],
                         ids=["Mi", "Gi", "G", "exponent", "bytes", "fractional-Gi"])
def test_memory(text, n):
    assert parse_memory(text) == n


@pytest.mark.parametrize("text, message", [
    ("512Mx", "memory '512Mx' has an unknown suffix 'Mx' (valid suffixes: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)"),
    ("lots", "memory 'lots' is not a quantity"),
    (-1, "memory must be a non-negative quantity, not -1"),
    (True, "memory must be a quantity"),
], ids=["bad-suffix", "word", "negative", "bool"])
def test_memory_errors(text, message):
    with pytest.raises(ValueError) as err:
        parse_memory(text)
    assert message in str(err.value)


@pytest.mark.parametrize("text, seconds", [(90, 90.0), ("90s", 90.0), ("15m", 900.0), ("1.5h", 5400.0), ("2d", 172800.0), ("250ms", 0.25)],
                         ids=["int", "s", "m", "h", "d", "ms"])
def test_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_duration_errors():
    with pytest.raises(ValueError, match="'soon' is not a duration"):
        parse_duration("soon")
    with pytest.raises(ValueError, match="zero or more seconds"):
        parse_duration(-5)


@pytest.mark.parametrize("raw, total, up, down", [
    (1, 10, 1, 1), ("25%", 10, 3, 2), ("10%", 5, 1, 0), ("100%", 3, 3, 3), ("0%", 7, 0, 0),
], ids=["int", "25pct-of-10", "10pct-of-5", "all", "zero-pct"])
def test_int_or_percent_scaling(raw, total, up, down):
    v = IntOrPercent.parse(raw)
    assert v.scaled(total, round_up=True) == up
    assert v.scaled(total, round_up=False) == down


def test_int_or_percent_errors():
    with pytest.raises(ValueError, match="'25 %' is not a count or a percentage"):
        IntOrPercent.parse("25 %")
    with pytest.raises(ValueError, match="-1 is negative"):
        IntOrPercent.parse(-1)
    # a string must be a percentage (apimachinery IsValidPercent): the API rejects '25'
    with pytest.raises(ValueError, match=r"^'25' is text, and text must be a percentage: write the count 25 as a "
                                         r"number \(unquoted\) or the percentage as '25%'$"):
        IntOrPercent.parse("25")
