"""The ModelPack mapping of a bundle, and the refusal of manifests that are not ours to pull."""

from __future__ import annotations

import json

import pytest

from modelgate.core.store import modelpack
from modelgate.core.store.errors import ArtifactRefused, StoreError
from modelgate.core.store.reference import parse_reference, tag_for, version_of
from tests.factory import clean_manifest

DIGEST = "sha256:" + "a" * 64


def test_roles_follow_what_each_file_is():
    weights = frozenset({"model/model.onnx"})
    role = lambda path: modelpack.layer_media_type(path=path, weights=weights)  # noqa: E731
    assert role("model/model.onnx") == (modelpack.WEIGHT, False)
    assert role("model/model.onnx.data") == (modelpack.WEIGHT, True)
    assert role("model/tokenizer.json") == (modelpack.WEIGHT_CONFIG, True)
    for doc in ("bundle.yaml", "MODEL_CARD.md", "LICENSE", "licenses/MIT.txt", "benchmarks/results.json"):
        assert role(doc) == (modelpack.DOC, False)
    assert role("samples/input_0.pb") == (modelpack.DATASET, False)
    assert role("tools/preprocess.py") == (modelpack.CODE, True)


def test_the_config_is_filled_from_bundle_yaml_and_passes_the_spec_schema():
    from jsonschema_rs import Draft202012Validator

    from modelgate.core import resources

    manifest = clean_manifest()
    manifest["artifacts"][0]["variant"] = "fp16"
    manifest.setdefault("provenance", {})["created_at"] = "2026-01-02"
    config = modelpack.model_config(manifest=manifest, diff_ids=[DIGEST])
    assert config["descriptor"]["name"] == manifest["name"] and config["descriptor"]["version"] == manifest["version"]
    assert config["descriptor"]["licenses"] == [manifest["license"]]
    assert config["descriptor"]["createdAt"] == "2026-01-02T00:00:00Z"
    assert config["config"]["format"] == "onnx" and config["config"]["precision"] == "float16"
    assert config["modelfs"] == {"type": "layers", "diffIds": [DIGEST]}
    validator = Draft202012Validator(resources.json_schema("modelpack-config.schema.json"))
    assert validator.is_valid(config)


def test_a_quantised_variant_is_a_quantisation_not_a_precision():
    manifest = clean_manifest()
    manifest["artifacts"][0]["variant"] = "q4_k_m"
    config = modelpack.model_config(manifest=manifest, diff_ids=[DIGEST])["config"]
    assert config["quantization"] == "q4_k_m" and "precision" not in config


@pytest.mark.parametrize("count, written", [(8_030_000_000, "8B"), (6_740_000_000, "6.7B"), (1_000_000_000_000, "1T"),
                                            (124_439_808, "124.4M"), (999_960, "1M"), (1872, "1.9K"), (60, "0.1K"),
                                            (40, None)])
def test_parameter_counts_are_written_as_the_spec_asks(count, written):
    assert modelpack.param_size(count) == written
    if written:
        assert modelpack._PARAM_SIZE.match(written)


def test_measured_fields_pass_the_schema_and_must_agree_when_the_reader_measured_them():
    from jsonschema_rs import Draft202012Validator

    from modelgate.core import resources

    manifest = clean_manifest()
    layers = modelpack.model_layers(descriptors=_layers(), max_bytes=10)
    measured = {"paramSize": "1.9K", "architecture": "llama"}
    config = modelpack.model_config(manifest=manifest, diff_ids=[DIGEST], measured=measured)
    assert config["config"]["paramSize"] == "1.9K" and config["config"]["architecture"] == "llama"
    assert Draft202012Validator(resources.json_schema("modelpack-config.schema.json")).is_valid(config)
    modelpack.check_config(config=config, layers=layers, manifest=manifest, measured=measured)
    modelpack.check_config(config=config, layers=layers, manifest=manifest)  # not measured: form only
    with pytest.raises(ArtifactRefused, match="paramSize.*model files"):
        modelpack.check_config(config=config, layers=layers, manifest=manifest,
                               measured={"paramSize": "7B", "architecture": "llama"})
    config["config"]["paramSize"] = "lots"
    with pytest.raises(ArtifactRefused, match="paramSize"):
        modelpack.check_config(config=config, layers=layers, manifest=manifest)


def _manifest(**change) -> bytes:
    document = {"schemaVersion": 2, "mediaType": modelpack.MANIFEST_MEDIA_TYPE,
                "artifactType": modelpack.ARTIFACT_TYPE,
                "config": {"mediaType": modelpack.CONFIG_MEDIA_TYPE, "digest": DIGEST, "size": 10},
                "layers": [{"mediaType": modelpack.DOC, "digest": DIGEST, "size": 3,
                            "annotations": {modelpack.FILEPATH: "bundle.yaml"}}]}
    document.update(change)
    return json.dumps(document).encode()


def _layers(*paths, media_type=modelpack.DOC):
    return [{"mediaType": media_type, "digest": DIGEST, "size": 1,
             "annotations": {modelpack.FILEPATH: p}} for p in ("bundle.yaml",) + paths]


def test_our_own_manifest_shape_is_accepted():
    _, descriptors = modelpack.parse_manifest(data=_manifest(), max_layers=10)
    layers = modelpack.model_layers(descriptors=descriptors, max_bytes=100)
    assert [layer.path for layer in layers] == ["bundle.yaml"]


@pytest.mark.parametrize("change, words", [
    ({"artifactType": "application/vnd.oci.image.config.v1+json"}, "artifact type"),
    ({"mediaType": "application/vnd.docker.distribution.manifest.v2+json"}, "media type"),
    ({"config": {"mediaType": "application/json", "digest": DIGEST, "size": 1}}, "config's media type"),
    ({"config": {"mediaType": modelpack.CONFIG_MEDIA_TYPE, "digest": "md5:00", "size": 1}}, "sha256"),
    ({"layers": []}, "no layers"),
    ({"schemaVersion": 1}, "schemaVersion"),
])
def test_manifests_that_are_not_model_artifacts_are_refused(change, words):
    with pytest.raises(ArtifactRefused, match=words):
        modelpack.parse_manifest(data=_manifest(**change), max_layers=10)


def test_a_manifest_with_too_many_layers_is_refused():
    with pytest.raises(ArtifactRefused, match="more than"):
        modelpack.parse_manifest(data=_manifest(layers=_layers(*[f"f{i}" for i in range(5)])), max_layers=3)


@pytest.mark.parametrize("path", ["../escape", "/etc/passwd", "model/../../x", "a//b", "./a", "C:/x",
                                  "a\\..\\b", "", "model/./x"])
def test_paths_that_leave_the_bundle_are_refused(path):
    with pytest.raises(ArtifactRefused):
        modelpack.model_layers(descriptors=_layers(path), max_bytes=100)


@pytest.mark.parametrize("paths, words", [
    (("LICENSE", "LICENSE"), "repeats"),
    (("license", "LICENSE"), "repeats"),
    (("model", "model/x.onnx"), "file"),
    (("signatures/sig.json",), "signatures"),
])
def test_duplicate_clashing_or_signature_paths_are_refused(paths, words):
    with pytest.raises(ArtifactRefused, match=words):
        modelpack.model_layers(descriptors=_layers(*paths), max_bytes=100)


def test_a_layer_without_a_path_annotation_or_of_another_kind_is_refused():
    bare = _layers()
    bare.append({"mediaType": modelpack.WEIGHT, "digest": DIGEST, "size": 1})
    with pytest.raises(ArtifactRefused, match="filepath"):
        modelpack.model_layers(descriptors=bare, max_bytes=100)
    with pytest.raises(ArtifactRefused, match="tar"):
        modelpack.model_layers(descriptors=_layers("x", media_type="application/vnd.cncf.model.weight.v1.tar"),
                               max_bytes=100)


def test_layers_larger_in_total_than_allowed_are_refused():
    with pytest.raises(ArtifactRefused, match="add up"):
        modelpack.model_layers(descriptors=_layers("a", "b", "c"), max_bytes=2)


def test_a_config_that_disagrees_with_bundle_yaml_is_refused():
    manifest = clean_manifest()
    layers = modelpack.model_layers(descriptors=_layers(), max_bytes=10)
    config = modelpack.model_config(manifest=manifest, diff_ids=[DIGEST])
    modelpack.check_config(config=config, layers=layers, manifest=manifest)
    config["descriptor"]["version"] = "9.9.9"
    with pytest.raises(ArtifactRefused, match="version"):
        modelpack.check_config(config=config, layers=layers, manifest=manifest)
    config = modelpack.model_config(manifest=manifest, diff_ids=["sha256:" + "b" * 64])
    with pytest.raises(ArtifactRefused, match="diffIds"):
        modelpack.check_config(config=config, layers=layers, manifest=manifest)


def test_versions_become_tags_and_back():
    assert tag_for("1.0.0+build.5") == "1.0.0_build.5"
    assert version_of("1.0.0_build.5") == "1.0.0+build.5"
    assert tag_for("2.0.0-rc.1") == "2.0.0-rc.1"


@pytest.mark.parametrize("text", ["http://host/repo", "oci://host", "oci:///repo", "oci://host/Repo",
                                  "oci://host:99999/repo", "oci://host/repo@sha256:zz", "oci://host/repo:bad+tag"])
def test_bad_references_are_usage_errors(text):
    with pytest.raises(StoreError):
        parse_reference(text=text, need_target=False)


def test_a_pull_reference_needs_a_tag_or_digest():
    reference = parse_reference(text="oci://127.0.0.1:5000/models/tiny:1.0.0", need_target=True)
    assert (reference.host, reference.repository, reference.tag, reference.loopback) == (
        "127.0.0.1:5000", "models/tiny", "1.0.0", True)
    with pytest.raises(StoreError, match="no tag"):
        parse_reference(text="oci://127.0.0.1:5000/models/tiny", need_target=True)


@pytest.mark.parametrize("content", [b"not json", b"[]", b'{"payload": 1, "signatures": []}',
                                     b'{"payload": "e30=", "signatures": "none"}'])
def test_an_attached_attestation_that_is_no_dsse_envelope_is_refused(content):
    from modelgate.core.store.oci import _envelope_line

    with pytest.raises(ArtifactRefused, match="attestation sha256:ab"):
        _envelope_line(content, "sha256:ab")


def test_an_attached_envelope_becomes_one_canonical_line():
    from modelgate.core.store.oci import _envelope_line

    line = _envelope_line(b'{\n "signatures": [{"sig": "c2ln", "keyid": ""}],\n "payloadType": "t", "payload": "e30="}',
                          "sha256:ab")
    assert b"\n" not in line and line.startswith(b'{"payload":"e30=","payloadType":"t"')
