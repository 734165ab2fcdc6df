"""tuspy against the example server's tus endpoint.

  tus_resume.py interrupt BASE TOKEN FILE          uploads part of FILE, stops (an interrupted
      client), then resumes with a new uploader from the stored URL and finishes. Prints JSON.
  tus_resume.py start BASE TOKEN FILE              sends a few chunks with tuspy, then starts a
      PATCH of the rest and sends only half of its body: prints {"url": …, "sent": …} and the
      line MIDPATCH, then waits (the test kills the server now).
  tus_resume.py finish BASE TOKEN FILE PATH        resumes the upload at PATH (the URL's path, on
      the restarted server) from the server's offset and finishes. Prints JSON.
"""
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse

from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.uploader import Uploader

CHUNK = 256 * 1024


class Sha256Uploader(Uploader):
    """tuspy's uploader with SHA-256 chunk checksums (its default is SHA-1; the server names
    sha256 in Tus-Checksum-Algorithm)."""
    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)

def metadata(title):
    return {"filename": "tuspy.mp4", "title": title, "tags": "tus,resume", "visibility": "public"}


def uploader(base, token, path, url=None, title="tuspy upload"):
    client = tus_client.TusClient(base + "/api/v1/uploads", headers={"Authorization": "Bearer " + token})
    return Sha256Uploader(path, client=client, url=url, chunk_size=CHUNK, metadata=metadata(title), upload_checksum=True)


def head_offset(base, token, url):
    parsed = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    connection.request("HEAD", urllib.parse.urlparse(url).path, headers={"Tus-Resumable": "1.0.0", "Authorization": "Bearer " + token})
    response = connection.getresponse()
    response.read()
    return response.status, int(response.getheader("Upload-Offset") or -1)


def interrupt(base, token, path):
    size = os.path.getsize(path)
    first = uploader(base, token, path, title="tuspy interrupted upload")
    # A client that stops after three chunks (a closed laptop, a lost connection).
    for _ in range(3):
        first.upload_chunk()
    url = first.url
    status, offset = head_offset(base, token, url)
    if status not in (200, 204) or offset != 3 * CHUNK:
        print(json.dumps({"ok": False, "error": f"after 3 chunks HEAD said {status} offset {offset}"}))
        return 1
    # A new client, a new process as far as it knows: only the URL was kept.
    second = uploader(base, token, path, url=url)
    second.upload()
    status, final = head_offset(base, token, url)
    print(json.dumps({"ok": final == size, "url": url, "resumedAt": offset, "offset": final, "size": size}))
    return 0 if final == size else 1


def start(base, token, path):
    size = os.path.getsize(path)
    first = uploader(base, token, path, title="tuspy upload across a crash")
    for _ in range(2):
        first.upload_chunk()
    offset = first.offset
    with open(path, "rb") as file:
        file.seek(offset)
        rest = file.read()
    parsed = urllib.parse.urlparse(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
    connection.putrequest("PATCH", urllib.parse.urlparse(first.url).path)
    for name, value in {"Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream",
                        "Content-Length": str(len(rest)), "Authorization": "Bearer " + token}.items():
        connection.putheader(name, value)
    connection.endheaders()
    half = len(rest) // 2
    connection.send(rest[:half])
    print(json.dumps({"url": first.url, "committed": offset, "sentInPatch": half, "size": size}), flush=True)
    print("MIDPATCH", flush=True)
    time.sleep(600)  # the test kills the server, then this process
    return 0


def finish(base, token, path, upload_path):
    size = os.path.getsize(path)
    url = base + upload_path
    status, offset = head_offset(base, token, url)
    if status not in (200, 204):
        print(json.dumps({"ok": False, "error": f"HEAD after the restart answered {status}"}))
        return 1
    resumed = uploader(base, token, path, url=url)
    resumed.upload()
    status, final = head_offset(base, token, url)
    print(json.dumps({"ok": final == size, "resumedAt": offset, "offset": final, "size": size}))
    return 0 if final == size else 1


if __name__ == "__main__":
    mode, base, token, path = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4]
    try:
        if mode == "interrupt":
            sys.exit(interrupt(base, token, path))
        if mode == "start":
            sys.exit(start(base, token, path))
        if mode == "finish":
            sys.exit(finish(base, token, path, sys.argv[5]))
    except TusCommunicationError as error:
        print(json.dumps({"ok": False, "error": f"tus: {error} status {error.status_code} body {error.response_content!r}"}))
        sys.exit(1)
    print("unknown mode", mode)
    sys.exit(2)
