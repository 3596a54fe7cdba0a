// The kiosk's "listen" buttons (templates/_listen.html): the prompt's recorded clip if there is
// one, else the device's own voice for the page's language; with neither, the button stays hidden.
(function () {
  "use strict";
  var player = null;
  var synthesis = "speechSynthesis" in window ? window.speechSynthesis : null;

  function voiceFor(language) {
    if (!synthesis) { return null; }
    return synthesis.getVoices().find(function (voice) {
      return voice.lang.toLowerCase().split(/[-_]/)[0] === language;
    }) || null;
  }

  function refresh() {
    document.querySelectorAll("[data-listen]").forEach(function (button) {
      button.hidden = !(button.dataset.clip || voiceFor(button.dataset.lang));
    });
  }

  function stop() {
    if (player) { player.pause(); }
    if (synthesis) { synthesis.cancel(); }
  }

  function play(button) {
    stop();
    document.body.dataset.listening = button.dataset.listen;
    if (button.dataset.clip) {
      if (!player) {
        player = document.createElement("audio");
        player.setAttribute("data-listen-player", "");
        player.preload = "auto";
        player.addEventListener("ended", function () {
          document.body.dataset.listened = player.dataset.prompt;
        });
        document.body.appendChild(player);
      }
      player.dataset.prompt = button.dataset.listen;
      player.src = button.dataset.clip;
      var started = player.play();
      if (started && started.catch) { started.catch(function () { /* no sound device */ }); }
      return;
    }
    var voice = voiceFor(button.dataset.lang);
    if (!voice) { return; }
    var utterance = new SpeechSynthesisUtterance(button.dataset.say);
    utterance.voice = voice;
    utterance.lang = voice.lang;
    utterance.addEventListener("end", function () {
      document.body.dataset.listened = button.dataset.listen;
    });
    synthesis.speak(utterance);
    document.body.dataset.spoken = button.dataset.listen;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-listen]") : null;
    if (button) { play(button); }
  });
  if (synthesis && synthesis.addEventListener) {
    synthesis.addEventListener("voiceschanged", refresh);
  }
  // A step of the wizard swapped in: its buttons too; and the voice stops with the old step.
  document.body.addEventListener("htmx:beforeSwap", stop);
  document.body.addEventListener("htmx:afterSettle", refresh);
  refresh();
})();
