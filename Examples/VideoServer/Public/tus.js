// A small tus 1.0.0 client for the browser: creation, resumable PATCH in chunks with progress,
// and resume after a reload (the upload URL is remembered per file in localStorage).
"use strict";

(function () {
  const VERSION = "1.0.0";
  const CHUNK = 4 * 1024 * 1024;

  function fingerprint(file, owner) {
    return ["tus", owner || "", file.name, file.size, file.lastModified].join("|");
  }

  function encodeMetadata(metadata) {
    return Object.entries(metadata)
      .filter(([, value]) => value !== undefined && value !== null && value !== "")
      .map(([key, value]) => key + " " + btoa(unescape(encodeURIComponent(String(value)))))
      .join(",");
  }

  function request(method, url, headers, body, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Tus-Resumable", VERSION);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      if (onProgress && xhr.upload) xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onload = () => resolve(xhr);
      xhr.onerror = () => reject(new Error("The connection to the server was lost."));
      xhr.onabort = () => reject(new Error("The upload was cancelled."));
      xhr.send(body === undefined ? null : body);
    });
  }

  function failure(xhr, what) {
    let message = what + " failed (HTTP " + xhr.status + ").";
    try {
      const body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (_) { /* not JSON */ }
    const error = new Error(message);
    error.status = xhr.status;
    return error;
  }

  /// Uploads `file` to the tus endpoint; `options`: endpoint, metadata, headers (a function
  /// returning fresh headers, for tokens), owner (scopes the resume memory), onProgress(sent, total),
  /// onCreated(xhr). Resolves with the upload URL and the creation response's Video-Id.
  async function upload(file, options) {
    const key = fingerprint(file, options.owner);
    const headers = () => (options.headers ? options.headers() : {});
    let remembered = null;
    try { remembered = JSON.parse(localStorage.getItem(key) || "null"); } catch (_) { remembered = null; }
    let url = remembered && remembered.url;
    let videoId = remembered && remembered.videoId;
    let offset = 0;

    if (url) {
      const head = await request("HEAD", url, headers());
      if (head.status === 200 || head.status === 204) {
        offset = parseInt(head.getResponseHeader("Upload-Offset") || "0", 10);
      } else {
        url = null; // expired or gone: start over
      }
    }
    if (!url) {
      const created = await request("POST", options.endpoint, Object.assign(headers(), {
        "Upload-Length": String(file.size),
        "Upload-Metadata": encodeMetadata(Object.assign({ filename: file.name, filetype: file.type }, options.metadata || {})),
      }));
      if (created.status !== 201) throw failure(created, "Creating the upload");
      url = new URL(created.getResponseHeader("Location"), options.endpoint).toString();
      videoId = created.getResponseHeader("Video-Id");
      localStorage.setItem(key, JSON.stringify({ url, videoId }));
      if (options.onCreated) options.onCreated(created);
    }

    let failures = 0;
    while (offset < file.size) {
      const end = Math.min(offset + CHUNK, file.size);
      const base = offset;
      let response;
      try {
        response = await request("PATCH", url, Object.assign(headers(), {
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream",
        }), file.slice(offset, end), (sent) => options.onProgress && options.onProgress(base + sent, file.size));
      } catch (error) {
        // A dropped connection: ask where the server is and go on from there, a few times.
        if (++failures > 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500 * failures));
        const head = await request("HEAD", url, headers());
        offset = parseInt(head.getResponseHeader("Upload-Offset") || String(offset), 10);
        continue;
      }
      if (response.status === 409) {
        const head = await request("HEAD", url, headers());
        offset = parseInt(head.getResponseHeader("Upload-Offset") || "0", 10);
        continue;
      }
      if (response.status !== 204) throw failure(response, "Sending the file");
      failures = 0;
      offset = parseInt(response.getResponseHeader("Upload-Offset"), 10);
      if (options.onProgress) options.onProgress(offset, file.size);
    }
    localStorage.removeItem(key);
    return { url, videoId };
  }

  window.Tus = { upload, encodeMetadata };
})();
