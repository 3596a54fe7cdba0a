// The coordinator's recording page: record a prompt from the device's microphone, listen, keep
// or redo. Without this file (or without a microphone) each prompt still takes an uploaded file.
(function () {
  "use strict";
  if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var csrf = document.querySelector("input[name=csrf_token]");
  var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"];
  var mimeType = types.find(function (type) { return MediaRecorder.isTypeSupported(type); }) || "";

  function show(panel, names) {
    ["record", "stop", "take", "keep", "redo"].forEach(function (name) {
      panel.querySelector("[data-" + name + "]").hidden = names.indexOf(name) < 0;
    });
  }

  function setUp(panel) {
    var recorder = null;
    var chunks = [];
    var take = null;
    var state = panel.querySelector("[data-recorder-state]");
    var preview = panel.querySelector("[data-take]");
    panel.hidden = false;

    function record() {
      navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
        chunks = [];
        // 48 kbit/s Opus: a clear voice, and a minute and a half within the 512 kB a clip may be.
        var options = { audioBitsPerSecond: 48000 };
        if (mimeType) { options.mimeType = mimeType; }
        recorder = new MediaRecorder(stream, options);
        recorder.addEventListener("dataavailable", function (event) {
          if (event.data.size) { chunks.push(event.data); }
        });
        recorder.addEventListener("stop", function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          take = new Blob(chunks, { type: recorder.mimeType || mimeType || "audio/webm" });
          preview.src = URL.createObjectURL(take);
          state.textContent = "";
          show(panel, ["take", "keep", "redo"]);
        });
        recorder.start();
        panel.dataset.recording = "yes";
        state.textContent = "●";
        show(panel, ["stop"]);
      }).catch(function () {
        state.textContent = "✗";
        show(panel, ["record"]);
      });
    }

    panel.querySelector("[data-record]").addEventListener("click", record);
    panel.querySelector("[data-redo]").addEventListener("click", record);
    panel.querySelector("[data-stop]").addEventListener("click", function () {
      delete panel.dataset.recording;
      if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    });
    panel.querySelector("[data-keep]").addEventListener("click", function () {
      if (!take) { return; }
      var form = new FormData();
      form.append("csrf_token", csrf ? csrf.value : "");
      form.append("clip", take, "clip." + (take.type.indexOf("ogg") >= 0 ? "ogg" : "webm"));
      state.textContent = "…";
      fetch(panel.dataset.saveUrl, { method: "POST", body: form, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          document.body.dataset.clipKept = panel.closest("[data-prompt]").dataset.prompt;
          if (response.url === window.location.href.split("#")[0]) {
            window.location.reload();
          } else {
            window.location.assign(response.url);
          }
        })
        .catch(function () { state.textContent = "✗"; });
    });
    show(panel, ["record"]);
  }

  document.querySelectorAll("[data-recorder]").forEach(setUp);
})();
