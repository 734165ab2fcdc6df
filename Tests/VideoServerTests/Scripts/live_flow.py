"""Watches a live stream on the example server's watch page in headless Chromium (Playwright):
the page shows the LIVE badge and a viewer count, and its <video> plays the live playlist
(currentTime moves on by several seconds). Fails on any console error. Prints one JSON line with
what it saw; screenshots go to the given folder.

usage: live_flow.py BASE_URL VIDEO_ID SCREENSHOT_DIR
"""
import json
import os
import sys
import time

from playwright.sync_api import sync_playwright

BASE, VIDEO_ID, SHOTS = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
os.makedirs(SHOTS, exist_ok=True)
PLAY_UNTIL_STARTED = """() => {
    const player = document.querySelector('#player');
    player.muted = true;
    if (player.paused) player.play().catch(() => {});
    return player.currentTime > 0.5;
}"""
PLAYER_STATE = """() => {
    const v = document.querySelector('#player');
    const b = v.buffered;
    return JSON.stringify({src: v.currentSrc, currentTime: v.currentTime, readyState: v.readyState, networkState: v.networkState,
        paused: v.paused, error: v.error && v.error.message, buffered: b.length ? [b.start(0), b.end(b.length - 1)] : []});
}"""
seen = {"console": [], "pageErrors": [], "failedRequests": [], "badResponses": [], "states": []}


def fail(message):
    print(json.dumps({"ok": False, "error": message, **seen}))
    sys.exit(1)


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio"])
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: seen["pageErrors"].append(str(e)))
        page.on("response", lambda r: seen["badResponses"].append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None)
        page.on("requestfailed", lambda r: seen["failedRequests"].append(f"{r.method} {r.url} {r.failure}"))
        page.set_default_timeout(30_000)

        page.goto(f"{BASE}/watch/{VIDEO_ID}")
        page.wait_for_selector("#watch-state .badge.live")
        badge = page.locator("#watch-state .badge.live").text_content()
        # Press play (again, if a reload of the source interrupted the first request).
        try:
            page.wait_for_function(PLAY_UNTIL_STARTED, polling=500, timeout=60_000)
        except Exception:
            fail("the live stream did not start playing: " + page.evaluate(PLAYER_STATE))
        start = page.evaluate("document.querySelector('#player').currentTime")
        page.screenshot(path=os.path.join(SHOTS, "live-01-playing.png"), full_page=True)
        # Live: the position keeps moving as new segments are listed.
        try:
            page.wait_for_function(f"() => document.querySelector('#player').currentTime > {start} + 4", timeout=60_000)
        except Exception:
            fail("the live stream stopped moving on: " + page.evaluate(PLAYER_STATE))
        # The page refreshes the video every 2 s; the count includes this viewer by then.
        deadline = time.time() + 20
        state = ""
        while time.time() < deadline:
            state = page.locator("#watch-state").text_content() or ""
            if not seen["states"] or seen["states"][-1] != state:
                seen["states"].append(state)
            if state.strip().startswith("LIVE") and not state.strip().startswith("LIVE 0 "):
                break
            time.sleep(0.5)
        page.screenshot(path=os.path.join(SHOTS, "live-02-watching.png"), full_page=True)
        result = {
            "ok": True, "badge": badge, "state": state,
            "start": start, "currentTime": page.evaluate("document.querySelector('#player').currentTime"),
            # A live presentation has no end: the element's duration is Infinity.
            "endless": page.evaluate("document.querySelector('#player').duration === Infinity"),
            **seen,
        }
        browser.close()
        print(json.dumps(result))


if __name__ == "__main__":
    main()
