// The wall display: a chime and a spoken announcement in each language of the kiosk, for each new
// call and recall: the team's recorded clips (kiosk/web/voice.py) where they are all there, else
// the browser's voice; where it has none for a language either, the chime plays alone.
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

  // The languages of the kiosk in turn: the team's recorded clips where every word of the call
  // is recorded (the number composed from its words, then the desk), else the browser's voice.
  function playClips(urls, done) {
    if (!urls.length) { done(); return; }
    var clip = new Audio(urls[0]);
    var next = function () { playClips(urls.slice(1), done); };
    clip.addEventListener("ended", next, { once: true });
    clip.addEventListener("error", next, { once: true });
    var started = clip.play();
    if (started && started.catch) { started.catch(next); }
  }

  function sayWithVoice(text, language, done) {
    var voices = "speechSynthesis" in window ? window.speechSynthesis.getVoices() : [];
    var voice = voices.find(function (v) { return v.lang.toLowerCase().split(/[-_]/)[0] === language; });
    if (!text || !voice) { done(); return; }
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.voice = voice;
    utterance.lang = voice.lang;
    utterance.addEventListener("end", done);
    utterance.addEventListener("error", done);
    window.speechSynthesis.speak(utterance);
  }

  function speak(call) {
    var languages = (call.dataset.languages || "").split(" ").filter(Boolean);
    var spoken = [];
    (function next() {
      var language = languages.shift();
      if (!language) { document.body.dataset.spoken = spoken.join(" "); return; }
      var clips = call.getAttribute("data-clips-" + language);
      if (clips) {
        spoken.push(language + ":clips");
        playClips(clips.split(" "), next);
      } else {
        spoken.push(language + ":voice");
        sayWithVoice(call.getAttribute("data-say-" + language), language, next);
      }
    })();
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
