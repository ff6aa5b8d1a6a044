"""The real thing: `streamlit run app.py` driven by Debian's Chromium through Playwright."""

from __future__ import annotations

from browser import SCREENSHOTS, launch, wait_until_idle
from playwright.sync_api import expect, sync_playwright


def test_query_slider_and_screenshots(app_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1600, "height": 1300})
        page.goto(app_url)
        expect(page.get_by_text("Reranked", exact=True)).to_be_visible(timeout=120_000)
        wait_until_idle(page)

        query = page.get_by_label("Query", exact=True)
        query.fill("how to install python packages")
        query.press("Enter")
        wait_until_idle(page)
        expect(page.get_by_text("Installing packages with pip").first).to_be_visible(timeout=30_000)
        body = page.get_by_test_id("stMain").inner_text()
        assert "Bi-encoder" in body and "Reranked" in body and "Hybrid" in body
        assert any(arrow in body for arrow in ("▲", "▼", "new"))
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=False)

        hybrid_before = page.locator("[data-testid='stColumn']").nth(2).inner_text()
        slider = page.get_by_test_id("stMain").get_by_role("slider")  # the sidebar has the batch-size slider
        slider.focus()
        for _ in range(10):  # 0.50 -> 1.00 in steps of 0.05: the hybrid becomes the bi-encoder ranking
            slider.press("ArrowRight")
        expect(slider).to_have_attribute("aria-valuetext", "1.00", timeout=10_000)
        wait_until_idle(page)
        hybrid_after = page.locator("[data-testid='stColumn']").nth(2).inner_text()
        assert hybrid_after != hybrid_before

        def first_title(column_text: str) -> str:
            return next(line for line in column_text.splitlines() if line.startswith("1.") and "·" in line).split("·")[
                -1
            ]

        bi_column = page.locator("[data-testid='stColumn']").nth(0).inner_text()
        assert first_title(hybrid_after) == first_title(bi_column), "at alpha 1 the hybrid is the bi-encoder's ranking"
        page.screenshot(path=str(SCREENSHOTS / "alpha-1.png"), full_page=False)

        page.get_by_role("tab", name="Latency").click()
        expect(page.get_by_text("This session")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(SCREENSHOTS / "latency.png"), full_page=False)
        browser.close()
