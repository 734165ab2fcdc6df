// The VideoStack example page: plain JavaScript over the REST API at /api/v1, no build step.
"use strict";

const API = "/api/v1";
const $ = (selector) => document.querySelector(selector);

// MARK: Session

const session = {
  get access() { return localStorage.getItem("vs.access"); },
  get refresh() { return localStorage.getItem("vs.refresh"); },
  get user() { try { return JSON.parse(localStorage.getItem("vs.user") || "null"); } catch (_) { return null; } },
  save(tokens) {
    localStorage.setItem("vs.access", tokens.accessToken);
    localStorage.setItem("vs.refresh", tokens.refreshToken);
    if (tokens.user) localStorage.setItem("vs.user", JSON.stringify(tokens.user));
  },
  clear() { ["vs.access", "vs.refresh", "vs.user"].forEach((key) => localStorage.removeItem(key)); },
};

async function refreshTokens() {
  if (!session.refresh) return false;
  const response = await fetch(API + "/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refreshToken: session.refresh }),
  });
  if (!response.ok) { session.clear(); return false; }
  session.save(await response.json());
  return true;
}

/// Calls the API with the session's token; refreshes it once on 401. Throws an Error with the
/// server's message for error responses.
async function api(path, options = {}, retried = false) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  if (session.access) headers.Authorization = "Bearer " + session.access;
  const response = await fetch(API + path, { method: options.method || "GET", headers, body: options.body });
  if (response.status === 401 && !retried && session.refresh && await refreshTokens()) return api(path, options, true);
  if (response.status === 204) return null;
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((body && body.error && body.error.message) || ("The server answered " + response.status + "."));
    error.status = response.status;
    throw error;
  }
  return body;
}

// MARK: Views

const views = ["home-view", "search-view", "auth-view", "upload-view", "watch-view"];
function show(id) {
  for (const view of views) $("#" + view).hidden = view !== id;
  if (id !== "watch-view") stopWatching();
}

function notice(text) {
  const element = $("#notice");
  element.textContent = text || "";
  element.hidden = !text;
}

function plural(count, one, many) { return count + " " + (count === 1 ? one : many); }

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  return (h ? h + ":" + String(m).padStart(2, "0") : m) + ":" + String(s).padStart(2, "0");
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === "text") node.textContent = value; else node.setAttribute(name, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/// Text with the server's highlight ranges (`[[start, end], ...]` in UTF-16 units) marked.
function highlighted(text, ranges) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const [start, end] of ranges || []) {
    if (start > at) fragment.append(text.slice(at, start));
    fragment.append(element("mark", { text: text.slice(start, end) }));
    at = end;
  }
  fragment.append(text.slice(at));
  return fragment;
}

function card(video, highlight) {
  const poster = video.posterUrl ? element("img", { src: video.posterUrl, alt: "", loading: "lazy" }) : element("div", { class: "thumb" });
  const title = element("div", { class: "title" });
  title.append(highlight ? highlighted(video.title, highlight) : video.title);
  const link = element("a", { href: "/watch/" + video.id, "data-link": "" }, poster, title,
    element("div", { class: "muted", text: video.owner + " · " + plural(video.views || 0, "view", "views") + " · " + formatDuration(video.duration) }));
  return element("li", {}, link);
}

// MARK: Account

function renderAccount() {
  const user = session.user;
  $("#whoami").textContent = user ? "Signed in as " + user.username : "";
  $("#signin-button").hidden = !!user;
  $("#signout-button").hidden = !user;
  $("#upload-button").hidden = !user;
  $("#mine").hidden = !user;
  if (user) loadMyVideos();
}

function formError(form, error) { form.querySelector("[data-error]").textContent = error ? error.message : ""; }

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  try {
    session.save(await api("/auth/signin", { method: "POST", json: { email: form.email.value, password: form.password.value } }));
    renderAccount();
    navigate("/");
  } catch (error) { formError(form, error); }
});

$("#signup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  try {
    const fields = { username: form.username.value, email: form.email.value, password: form.password.value, name: form.name.value };
    await api("/auth/signup", { method: "POST", json: fields });
    session.save(await api("/auth/signin", { method: "POST", json: { email: fields.email, password: fields.password } }));
    renderAccount();
    navigate("/");
  } catch (error) { formError(form, error); }
});

$("#signin-button").addEventListener("click", () => navigate("/signin"));
$("#upload-button").addEventListener("click", () => navigate("/upload"));
$("#signout-button").addEventListener("click", async () => {
  try { await api("/auth/signout", { method: "POST", json: { refreshToken: session.refresh } }); } catch (_) { /* signed out anyway */ }
  session.clear();
  renderAccount();
  navigate("/");
});

// MARK: My videos (status and progress while processing)

let myVideosTimer = null;
async function loadMyVideos() {
  clearTimeout(myVideosTimer);
  const user = session.user;
  if (!user) return;
  try {
    const page = await api("/users/" + encodeURIComponent(user.username) + "/videos?limit=50");
    const list = $("#my-videos");
    list.replaceChildren(...page.items.map((video) => {
      const status = element("span", { class: "badge " + video.status, text: video.status });
      const row = element("li", { "data-video": video.id },
        element("a", { href: "/watch/" + video.id, "data-link": "", text: video.title }), status);
      if (video.status === "processing" || video.status === "uploading") {
        const percent = Math.round((video.progress || 0) * 100);
        row.append(element("progress", { max: "100", value: String(percent), "aria-label": "Processing " + video.title }),
          element("span", { class: "muted", text: percent + "%" }));
      }
      if (video.status === "failed" && video.failureReason) row.append(element("span", { class: "error", text: video.failureReason }));
      return row;
    }));
    if (page.items.some((video) => video.status === "processing" || video.status === "uploading")) {
      myVideosTimer = setTimeout(loadMyVideos, 1500);
    }
  } catch (error) { notice(error.message); }
}

// MARK: Search as you type

let searchSerial = 0;
let searchTimer = null;
$("#search-input").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(runSearch, 120);
});
$("#search-form").addEventListener("submit", (event) => { event.preventDefault(); runSearch(); });

async function runSearch() {
  const text = $("#search-input").value.trim();
  if (!text) { if (location.pathname === "/") show("home-view"); return; }
  if (location.pathname !== "/") history.pushState({}, "", "/");
  show("search-view");
  const serial = ++searchSerial;
  try {
    const page = await api("/search?limit=24&q=" + encodeURIComponent(text));
    if (serial !== searchSerial) return; // a newer keystroke's answer wins
    $("#search-results").replaceChildren(...page.items.map((item) => card(item.video || item, item.highlights && item.highlights.title)));
    $("#search-status").textContent = page.items.length ? page.items.length + (page.items.length === 1 ? " result" : " results") + " for “" + text + "”" : "No videos match “" + text + "”.";
  } catch (error) {
    if (serial === searchSerial) $("#search-status").textContent = error.message;
  }
}

// MARK: Upload

$("#upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  const file = form.file.files[0];
  if (!file) { formError(form, new Error("Choose a video file first.")); return; }
  if (!form.title.value.trim()) { formError(form, new Error("Give the video a title.")); return; }
  const button = $("#upload-submit");
  button.disabled = true;
  $("#upload-status").textContent = "Uploading…";
  try {
    if (session.refresh) await refreshTokens(); // start with a fresh token for a long upload
    const result = await Tus.upload(file, {
      endpoint: new URL(API + "/uploads", location.href).toString(),
      owner: session.user && session.user.username,
      headers: () => (session.access ? { Authorization: "Bearer " + session.access } : {}),
      metadata: { title: form.title.value.trim(), description: form.description.value, tags: form.tags.value },
      onProgress: (sent, total) => {
        const percent = Math.floor((sent / total) * 100);
        $("#upload-progress").value = percent;
        $("#upload-status").textContent = "Uploaded " + percent + "%";
      },
    });
    $("#upload-status").textContent = "Upload complete; processing has started.";
    form.reset();
    if (result.videoId) navigate("/watch/" + result.videoId); else navigate("/");
  } catch (error) {
    formError(form, error);
    $("#upload-status").textContent = "The upload stopped; choose the same file again to resume where it left off.";
  } finally {
    button.disabled = false;
  }
});

// MARK: Watch

let watching = null;
function stopWatching() {
  if (watching) { clearTimeout(watching.timer); clearTimeout(watching.retry); watching = null; }
  const player = $("#player");
  if (player.getAttribute("src")) { player.pause(); player.removeAttribute("src"); player.load(); }
}

async function watch(id) {
  show("watch-view");
  watching = { id, timer: null, counted: false, storyboard: null, playback: null };
  const player = $("#player");
  let video;
  try { video = await api("/videos/" + encodeURIComponent(id)); } catch (error) {
    $("#watch-title").textContent = error.status === 404 ? "This video does not exist or is private." : error.message;
    return;
  }
  renderVideo(video);
  loadReviews(id);
}

function renderVideo(video) {
  if (!watching || watching.id !== video.id) return;
  document.title = video.title + " · VideoStack";
  $("#watch-title").textContent = video.title;
  $("#watch-owner").textContent = video.owner;
  $("#watch-views").textContent = plural(video.views || 0, "view", "views");
  const rating = video.rating || { average: null, count: 0 };
  $("#watch-rating").textContent = rating.count ? "★ " + rating.average.toFixed(1) + " (" + rating.count + ")" : "No ratings yet";
  $("#watch-description").textContent = video.description || "";
  const player = $("#player");
  if (video.posterUrl) player.poster = video.posterUrl;
  const state = $("#watch-state");
  if (video.status === "live") state.replaceChildren(element("span", { class: "badge live", text: "LIVE" }), " " + (video.viewers || 0) + " watching");
  else if (video.status === "processing") state.textContent = "Processing " + Math.round((video.progress || 0) * 100) + "% — playing what is ready.";
  else if (video.status === "failed") state.textContent = "Processing failed: " + (video.failureReason || "unknown reason");
  else state.textContent = "";
  watching.growing = video.status === "live" || video.status === "processing";
  if (video.playbackUrl && watching.playback !== video.playbackUrl) {
    const resume = player.currentTime;
    watching.playback = video.playbackUrl;
    player.src = video.playbackUrl;
    if (resume) player.currentTime = resume;
  }
  if (video.storyboardUrl && !watching.storyboard) loadStoryboard(video.storyboardUrl);
  $("#review-form").hidden = !session.user || video.status !== "ready";
  if (video.status === "processing" || video.status === "uploading" || video.status === "live") {
    watching.timer = setTimeout(async () => {
      try { renderVideo(await api("/videos/" + encodeURIComponent(video.id))); } catch (_) { /* keep the last state */ }
    }, 2000);
  }
}

// A live or growing stream the player gave up on (a playlist caught between updates, a dropped
// connection) is loaded again after a moment, as players such as hls.js retry.
$("#player").addEventListener("error", () => {
  if (!watching || !watching.playback || !watching.growing) return;
  const player = $("#player");
  clearTimeout(watching.retry);
  watching.retry = setTimeout(() => {
    if (!watching || !player.error || !watching.playback) return;
    player.src = watching.playback;
    player.play().catch(() => { /* the viewer presses play */ });
  }, 2000);
});

$("#player").addEventListener("playing", async () => {
  if (!watching || watching.counted) return;
  watching.counted = true;
  try { await api("/videos/" + encodeURIComponent(watching.id) + "/views", { method: "POST" }); } catch (_) { /* not essential */ }
});

// Storyboard: a WebVTT file whose cues name sprite tiles as `sprite.jpg#xywh=x,y,w,h`.
async function loadStoryboard(url) {
  try {
    const text = await (await fetch(url)).text();
    const cues = [];
    const blocks = text.replace(/\r/g, "").split("\n\n");
    const seconds = (t) => t.split(":").reduce((sum, part) => sum * 60 + parseFloat(part), 0);
    for (const block of blocks) {
      const lines = block.split("\n").filter(Boolean);
      const timing = lines.findIndex((line) => line.includes("-->"));
      if (timing < 0 || !lines[timing + 1]) continue;
      const [start, end] = lines[timing].split("-->").map((part) => seconds(part.trim().split(" ")[0]));
      const [file, fragment] = lines[timing + 1].split("#xywh=");
      if (!fragment) continue;
      const [x, y, w, h] = fragment.split(",").map(Number);
      cues.push({ start, end, image: new URL(file, url).toString(), x, y, w, h });
    }
    if (watching) watching.storyboard = cues;
  } catch (_) { /* previews are optional */ }
}

const scrubber = $("#scrubber");
function scrubTime(event) {
  const box = scrubber.getBoundingClientRect();
  const fraction = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
  return fraction * ($("#player").duration || 0);
}
scrubber.addEventListener("mousemove", (event) => {
  const preview = $("#scrubber-preview");
  const time = scrubTime(event);
  const cue = watching && watching.storyboard && watching.storyboard.find((c) => time >= c.start && time < c.end);
  if (!cue) { preview.hidden = true; return; }
  preview.hidden = false;
  preview.style.width = cue.w + "px";
  preview.style.height = cue.h + "px";
  preview.style.backgroundImage = "url(\"" + cue.image + "\")";
  preview.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
  preview.style.left = (event.clientX - scrubber.getBoundingClientRect().left) + "px";
  preview.querySelector("span").textContent = formatDuration(time);
});
scrubber.addEventListener("mouseleave", () => { $("#scrubber-preview").hidden = true; });
scrubber.addEventListener("click", (event) => { $("#player").currentTime = scrubTime(event); });
scrubber.addEventListener("keydown", (event) => {
  const player = $("#player");
  if (event.key === "ArrowRight") { player.currentTime = Math.min(player.currentTime + 5, player.duration || 0); event.preventDefault(); }
  if (event.key === "ArrowLeft") { player.currentTime = Math.max(player.currentTime - 5, 0); event.preventDefault(); }
});
$("#player").addEventListener("timeupdate", () => {
  const player = $("#player");
  const fraction = player.duration ? player.currentTime / player.duration : 0;
  $("#scrubber-fill").style.width = (fraction * 100) + "%";
  scrubber.setAttribute("aria-valuenow", String(Math.round(fraction * 100)));
  scrubber.setAttribute("aria-valuetext", formatDuration(player.currentTime));
});

// MARK: Reviews and sharing

async function loadReviews(id) {
  try {
    const page = await api("/videos/" + encodeURIComponent(id) + "/reviews?limit=50");
    $("#reviews").replaceChildren(...page.items.map((review) => element("li", {},
      element("strong", { text: review.author }), " ",
      element("span", { role: "img", "aria-label": review.rating + " out of 5", text: "★".repeat(review.rating) }), " ",
      element("span", { class: "muted", text: new Date(review.createdAt).toLocaleDateString() }),
      element("p", { text: review.comment || "" }))));
  } catch (error) { $("#reviews").replaceChildren(element("li", { class: "muted", text: error.message })); }
}

$("#review-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  formError(form, null);
  try {
    await api("/videos/" + encodeURIComponent(watching.id) + "/reviews", {
      method: "POST", json: { rating: Number(form.rating.value), comment: form.comment.value },
    });
    form.comment.value = "";
    loadReviews(watching.id);
    renderVideo(await api("/videos/" + encodeURIComponent(watching.id)));
  } catch (error) { formError(form, error); }
});

$("#share-button").addEventListener("click", async () => {
  try {
    const link = await api("/videos/" + encodeURIComponent(watching.id) + "/share", { method: "POST" });
    const output = $("#share-output");
    output.replaceChildren(element("a", { href: link.url, id: "share-link", text: link.url }));
    if (navigator.clipboard) navigator.clipboard.writeText(link.url).catch(() => {});
  } catch (error) { notice(error.message); }
});

// MARK: Routing

function route() {
  notice("");
  const path = location.pathname;
  const watchMatch = path.match(/^\/watch\/([^/]+)$/);
  if (watchMatch) return watch(decodeURIComponent(watchMatch[1]));
  if (path === "/signin") return show("auth-view");
  if (path === "/upload") { if (!session.user) return navigate("/signin"); return show("upload-view"); }
  show("home-view");
  loadHome();
  if (session.user) loadMyVideos(); // statuses change while the visitor is elsewhere
}

async function loadHome() {
  try {
    const page = await api("/search?limit=24&sort=newest&q=");
    $("#home-results").replaceChildren(...page.items.map((item) => card(item.video || item)));
    $("#home-hint").hidden = page.items.length > 0;
  } catch (_) { /* the hint stays */ }
}

function navigate(path) {
  history.pushState({}, "", path);
  route();
  // Keyboard and screen-reader users land at the start of the new view, not on a vanished control.
  $("#main").focus({ preventScroll: true });
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", route);

renderAccount();
route();
