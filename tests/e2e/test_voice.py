"""The voice in a real browser: the coordinator records a prompt with Chromium's fake microphone,
the kiosk's listen button plays it to the end, and a prompt without a clip is read by the device's
voice where it has one for the language, and has no button where it has none."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kiosk.config import DEFAULTS
from kiosk.domain.voice import announcement_prompts
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.staff_pages import log_in, register
from tests.server import running_server
from tests.support.staff_http import StaffDevice, add_staff_and_desks

LANGUAGES = DEFAULTS["LANGUAGES"]

# Chromium's own microphone: a beep, granted without asking.
FAKE_MEDIA_ARGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]

# A device voice for Arabic, as a tablet with an Arabic voice installed has: speaking records
# what was said and ends at once (headless Chromium has no speech engine of its own).
FAKE_ARABIC_VOICE = """
(() => {
  const spoken = [];
  const voice = { lang: "ar-MA", name: "Test Arabic", default: true, localService: true };
  const synthesis = {
    getVoices: () => [voice], speak(utterance) { spoken.push(utterance.text);
      setTimeout(() => utterance.listeners.forEach((f) => f()), 10); },
    cancel() {}, addEventListener() {}, spoken,
  };
  Object.defineProperty(window, "speechSynthesis", { value: synthesis });
  window.SpeechSynthesisUtterance = function (text) {
    this.text = text; this.listeners = [];
    this.addEventListener = (name, f) => { if (name === "end") { this.listeners.push(f); } };
  };
})();
"""
NO_VOICE = """Object.defineProperty(window, "speechSynthesis", { value: {
  getVoices: () => [], speak() {}, cancel() {}, addEventListener() {} } });"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("voice-server")) as base_url:
        add_staff_and_desks(
            base_url.instance,
            {"amina": "coordinator", "driss": "doctor"},
            {"Médecin 1": "interview"},
        )
        yield base_url


@pytest.fixture(scope="module")
def microphone_browser(playwright):
    """A Chromium of its own with the fake microphone (the other tests' browser has none)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + FAKE_MEDIA_ARGS
    )
    yield browser
    browser.close()


def test_a_prompt_recorded_on_the_coordinators_page_plays_on_the_kiosk(
    microphone_browser, server, artifacts
):
    context = microphone_browser.new_context(viewport={"width": 1280, "height": 800})
    context.grant_permissions(["microphone"], origin=server)
    page = context.new_page()
    log_in(page, server, "amina")
    page.goto(f"{server}/staff/voice?lang=fr")
    missing = int(page.locator("[data-missing][lang=fr]").get_attribute("data-missing"))
    row = page.locator("#p-start")
    expect(row.locator(".missing-mark")).to_be_visible()
    row.locator("[data-record]").click()
    expect(row.locator("[data-stop]")).to_be_visible()
    page.wait_for_timeout(1500)
    row.locator("[data-stop]").click()
    expect(row.locator("[data-keep]")).to_be_visible()
    expect(row.locator("[data-redo]")).to_be_visible()
    row.locator("[data-keep]").click()
    page.wait_for_load_state()
    row = page.locator("#p-start")
    expect(row.locator(".recorded-mark")).to_be_visible(timeout=15000)
    assert int(page.locator("[data-missing][lang=fr]").get_attribute("data-missing")) == missing - 1
    page.screenshot(path=artifacts / "voice-recording-fr.png")
    stored = list((server.instance / "voice" / "fr").iterdir())
    assert [path.name for path in stored] == ["start.webm"]
    assert stored[0].read_bytes()[:4] == b"\x1a\x45\xdf\xa3"

    page.goto(f"{server}/kiosk?lang=fr")
    button = page.locator("[data-listen=start]")
    expect(button).to_be_visible()
    assert button.get_attribute("data-clip").startswith("/voice/fr/start?v=")
    button.click()
    player = page.locator("audio[data-listen-player]")
    expect(player).to_have_attribute("data-prompt", "start")
    assert "/voice/fr/start?v=" in player.evaluate("audio => audio.currentSrc")
    expect(page.locator("body")).to_have_attribute("data-listened", "start", timeout=15000)
    page.screenshot(path=artifacts / "voice-listen-fr.png")
    context.close()


def test_without_a_clip_the_devices_voice_reads_the_prompt(page: Page, server, artifacts):
    page.add_init_script(FAKE_ARABIC_VOICE)
    page.goto(f"{server}/kiosk/questionnaire?lang=ar")
    button = page.locator("[data-listen=q-vaccine]")
    expect(button).to_be_visible()
    assert button.get_attribute("data-clip") is None
    button.click()
    expect(page.locator("body")).to_have_attribute("data-listened", "q-vaccine")
    spoken = page.evaluate("window.speechSynthesis.spoken")
    assert spoken == [button.get_attribute("data-say")] and "لقاح" in spoken[0]
    page.screenshot(path=artifacts / "voice-questionnaire-ar.png", full_page=True)


def test_without_a_clip_or_a_voice_there_is_no_button(page: Page, server):
    page.add_init_script(NO_VOICE)
    page.goto(f"{server}/kiosk/register?lang=ar")
    expect(page.locator("[data-listen=identity]")).to_be_hidden()
    assert page.locator("[data-listen]:visible").count() == 0


def test_without_javascript_there_is_no_button(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server}/kiosk?lang=fr")
    assert page.locator("[data-listen]").count() == 2
    assert page.locator("[data-listen]:visible").count() == 0
    context.close()


# Half a second of a tone, recorded by the browser itself as WebM/Opus (the same MediaRecorder as
# the recording page, fed by an oscillator instead of a microphone).
RECORD_A_TONE = """
async () => {
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const out = audio.createMediaStreamDestination();
  tone.connect(out);
  tone.start();
  const recorder = new MediaRecorder(out.stream, { mimeType: "audio/webm;codecs=opus" });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start();
  await new Promise((resolve) => setTimeout(resolve, 500));
  recorder.stop();
  await stopped;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  return Array.from(bytes);
}
"""


def test_the_display_calls_with_the_recorded_clips_and_the_voice_elsewhere(page: Page, server):
    page.add_init_script(NO_VOICE)
    page.goto(f"{server}/display?lang=fr")
    tone = bytes(page.evaluate(RECORD_A_TONE))
    assert tone[:4] == b"\x1a\x45\xdf\xa3"
    register(server)
    folder = server.instance / "voice" / "fr"
    folder.mkdir(parents=True, exist_ok=True)
    for prompt_id in announcement_prompts("fr", 1, "Médecin 1"):
        (folder / f"{prompt_id}.webm").write_bytes(tone)
    page.reload()
    page.locator("[data-sound-on]").click()  # the touch that lets the page make a sound
    doctor = StaffDevice(server, "driss")
    doctor.log_in()
    doctor.pick_desk("Médecin 1")
    doctor.call_next("interview")
    expect(page.locator("[data-latest-call][data-number='1']")).to_be_visible(timeout=10000)
    assert (
        page.locator("[data-latest-call]").get_attribute("data-clips-fr").count("/voice/fr/") == 4
    )
    # French from its four clips, played one after the other; the other languages have none,
    # and no voice here: their turn falls back to the browser's voice, which stays silent.
    spoken = " ".join(f"{lang}:{'clips' if lang == 'fr' else 'voice'}" for lang in LANGUAGES)
    expect(page.locator("body")).to_have_attribute("data-spoken", spoken, timeout=15000)
