"""The page registry (app_pages/__init__.py) is the one list of pages and lecture sections.

It must match the folder, name real widgets and lecture sections, and be
what every page-wide test reads: a page added to the registry alone is
covered by the hostile-link, widget-validation, Chinese, browser and phone
tests without editing them (checked by collecting the suite with a
throwaway page added).
"""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from conftest import ROOT

import app_pages

LECTURE_SECTIONS = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3", "2.4", "2.5"]  # LECTURES' order


def test_every_script_in_the_folder_has_one_record_and_every_record_a_script():
    scripts = sorted(p.stem for p in (ROOT / "app_pages").glob("*.py") if p.stem != "__init__")
    assert sorted(app_pages.names()) == scripts
    assert len(set(app_pages.names())) == len(app_pages.PAGES)
    slugs = [r.slug for r in app_pages.PAGES]
    assert len(set(slugs)) == len(slugs) and slugs.count("") == 1 and app_pages.PAGES[0].name == "home"
    assert all(re.fullmatch(r"[a-z_]*", s) for s in slugs)


def test_a_lecture_example_key_is_the_key_of_that_pages_button():
    for record in app_pages.PAGES:
        source = (ROOT / record.file).read_text(encoding="utf-8")
        buttons = set(re.findall(r'"([a-z]+_preset)"', source))  # page_start(..., preset, "<key>", label)
        assert buttons == ({record.lecture_example} if record.lecture_example else set()), (record.name, buttons)


def test_every_lecture_section_has_a_stop_in_order_with_a_unique_anchor_on_a_real_page():
    numbers = [s.number for s in app_pages.SECTIONS]
    assert sorted(set(numbers)) == LECTURE_SECTIONS and numbers == sorted(numbers)
    anchors = [s.anchor for s in app_pages.SECTIONS]
    assert len(set(anchors)) == len(anchors) and all(re.fullmatch(r"lecture-[0-9a-z-]+", a) for a in anchors)
    for s in app_pages.SECTIONS:
        assert app_pages.page(s.page).name == s.page and s.page != "home"
        assert s.title.startswith(s.number + " ")
        assert app_pages.section(s.anchor) is s
    assert [s.number for s in app_pages.sections_of("critical_points")] == ["1.1", "1.2", "1.3", "1.4"]
    assert set(app_pages.OVERVIEWS) <= set(app_pages.names())


ADD_THROWAWAY = textwrap.dedent('''
    import app_pages
    app_pages.PAGES = app_pages.PAGES + (app_pages.PageRecord("throwaway", "throwaway", "Throwaway", ":material/star:",
                                                              animates=True),)
''')


def test_a_page_added_to_the_registry_alone_is_collected_by_every_page_wide_test(tmp_path):
    (tmp_path / "add_throwaway_page.py").write_text(ADD_THROWAWAY)  # a plugin: runs before the test modules load
    modules = ["tests/test_links.py", "tests/test_widget_validation.py", "tests/test_i18n.py",
               "tests/test_browser.py", "tests/test_phone.py"]
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "add_throwaway_page",
                           "-p", "no:cacheprovider", *modules], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": f"{tmp_path}:{ROOT}"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    collected = [line for line in done.stdout.splitlines() if "throwaway" in line]
    for module in modules:
        assert any(line.startswith(module) for line in collected), f"{module} does not cover a new page"
