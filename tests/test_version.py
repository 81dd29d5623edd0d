import pytest

from models.version import KubeVersion, parse_version


@pytest.mark.parametrize(
    "text, major, minor, patch, pre, build",
    [
        ("v1.29.3", 1, 29, 3, None, None),
        ("1.29", 1, 29, None, None, None),
        ("1.30.0-rc.1", 1, 30, 0, "rc.1", None),
        ("1.3.0+build", 1, 3, 0, None, "build"),
        ("v1.31.0-alpha.2+abc.7", 1, 31, 0, "alpha.2", "abc.7"),
        ("  1.14.10 ", 1, 14, 10, None, None),
    ],
    ids=["v-prefix", "minor-only", "pre-release", "build-metadata", "pre-and-build", "whitespace"],
)
def test_parse(text, major, minor, patch, pre, build):
    v = parse_version(text)
    assert (v.major, v.minor, v.patch, v.pre, v.build) == (major, minor, patch, pre, build)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1", "not a Kubernetes version: '1'"),
        ("latest", "not a Kubernetes version: 'latest'"),
        ("1.29.x", "not a Kubernetes version: '1.29.x'"),
        ("1.029", "not a Kubernetes version: '1.029'"),
        ("1.29-rc.1", "a pre-release needs a patch"),
        ("", "not a Kubernetes version: ''"),
        (1.29, "not a Kubernetes version: 1.29"),
    ],
    ids=["major-only", "word", "x-patch", "leading-zero", "pre-without-patch", "empty", "float"],
)
def test_parse_rejects_garbage_naming_it(text, message):
    with pytest.raises(ValueError) as err:
        parse_version(text)
    assert message in str(err.value)


@pytest.mark.parametrize(
    "lower, higher",
    [
        ("1.29.3", "1.29.4"),
        ("1.29.9", "1.30.0"),
        ("1.30.0-rc.1", "1.30.0"),
        ("1.30.0-alpha.1", "1.30.0-beta.0"),
        ("1.30.0-rc.2", "1.30.0-rc.10"),
        ("1.30.0-1", "1.30.0-alpha"),
        ("1.9.0", "1.10.0"),
    ],
    ids=["patch", "minor", "pre-before-release", "alpha-before-beta", "numeric-pre", "numeric-before-alpha", "minor-9-10"],
)
def test_order(lower, higher):
    assert parse_version(lower) < parse_version(higher)
    assert parse_version(higher) > parse_version(lower)


def test_minor_only_equals_dot_zero_and_build_is_ignored():
    assert parse_version("1.29") == parse_version("1.29.0")
    assert hash(parse_version("1.29")) == hash(parse_version("v1.29.0"))
    assert parse_version("1.29.1+a") == parse_version("1.29.1+b")
    assert str(parse_version("v1.29")) == "1.29"
    assert str(parse_version("v1.30.0-rc.1+x")) == "1.30.0-rc.1+x"


def test_minor_arithmetic():
    v = parse_version("1.24.7")
    assert v.add_minors(2) == KubeVersion(1, 26)
    assert str(v.add_minors(-1)) == "1.23"
    assert v.minors_to(parse_version("1.29.0")) == 5
    assert parse_version("1.29").minors_to(v) == -5
    assert v.minor_release == parse_version("1.24")
    assert v.same_minor(parse_version("1.24.0"))
    with pytest.raises(ValueError, match="different major versions"):
        v.minors_to(parse_version("2.0"))
