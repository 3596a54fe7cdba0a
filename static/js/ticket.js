// The ticket's page left open on the donor's phone: a sound and a vibration when two donors or
// fewer are ahead, and again when the donor is called (the page then names the desk). Phones play
// sound only after a tap, so the donor turns the alerts on once; without JavaScript the page
// still refreshes itself and shows the same words.
(function () {
  "use strict";
  var panel = document.querySelector("[data-alerts]");
  var sound = document.getElementById("turn-sound");
  var seen = read();

  function read() {
    var status = document.getElementById("status");
    if (!status) { return null; }
    return { stage: status.dataset.status, ahead: parseInt(status.dataset.ahead || "0", 10) };
  }

  function waiting(state) {
    return state.stage === "waiting_interview" || state.stage === "waiting_collection";
  }

  function called(state) {
    return state.stage === "interview" || state.stage === "collection";
  }

  function ring() {
    if (sound) {
      sound.pause();  // from the start, even while the last alert still plays
      sound.currentTime = 0;
      var playing = sound.play();
      if (playing && playing.catch) { playing.catch(function () { /* not allowed yet */ }); }
    }
    if (navigator.vibrate) { navigator.vibrate([300, 150, 300]); }
  }

  function alert(kind) {
    document.body.dataset.alerted = kind;
    ring();
  }

  function compare() {
    var now = read();
    if (now && seen) {
      if (called(now) && !called(seen)) {
        alert("called");
      } else if (waiting(now) && now.ahead <= 2 && (now.stage !== seen.stage || seen.ahead > 2)) {
        alert("soon");
      }
    }
    seen = now;
  }

  if (panel && sound) {
    panel.hidden = false;
    var button = panel.querySelector("[data-alerts-on]");
    button.addEventListener("click", function () {
      ring();  // the tap lets the phone play the sound later, and lets the donor hear it now
      button.hidden = true;
      panel.querySelector("[data-alerts-are-on]").hidden = false;
    });
  }
  document.body.addEventListener("htmx:afterSettle", compare);
})();
