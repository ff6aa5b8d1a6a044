"""The URL is the view in every tab: grades given in the Label tab on an uploaded corpus, a reload, a second upload,
and the link copied before it still opens the first corpus, the same query and the same pool, with the grades."""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlparse

from browser import COMPACT_CAPTION, launch, wait_until_idle
from playwright.sync_api import expect, sync_playwright

from conftest import make_project

PROJECT = "browser-links"
QUERY = "who won the football final"
FOOTBALL = "id,text\n" + "".join(
    f"f{i},The football final number {i} was won on penalties by team {i}\n" for i in range(8)
)
GARDENING = "id,text\n" + "".join(f"g{i},Prune the roses in bed {i} before the first frost\n" for i in range(8))
PLACE = re.compile(r"^Pair (\d+) of (\d+)")


def upload(page, path) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Upload", exact=True).click()
    wait_until_idle(page)
    sidebar.locator("input[type='file']").set_input_files(str(path))
    expect(sidebar.get_by_role("button", name="Load uploaded files")).to_be_visible(timeout=30_000)
    wait_until_idle(page)
    sidebar.get_by_role("button", name="Load uploaded files").click()
    wait_until_idle(page)


def progress(page) -> str:
    return page.get_by_test_id("stProgress").first.inner_text()


def shown_pair(page) -> str:
    return page.get_by_text(PLACE).first.inner_text()


def test_a_link_copied_in_the_label_tab_reopens_the_same_corpus_query_and_pool(app_url, tmp_path):
    make_project(PROJECT)
    rater = f"links-{uuid.uuid4().hex[:6]}"
    (tmp_path / "football.csv").write_text(FOOTBALL)
    (tmp_path / "gardening.csv").write_text(GARDENING)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        page.goto(f"{app_url}/?project_name={PROJECT}&rater={rater}")
        expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=120_000)
        wait_until_idle(page)
        upload(page, tmp_path / "football.csv")
        query = page.get_by_label("Query", exact=True)
        query.fill(QUERY)
        query.press("Enter")
        wait_until_idle(page)
        page.get_by_role("tab", name="Label", exact=True).click()
        expect(page.get_by_text(PLACE)).to_be_visible(timeout=60_000)
        wait_until_idle(page)
        page.get_by_test_id("stMain").get_by_text("Guidelines", exact=True).click()  # focus off any text box
        for count in (1, 2):
            page.keyboard.press("2")
            expect(page.get_by_test_id("stProgress").first).to_contain_text(f"{count} of ", timeout=30_000)
            wait_until_idle(page)
        graded, pair = progress(page), shown_pair(page)
        shared = page.get_by_test_id("stSidebar").get_by_test_id("stCode").inner_text().strip()
        params = parse_qs(urlparse(shared).query)

        page.reload()
        expect(page.get_by_text(PLACE)).to_be_visible(timeout=120_000)
        wait_until_idle(page)
        after_reload = (progress(page), shown_pair(page), page.get_by_label("Query", exact=True).input_value())

        upload(page, tmp_path / "gardening.csv")  # a second upload: the stored corpora change order
        reopened = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
        reopened.goto(shared)
        expect(reopened.get_by_text(PLACE)).to_be_visible(timeout=120_000)
        wait_until_idle(reopened)
        again = (progress(reopened), shown_pair(reopened), reopened.get_by_label("Query", exact=True).input_value())
        texts = reopened.get_by_test_id("stMain").inner_text()
        browser.close()
    assert params["tab"] == ["Label"] and params["query"] == [QUERY], params
    assert params["corpus_mode"] == ["Stored"] and params["stored_corpus"][0].startswith("c"), params
    assert graded.startswith("2 of ") and rater in graded
    assert after_reload == (graded, pair, QUERY), "a reload keeps the query, the pool and the grades"
    assert again == (graded, pair, QUERY), "the link opens the first upload's pool, not the second's"
    assert "football" in texts and "roses" not in texts
