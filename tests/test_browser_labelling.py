"""Keyboard grading in a real browser, then the page's own link reopening the same view with the grades."""

from __future__ import annotations

import re

from browser import COMPACT_CAPTION, launch, wait_until_idle
from playwright.sync_api import expect, sync_playwright

from conftest import make_project
from ranklens.corpus.loading import load_builtin
from ranklens.labelling.labels import LabelStore

PROJECT = "browser-keyboard"
RATER = "kim"
QUERY = "what do pythons eat"


def progress(page) -> str:
    return page.get_by_test_id("stProgress").first.inner_text()


def test_three_grades_by_keyboard_and_a_copied_link_reopens_the_view(app_url):
    folder = make_project(PROJECT)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.goto(f"{app_url}/?project_name={PROJECT}&rater={RATER}")
        expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=120_000)
        expect(page.get_by_text(f"Labels: project {PROJECT}")).to_be_visible()
        query = page.get_by_label("Query", exact=True)
        query.fill(QUERY)
        query.press("Enter")
        wait_until_idle(page)
        expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=60_000)
        page.get_by_role("tab", name="Label", exact=True).click()
        expect(page.get_by_text(re.compile(r"^Pair 1 of \d+"))).to_be_visible(timeout=60_000)
        wait_until_idle(page)
        page.get_by_test_id("stMain").get_by_text("Guidelines", exact=True).click()  # focus off any text box
        for key, count in (("3", 1), ("2", 2), ("0", 3)):
            page.keyboard.press(key)
            expect(page.get_by_test_id("stProgress").first).to_contain_text(f"{count} of ", timeout=30_000)
            wait_until_idle(page)
        graded = progress(page)
        assert graded.startswith("3 of ") and RATER in graded
        shared = page.get_by_test_id("stSidebar").get_by_test_id("stCode").inner_text().strip()
        assert "tab=Label" in shared and f"rater={RATER}" in shared and "query=" in shared, shared

        reopened = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        reopened.goto(shared)
        expect(reopened.get_by_text(re.compile(r"^Pair \d+ of \d+"))).to_be_visible(timeout=120_000)
        wait_until_idle(reopened)
        assert progress(reopened) == graded, "the same query's pool, rater and grades"
        expect(reopened.get_by_text(f"Labels: project {PROJECT}")).to_be_visible()
        # Only the open tab runs, so the query shows as the pair's query rather than in the Search box.
        expect(reopened.get_by_test_id("stMain").get_by_text(QUERY, exact=True).first).to_be_visible()
        assert reopened.get_by_label("Rater", exact=True).input_value() == RATER
        reopened.reload()
        expect(reopened.get_by_text(re.compile(r"^Pair \d+ of \d+"))).to_be_visible(timeout=120_000)
        wait_until_idle(reopened)
        assert progress(reopened) == graded, "a reload keeps the view too"
        browser.close()
    stored = LabelStore(folder).judgements(load_builtin("python").key, rater=RATER)
    assert sorted(j.grade for j in stored) == [0, 2, 3], "three grades, one per key"
