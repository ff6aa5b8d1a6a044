"""Two people grading the same query's results at once, in two real browser contexts: every grade the page
acknowledged is in the database once, with the rater who gave it, and nothing changes afterwards without a click."""

from __future__ import annotations

import re
import time

from browser import COMPACT_CAPTION, launch, wait_until_idle
from playwright.sync_api import expect, sync_playwright

from conftest import make_project
from ranklens.corpus.loading import load_builtin
from ranklens.labelling.labels import GRADES, LabelStore

PROJECT = "browser-grading"
CONTROL = re.compile(
    r"st-key-grade-(?P<place>bi|ce|hybrid)-(?P<corpus>c[0-9a-f]+)-(?P<qid>[^-\s]+)-(?P<doc>\S+)-"
    r"(?P<shown>unjudged|Poor|Fair|Good|Perfect|Can\S*)(\s|$)"
)
NAMES = [name for name, _ in GRADES.values()]


def open_as(browser, url: str, rater: str):
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(url)
    expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=120_000)
    wait_until_idle(page)
    page.locator(".st-key-results_view").get_by_text("cards", exact=True).click()  # a grade control per column
    expect(page.get_by_text("Reranked", exact=True)).to_be_visible(timeout=60_000)
    wait_until_idle(page)
    project = page.get_by_label("Project", exact=True)
    project.click()
    project.press_sequentially(PROJECT)
    page.get_by_role("option", name=PROJECT, exact=True).click()
    wait_until_idle(page)
    expect(page.get_by_text(f"Labels: project {PROJECT}")).to_be_visible()
    rater_box = page.get_by_label("Rater", exact=True)
    rater_box.fill(rater)
    rater_box.press("Enter")
    wait_until_idle(page)
    return page


def controls(page, place: str) -> list[tuple[str, object]]:
    """(doc id, its control) for every grade control in one column, in rank order."""
    found = []
    for element in page.locator(f"[class*='st-key-grade-{place}-']").all():
        match = CONTROL.search(element.get_attribute("class") or "")
        if match:
            found.append((match["doc"], element))
    return found


def acknowledged(page) -> dict[str, str]:
    """What the page shows as saved: doc id -> the checked grade, the same in every column a document is in."""
    shown: dict[str, set[str]] = {}
    for place in ("bi", "ce", "hybrid"):
        for doc_id, element in controls(page, place):
            checked = element.locator("[role='radio'][aria-checked='true']")
            if checked.count():
                shown.setdefault(doc_id, set()).add(checked.first.inner_text().strip())
    assert all(len(grades) == 1 for grades in shown.values()), shown
    return {doc_id: grades.pop() for doc_id, grades in shown.items()}


def click_grade(page, place: str, rank: int, grade: str) -> str:
    doc_id, element = controls(page, place)[rank]
    element.get_by_role("radio", name=grade, exact=True).click()
    return doc_id


def test_two_raters_grading_at_once_lose_nothing_and_nothing_changes_without_a_click(app_url):
    folder = make_project(PROJECT)
    corpus = load_builtin("python")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        ann, bob = open_as(browser, app_url, "ann"), open_as(browser, app_url, "bob")
        clicked = {"ann": {}, "bob": {}}
        for rank in range(10):
            # both click before either page has finished its rerun: the two sessions write at once
            clicked["ann"][click_grade(ann, "bi", rank, NAMES[rank % 4])] = NAMES[rank % 4]
            clicked["bob"][click_grade(bob, "ce", rank, NAMES[(rank + 1) % 4])] = NAMES[(rank + 1) % 4]
            wait_until_idle(ann)
            wait_until_idle(bob)
        shown = {"ann": acknowledged(ann), "bob": acknowledged(bob)}
        browser.close()
    assert shown == clicked, "the page acknowledges every click, and only those"
    assert set(clicked["ann"]) & set(clicked["bob"]), "some documents were graded by both"

    def stored() -> dict:
        return {(j.rater, j.doc_id): (j.grade, j.judged_at) for j in LabelStore(folder).judgements(corpus.key)}

    first = stored()
    grade_of = {name: grade for grade, (name, _) in GRADES.items()}
    assert {key: grade for key, (grade, _) in first.items()} == {
        (rater, doc_id): grade_of[name] for rater, grades in clicked.items() for doc_id, name in grades.items()
    }, "every acknowledged grade is stored, once, under the rater who gave it"
    time.sleep(6)
    assert stored() == first, "no row changed afterwards, not even a time stamp"
