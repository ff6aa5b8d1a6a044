"""The real thing: `streamlit run app.py` driven by Debian's Chromium through Playwright: the compact comparison,
the alpha slider, the rank-flow chart opening an explanation, the card view, the latency tab; the README's
screenshots come from here."""

from __future__ import annotations

import re

from browser import COMPACT_CAPTION, SCREENSHOTS, launch, wait_until_idle
from playwright.sync_api import expect, sync_playwright


def comparison_rows(page) -> list[list[str]]:
    """The compact table's rows as text (the grid draws on a canvas; its accessible table holds the cells)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    rows = []
    for row in grid.locator("[role='row']").all():
        cells = [cell.text_content() or "" for cell in row.locator("[role='gridcell']").all()]
        if cells:
            rows.append(cells)
    return rows


def open_app(playwright, url: str, height: int = 1000):
    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1600, "height": height})
    page.goto(url)
    expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=120_000)
    wait_until_idle(page)
    return browser, page


def test_compact_view_slider_cards_and_screenshots(app_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser, page = open_app(playwright, app_url)
        query = page.get_by_label("Query", exact=True)
        query.fill("how to install python packages")
        query.press("Enter")
        wait_until_idle(page)
        expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=60_000)
        rows = comparison_rows(page)
        assert any(row[0] == "Installing packages with pip" for row in rows), rows
        assert any(("▲" in cell or "▼" in cell or "new" in cell) for row in rows for cell in row[2:4])
        # ten ranks of every ranker on a 1000-px-high screen: the table's last row is inside the viewport
        table = page.locator("[data-testid='stDataFrame']").first.bounding_box()
        assert table["y"] + table["height"] <= 1000, table
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=False)
        page.locator("[data-testid='stVegaLiteChart']").first.screenshot(path=str(SCREENSHOTS / "rank-flow.png"))

        slider = page.get_by_test_id("stMain").get_by_role("slider")  # the sidebar has the batch-size slider
        slider.focus()
        for _ in range(10):  # 0.50 -> 1.00 in steps of 0.05: the hybrid becomes the first stage's ranking
            slider.press("ArrowRight")
        expect(slider).to_have_attribute("aria-valuetext", "1.00", timeout=10_000)
        wait_until_idle(page)
        rows = comparison_rows(page)
        assert rows and all(row[3].split()[0] == row[1] for row in rows), "at alpha 1 the hybrid is the first stage"

        page.locator(".st-key-results_view").get_by_text("cards", exact=True).click()
        wait_until_idle(page)
        expect(page.get_by_text("Reranked", exact=True)).to_be_visible(timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "cards.png"), full_page=False)

        page.get_by_role("tab", name="Latency").click()
        expect(page.get_by_text("This session")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / "latency.png"), full_page=False)
        browser.close()


def test_rank_flow_point_opens_its_explanation(app_url):
    with sync_playwright() as playwright:
        browser, page = open_app(playwright, app_url)
        explained = page.locator(".st-key-explain_doc input")  # the selectbox shows its choice in its input
        expect(explained).to_be_visible(timeout=60_000)
        before = explained.input_value()
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        # a first-stage point drawn inside the top-k, of a document the panel does not show yet
        point = next(
            p
            for p in chart.locator("g.mark-symbol path").all()
            if "stage: first stage; rank: 1;" in (p.get_attribute("aria-label") or "")
        )
        label = point.get_attribute("aria-label")
        doc_id = label.split("doc_id: ")[1].split(";")[0]
        title = label.split("title: ")[1].split(";")[0]
        assert f"({doc_id})" not in before, "the first-stage top document is not the reranked top one here"
        point.scroll_into_view_if_needed()
        point.click(force=True)  # the line drawn over the point takes the pointer too; both carry the document
        wait_until_idle(page)
        expect(explained).to_have_value(re.compile(re.escape(f"({doc_id})")), timeout=60_000)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_text("Cross-encoder logit").first).to_be_visible(timeout=60_000)
        expect(main.get_by_text(f"{title} —").first).to_be_visible()
        page.get_by_text("Why it moved").first.scroll_into_view_if_needed()
        page.wait_for_timeout(800)
        page.screenshot(path=str(SCREENSHOTS / "explain.png"), full_page=False)
        browser.close()


def test_the_compact_table_at_1280_px_shows_every_ranking_and_the_grade_without_scrolling(app_url):
    """BM25 as the first stage, the bi-encoder compared beside it, a rater named: the grid's visible columns (its
    accessible table holds the cells it draws) include every rank, the grade and the id."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{app_url}/?first_stage=bm25&compare_first_stage=faiss&rater=wide&query=is+a+python+bite+dangerous")
        expect(page.get_by_text(COMPACT_CAPTION).first).to_be_visible(timeout=120_000)
        wait_until_idle(page)
        grid = page.locator("[data-testid='stDataFrame']").first
        headers = [h.text_content() for h in grid.locator("[role='columnheader']").all()]
        box = grid.bounding_box()
        page.screenshot(path=str(SCREENSHOTS / "compact-bm25-1280.png"), full_page=False)
        browser.close()
    assert headers[:7] == ["document", "BM25", "bi-encoder", "reranked", "hybrid", "grade", "id"], headers
    assert box["x"] + box["width"] <= 1280, "the grid itself fits the window"
