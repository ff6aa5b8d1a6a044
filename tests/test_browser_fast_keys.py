"""A grade belongs to the pair on screen: each grade key pressed twice within 50 ms, on ten consecutive pairs of the
Label tab, in a real browser, five rounds. A listener in the page records which pair was on screen at every press;
every stored judgement must belong to a pair on screen when a key giving that grade was pressed."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote_plus

from browser import launch, wait_until_idle
from playwright.sync_api import expect, sync_playwright

from conftest import make_project
from ranklens.corpus.corpus import query_id_for
from ranklens.corpus.loading import load_builtin
from ranklens.labelling.labels import LabelStore

PROJECT = "browser-fast-keys"
QUERY = "what do pythons eat"
ROUNDS, PAIRS = 5, 10
GRADE_OF_KEY = {"0": 0, "1": 1, "2": 2, "3": 3, "s": None}
# In the capture phase, before Streamlit's own shortcut handler: the pair the page shows as the key goes down.
LISTENER = """() => {
  window.presses = [];
  document.addEventListener('keydown', (event) => {
    const caption = [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
      .map((element) => element.innerText).find((text) => /^Pair \\d+ of \\d+/.test(text));
    window.presses.push({key: event.key, shown: caption || ''});
  }, true);
}"""
SHOWN_DOC = re.compile(r"· document (\S+) ·")


def settle(page) -> None:
    page.wait_for_timeout(250)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=60_000)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=30_000)


def grade_fast(browser, app_url: str, rater: str) -> list[dict]:
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(f"{app_url}/?project_name={PROJECT}&rater={rater}&tab=Label&query={quote_plus(QUERY)}")
    expect(page.get_by_text(re.compile(r"^Pair 1 of \d+"))).to_be_visible(timeout=120_000)
    wait_until_idle(page)
    page.get_by_test_id("stMain").get_by_text("Guidelines", exact=True).click()  # focus off any text box
    page.evaluate(LISTENER)
    keys = list(GRADE_OF_KEY)
    for pair in range(PAIRS):
        key = keys[pair % len(keys)]
        page.keyboard.press(key)
        page.wait_for_timeout((pair * 17) % 50)  # 0-49 ms: a double press
        page.keyboard.press(key)
        settle(page)
    presses = page.evaluate("window.presses")
    page.context.close()
    return presses


def test_a_double_pressed_key_grades_only_the_pair_on_screen(app_url):
    folder = make_project(PROJECT)
    corpus = load_builtin("python")
    query_id = query_id_for(QUERY, corpus.queries)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        rounds = []
        for round_ in range(ROUNDS):
            rater = f"fast{round_}-{uuid.uuid4().hex[:6]}"
            presses = grade_fast(browser, app_url, rater)
            stored = {(j.doc_id, j.grade) for j in LabelStore(folder).judgements(corpus.key, query_id, rater)}
            rounds.append((presses, stored))
        browser.close()
    unseen, shown_pairs, graded = [], [], []
    for round_, (presses, stored) in enumerate(rounds):
        seen = [(SHOWN_DOC.search(p["shown"]), p["key"]) for p in presses]
        pressed_on = {(match.group(1).replace("\\", ""), GRADE_OF_KEY[key]) for match, key in seen if match}
        unseen += [
            f"round {round_}: {doc} graded {grade} unseen" for doc, grade in sorted(stored - pressed_on, key=str)
        ]
        shown_pairs.append(len({doc for doc, _ in pressed_on}))
        graded.append(len(stored))
    heard = [sum(bool(SHOWN_DOC.search(p["shown"])) for p in presses) for presses, _ in rounds]
    assert heard == [2 * PAIRS] * ROUNDS, "every press heard, with the pair on screen"
    assert unseen == [], "every grade belongs to a pair on screen when its key was pressed"
    assert min(shown_pairs) >= PAIRS and min(graded) >= PAIRS, "ten consecutive pairs each round, each graded"


SHOWN_PLACE = re.compile(r"^Pair (\d+) of \d+")


def grade_then_next(browser, app_url: str, rater: str, pairs: int) -> tuple[list[dict], int]:
    """Each pair graded, then `j` pressed at once (0-49 ms later); the presses and the place the page ends on."""
    page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
    page.goto(f"{app_url}/?project_name={PROJECT}&rater={rater}&tab=Label&query={quote_plus(QUERY)}")
    expect(page.get_by_text(re.compile(r"^Pair 1 of \d+"))).to_be_visible(timeout=120_000)
    wait_until_idle(page)
    page.get_by_test_id("stMain").get_by_text("Guidelines", exact=True).click()
    page.evaluate(LISTENER)
    for pair in range(pairs):
        page.keyboard.press("2")
        page.wait_for_timeout((pair * 23) % 50)
        page.keyboard.press("j")
        settle(page)
    presses = page.evaluate("window.presses")
    final = page.get_by_text(SHOWN_PLACE).first.inner_text()
    page.context.close()
    return presses, int(SHOWN_PLACE.match(final).group(1))


def test_grade_then_j_skips_no_pair_the_rater_did_not_see(app_url):
    """A grade moves on by itself and `j` moves without grading, each from the pair on screen: a `j` that arrives
    after the grade's own move does not skip the next pair unseen."""
    make_project(PROJECT)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        runs = [grade_then_next(browser, app_url, f"next{r}-{uuid.uuid4().hex[:6]}", 6) for r in range(3)]
        browser.close()
    unseen = []
    for presses, final in runs:
        seen = {int(SHOWN_PLACE.match(p["shown"]).group(1)) for p in presses if SHOWN_PLACE.match(p["shown"])}
        unseen.append(sorted(set(range(1, final)) - seen))
    assert [final >= 6 for _, final in runs] == [True] * 3, "the page moved on"
    assert unseen == [[], [], []], "every pair before the one the page ends on was on screen at a key press"
