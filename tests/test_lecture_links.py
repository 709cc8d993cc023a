"""Every chapter says which part of the MIT 6.S191 lecture it follows, in one line
near its top that links to the course's site (a link only: no page loads anything
from there)."""

import re

import pytest
import yaml

from tests.conftest import ROOT

COURSE = "https://introtodeeplearning.com"


def lecture_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]
            if re.match(r"book/lecture\d/", c["file"])]


def test_there_are_chapters():
    assert len(lecture_chapters()) >= 18


@pytest.mark.parametrize("docname", lecture_chapters())
def test_chapter_names_its_lecture_and_links_the_course(docname):
    text = (ROOT / f"{docname}.md").read_text(encoding="utf-8")
    lecture = re.match(r"book/lecture(\d)/", docname).group(1)
    title = re.search(r"^# .+$", text, re.M)
    # near the top: before the chapter's first section
    top = text[title.end(): text.find("\n## ", title.end())]
    lines = [line for line in top.splitlines() if f"]({COURSE}" in line]
    assert len(lines) == 1, f"{docname}: one line near the top links the course site"
    assert f"Lecture {lecture} of MIT 6.S191" in lines[0], lines[0]
    assert re.search(r'the part "[^"]+"', lines[0]), lines[0]
