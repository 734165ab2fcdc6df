"""Drives the example server's web page in headless Chromium (Playwright), as a person would:
sign up, upload a video through the page, watch its status change, find it by typing a prefix
in the search box, play it past 3 seconds, post a review, follow a share link. Fails on any
console error. Prints one JSON line with what it saw; screenshots go to the given folder.

usage: browser_flow.py BASE_URL VIDEO_FILE SCREENSHOT_DIR
"""
import json
import os
import sys
import time
import uuid

from playwright.sync_api import sync_playwright

BASE, VIDEO, SHOTS = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
os.makedirs(SHOTS, exist_ok=True)
WORD = "Zebracorn"  # an unusual word, so the prefix finds exactly this upload
TITLE = f"{WORD} parade {uuid.uuid4().hex[:6]}"
USER = "pw" + uuid.uuid4().hex[:8]
seen = {"console": [], "pageErrors": [], "states": [], "badges": [], "failedRequests": []}


def fail(message):
    print(json.dumps({"ok": False, "error": message, **seen}))
    sys.exit(1)


def shot(page, name):
    page.screenshot(path=os.path.join(SHOTS, name + ".png"), full_page=True)


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: seen["pageErrors"].append(str(e)))
        page.on("requestfailed", lambda r: seen["failedRequests"].append(f"{r.method} {r.url} {r.failure}"))
        page.set_default_timeout(30_000)

        # Home: the page is in English, every form field has a label.
        page.goto(BASE + "/")
        if page.evaluate("document.documentElement.lang") != "en":
            fail("the page has no lang='en'")
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('input, textarea, select')]
            .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.id || e.name)""")
        if unlabeled:
            fail(f"form fields without a label: {unlabeled}")
        shot(page, "01-home")

        # Keyboard: the skip link comes first, then the search box takes typing.
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.className") != "skip":
            fail("the first Tab does not reach the skip link")

        # Sign up (the page signs in right after).
        page.get_by_role("button", name="Sign in").click()
        form = page.locator("#signup-form")
        form.get_by_label("Username", exact=True).fill(USER)
        form.get_by_label("Name", exact=True).fill("Play Wright")
        form.get_by_label("Email", exact=True).fill(USER + "@example.com")
        form.get_by_label("Password", exact=True).fill("zebra-crossing-" + uuid.uuid4().hex[:6])
        shot(page, "02-signup")
        form.get_by_role("button", name="Create account").click()
        page.wait_for_function("() => document.querySelector('#whoami').textContent.includes('Signed in as')")

        # Upload through the page (tus from the browser).
        page.get_by_role("button", name="Upload").click()
        page.locator("#upload-file").set_input_files(VIDEO)
        page.get_by_label("Title", exact=True).fill(TITLE)
        page.get_by_label("Description", exact=True).fill("Uploaded by the browser test.")
        page.locator("#upload-tags").fill("test, zebra")
        page.locator("#upload-submit").click()
        page.wait_for_url("**/watch/*", timeout=60_000)
        video_id = page.url.rstrip("/").split("/")[-1]
        shot(page, "03-watch-processing")

        # The status changes while the worker transcodes; the review form shows once it is ready.
        deadline = time.time() + 240
        while time.time() < deadline:
            state = page.locator("#watch-state").text_content() or ""
            if not seen["states"] or seen["states"][-1] != state:
                seen["states"].append(state)
            if page.locator("#review-form").is_visible():
                break
            time.sleep(0.25)
        else:
            fail("the video did not become ready on the watch page")

        # My videos on the home page lists it as ready.
        page.get_by_role("link", name="VideoStack").click()
        page.wait_for_selector(f"#my-videos li[data-video='{video_id}'] .badge")
        seen["badges"].append(page.locator(f"#my-videos li[data-video='{video_id}'] .badge").text_content())
        shot(page, "04-home-signed-in")

        # Search as you type: a prefix of the unusual word finds it.
        search = page.get_by_label("Search videos")
        search.click()
        found = False
        for attempt in range(40):  # the search replica follows the store's change feed
            search.fill("")
            search.press_sequentially(WORD[:5].lower(), delay=60)
            try:
                page.wait_for_selector(f"#search-results a[href='/watch/{video_id}']", timeout=1500)
                found = True
                break
            except Exception:
                time.sleep(0.5)
        if not found:
            fail("typing a prefix did not find the upload")
        if page.locator(f"#search-results a[href='/watch/{video_id}'] mark").count() == 0:
            fail("the search result does not mark the matched prefix")
        shot(page, "05-search")

        # Watch: play until past 3 seconds.
        page.locator(f"#search-results a[href='/watch/{video_id}']").click()
        page.wait_for_function("() => document.querySelector('#watch-title').textContent.length > 0")
        page.evaluate("document.querySelector('#player').muted = true; document.querySelector('#player').play()")
        page.wait_for_function("() => document.querySelector('#player').currentTime > 3", timeout=90_000)
        current = page.evaluate("document.querySelector('#player').currentTime")
        shot(page, "06-playing")

        # Review.
        page.locator("label[for='rating-4']").click()
        page.get_by_label("Comment").fill("Stripes in every frame.")
        page.get_by_role("button", name="Post review").click()
        page.wait_for_function("() => document.querySelector('#reviews').textContent.includes('Stripes in every frame.')")
        page.wait_for_function("() => document.querySelector('#watch-rating').textContent.includes('4.0')")
        rating = page.locator("#watch-rating").text_content()
        shot(page, "07-reviewed")

        # Share, then follow the link in a fresh tab.
        page.get_by_role("button", name="Share").click()
        link = page.wait_for_selector("#share-link")
        url = link.get_attribute("href")
        other = context.new_page()
        other.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        other.goto(url)
        other.wait_for_url(f"**/watch/{video_id}")
        other.wait_for_function(f"() => document.querySelector('#watch-title').textContent === {json.dumps(TITLE)}")
        shot(other, "08-shared")

        browser.close()
        if seen["console"] or seen["pageErrors"]:
            fail("the page logged errors")
        print(json.dumps({"ok": True, "videoId": video_id, "title": TITLE, "user": USER, "currentTime": current,
                          "rating": rating, "shareUrl": url, **seen}))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except Exception as error:  # a Playwright timeout names what it waited for
        fail(f"{type(error).__name__}: {error}")
