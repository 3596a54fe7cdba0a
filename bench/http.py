"""The benchmark's clients: one keep-alive HTTP/1.1 connection per device (http.client, so the
client costs little of the two cores it shares with the server), its cookies, and the latency
of every request measured at the client."""

from __future__ import annotations

import http.client
import re
import threading
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

TIMEOUT = 30.0
_ERROR_TEXT = re.compile(r'class="[^"]*(?:error|notice)[^"]*"[^>]*>\s*([^<]+)')
_HIDDEN = re.compile(r'name="(csrf_token|request_id)" value="([^"]*)"')


def hidden_inputs(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


# What a request meets on a kept-alive connection the server has closed.
_STALE = (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected)


@dataclass
class Sample:
    label: str
    seconds: float
    ok: bool


@dataclass
class Recorder:
    """Every request's label, latency and outcome; shared by the threads of one phase."""

    samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, label: str, seconds: float, ok: bool, problem: str = "") -> None:
        with self._lock:
            self.samples.append(Sample(label, seconds, ok))
            if not ok and len(self.problems) < 20:
                self.problems.append(f"{label}: {problem}")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    seconds: float


class RequestFailed(Exception):
    """A request that got no answer, or not the one expected; already recorded as an error."""


class Device:
    """A browser, tablet or phone: its own connection and cookies."""

    def __init__(self, base_url: str, recorder: Recorder | None = None) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        label: str | None = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> Answer:
        """One request; recorded under `label` (if any). An unexpected status or a lost
        connection is recorded as an error and raises RequestFailed."""
        sent = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        start = time.perf_counter()
        try:
            answer = self._exchange(method, path, body, sent)
        except (OSError, http.client.HTTPException) as error:
            self.close()
            seconds = time.perf_counter() - start
            self._record(label, seconds, False, f"{type(error).__name__}: {error}")
            raise RequestFailed(f"{method} {path}: {error}") from None
        answer.seconds = time.perf_counter() - start
        ok = answer.status in expect
        self._record(label, answer.seconds, ok, f"HTTP {answer.status} {_what_went_wrong(answer)}")
        if not ok:
            raise RequestFailed(f"{method} {path}: HTTP {answer.status}")
        return answer

    def _exchange(self, method, path, body, headers) -> Answer:
        reused = self.connection is not None
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except _STALE:
            if not reused:
                raise
            # A kept-alive connection the server closed while idle (waitress closes those after
            # its channel timeout; a slow phase on a loaded machine gets there): a browser
            # sends the request again on a new connection, and so do we, once.
            self.close()
            return self._exchange(method, path, body, headers)
        data = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(cookie).items():
                self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return Answer(response.status, dict(response.headers), data.decode("utf-8", "replace"), 0)

    def _record(self, label, seconds, ok, problem) -> None:
        if label is not None and self.recorder is not None:
            self.recorder.add(label, seconds, ok, "" if ok else problem)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _what_went_wrong(answer: Answer) -> str:
    """The page's own error messages, else the start of the body."""
    messages = [m.strip() for m in _ERROR_TEXT.findall(answer.text) if m.strip()]
    return "; ".join(messages[:3]) if messages else repr(answer.text[:200])
