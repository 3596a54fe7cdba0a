// The wall display: a chime and a spoken announcement, in Arabic and French, for each new call
// and recall. Where the browser has no voice for a language, the chime plays alone.
(function () {
  "use strict";
  var announced = null;
  var audio = null;

  function chime() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      [659.25, 880].forEach(function (frequency, index) {
        var start = audio.currentTime + index * 0.35;
        var tone = audio.createOscillator();
        var volume = audio.createGain();
        tone.frequency.value = frequency;
        volume.gain.setValueAtTime(0.0001, start);
        volume.gain.exponentialRampToValueAtTime(0.4, start + 0.02);
        volume.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
        tone.connect(volume).connect(audio.destination);
        tone.start(start);
        tone.stop(start + 0.65);
      });
    } catch (error) { /* no sound card: the screen still shows the call */ }
  }

  function speak(call) {
    if (!("speechSynthesis" in window)) { return; }
    var voices = window.speechSynthesis.getVoices();
    ["ar", "fr"].forEach(function (language) {
      var text = call.dataset["say" + language.charAt(0).toUpperCase() + language.slice(1)];
      var voice = voices.find(function (v) { return v.lang.toLowerCase().indexOf(language) === 0; });
      if (!text || !voice) { return; }
      var utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      window.speechSynthesis.speak(utterance);
    });
  }

  function announceIfNew() {
    var call = document.querySelector("[data-latest-call]");
    var id = call ? call.dataset.latestCall : "";
    if (announced === null) { announced = id; return; }  // what was on screen at load is old news
    if (id && id !== announced) {
      announced = id;
      document.body.dataset.announced = id;
      chime();
      setTimeout(function () { speak(call); }, 1300);
    }
  }

  // Browsers keep a page silent until someone touches it once.
  var soundButton = document.querySelector("[data-sound-on]");
  if (soundButton) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      chime();
      soundButton.hidden = true;
    });
  }
  document.body.addEventListener("htmx:afterSettle", announceIfNew);
  announceIfNew();
})();
