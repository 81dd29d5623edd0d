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
        ("1.29-rc.1", "a pre-release or vendor suffix needs a patch"),
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
        ("1.30.0-alpha", "1.30.0-1"),
        ("1.9.0", "1.10.0"),
    ],
    ids=["patch", "minor", "pre-before-release", "alpha-before-beta", "numeric-pre", "a-numeric-suffix-is-a-build", "minor-9-10"],
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


@pytest.mark.parametrize(
    "text, release, vendor, shown",
    [
        ("v1.30.2-eks-036c24b", "1.30.2", "eks-036c24b", "1.30.2-eks-036c24b"),
        ("v1.29.4-gke.1043000", "1.29.4", "gke.1043000", "1.29.4-gke.1043000"),
        ("v1.28.3-aliyun.1", "1.28.3", "aliyun.1", "1.28.3-aliyun.1"),
        ("v1.30.2+k3s1", "1.30.2", None, "1.30.2+k3s1"),
        ("3.5.12-0", "3.5.12", "0", "3.5.12-0"),
    ],
    ids=["eks", "gke", "ack", "k3s-build", "etcd-image-revision"],
)
def test_vendor_builds_are_the_release_they_build(text, release, vendor, shown):
    # what `kubectl get nodes` shows on EKS, GKE, ACK and k3s: release builds, not pre-releases
    v = parse_version(text)
    assert (v.pre, v.vendor, str(v), str(v.release)) == (None, vendor, shown, release)
    assert v == parse_version(release) and hash(v) == hash(parse_version(release))
    assert v > parse_version(f"{release}-rc.1") and not v < parse_version(release)


@pytest.mark.parametrize("text", ["1.31.0-alpha.1", "1.31.0-beta.0", "1.31.0-rc.2", "1.31.0-alpha.3.42+0123abcd"],
                         ids=["alpha", "beta", "rc", "alpha-with-build"])
def test_only_alpha_beta_and_rc_are_pre_releases(text):
    v = parse_version(text)
    assert v.vendor is None and v.pre == text.split("-", 1)[1].split("+")[0]
    assert v < parse_version("1.31.0")


def test_a_vendor_suffix_needs_a_patch():
    with pytest.raises(ValueError, match="a pre-release or vendor suffix needs a patch"):
        parse_version("1.30-eks-1")


def test_a_version_pickled_to_a_process_with_another_hash_seed_still_finds_its_equal():
    # a version keeps its hash; a pre-release's words hash by the process's seed, so the hash is worked
    # out again where it is unpickled (a sweep's workers, a Dask cluster's machines)
    import os
    import pickle
    import subprocess
    import sys

    sent = pickle.dumps({KubeVersion.parse("1.30.0-rc.1"): "found"})
    assert b"_h" not in sent
    code = ("import pickle, sys; from models.version import KubeVersion; "
            "print(pickle.loads(sys.stdin.buffer.read())[KubeVersion.parse('1.30.0-rc.1')])")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-c", code], input=sent, capture_output=True, env=env, check=True)
    assert out.stdout == b"found\n"
    again = pickle.loads(pickle.dumps(KubeVersion.parse("1.30.0-rc.1")))
    assert hash(again) == hash(KubeVersion.parse("1.30.0-rc.1")) and str(again) == "1.30.0-rc.1"
