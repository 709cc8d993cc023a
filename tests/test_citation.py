"""CITATION.cff: valid Citation File Format 1.2.0, and the edition of pyproject.toml.

The schema in tests/data is the Citation File Format's own JSON schema, version 1.2.0
(its "$id" says where it is published; CC BY 4.0), kept here so the test runs offline.
"""

from __future__ import annotations

import json
import re
import tomllib

import jsonschema
import yaml

from tests.conftest import ROOT


def citation() -> dict:
    # CFF is YAML 1.2; dates and versions are quoted or plain strings here
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_file_is_valid_cff_1_2_0():
    schema = json.loads((ROOT / "tests/data/cff-schema-1.2.0.json").read_text())
    data = citation()
    assert data["cff-version"] == "1.2.0"
    jsonschema.validate(data, schema, cls=jsonschema.Draft7Validator,
                        format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def test_invalid_citation_is_rejected():
    """The schema check can fail: a citation without authors is not CFF."""
    schema = json.loads((ROOT / "tests/data/cff-schema-1.2.0.json").read_text())
    data = citation()
    del data["authors"]
    try:
        jsonschema.validate(data, schema, cls=jsonschema.Draft7Validator)
    except jsonschema.ValidationError as error:
        assert "authors" in error.message
    else:
        raise AssertionError("a citation without authors passed the schema")


def test_citation_version_is_the_package_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    data = citation()
    assert str(data["version"]) == project["version"]
    assert str(data["preferred-citation"]["version"]) == project["version"]
    assert str(data["preferred-citation"]["edition"]) == project["version"]


def test_readme_cites_the_current_edition():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## How to cite"):]
    section = section[: section.index("\n## ", 1)]
    editions = re.findall(r"edition\s+(\d+\.\d+\.\d+)", section)
    assert editions and set(editions) == {project["version"]}
