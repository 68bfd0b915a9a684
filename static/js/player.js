// The simulated player (templates/catalog/player.html). No video: a clock that advances
// while "playing", a seek bar, keyboard control, and a heartbeat to the server every 5 s
// (and on pause, seek and leaving the page) so viewing history and Resume stay current.
// An episode with an intro marker offers "Skip intro" while the position is inside it; the end
// of an episode with a next one counts down (data-countdown seconds) and then plays it, unless
// the viewer cancels (the button, Escape, or playing/seeking again).
(function () {
  "use strict";

  var HEARTBEAT_MS = 5000;
  var TICK_MS = 250;
  var SEEK_STEP = 10;

  function fmt(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  function init(player) {
    var q = function (role) { return player.querySelector('[data-role="' + role + '"]'); };
    var duration = parseInt(player.dataset.duration, 10) || 0;
    var position = Math.min(parseInt(player.dataset.position, 10) || 0, duration);
    var playing = false;
    var lastTick = 0;
    var lastSent = -1;
    var sending = false;
    var tickTimer = null;
    var beatTimer = null;

    var toggle = q("toggle");
    var toggleIcon = q("toggle-icon");
    var seek = q("seek");
    var elapsed = q("elapsed");
    var total = q("total");
    var status = q("status");
    var end = q("end");
    var skipIntro = q("skip-intro");
    var introStart = parseInt(player.dataset.introStart, 10);
    var introEnd = parseInt(player.dataset.introEnd, 10);
    var hasIntro = skipIntro && !isNaN(introStart) && !isNaN(introEnd) && introStart < introEnd;
    var countdownBox = q("countdown");
    var countdownText = q("countdown-text");
    var countdownCancel = q("countdown-cancel");
    var countdownFrom = parseInt(player.dataset.countdown, 10) || 0;
    var countdownTimer = null;
    var countdownLeft = 0;

    function render() {
      seek.value = String(Math.floor(position));
      seek.setAttribute("aria-valuetext", fmt(position) + " of " + fmt(duration));
      elapsed.textContent = fmt(position);
      total.textContent = fmt(duration);
      toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
      toggleIcon.textContent = playing ? "\u275A\u275A" : "\u25B6";
      player.classList.toggle("is-playing", playing);
      player.dataset.state = playing ? "playing" : (position >= duration ? "ended" : "paused");
      player.dataset.current = String(Math.floor(position));
      if (hasIntro) {
        var inIntro = position >= introStart && position < introEnd;
        if (!inIntro && skipIntro === document.activeElement) toggle.focus();
        skipIntro.hidden = !inIntro;
      }
    }

    function showCountdown() {
      countdownText.textContent = "Next episode in " + countdownLeft + " s";
      player.dataset.countdownLeft = String(countdownLeft);
    }

    function startCountdown() {
      if (!player.dataset.nextUrl || !countdownBox || countdownFrom <= 0 || countdownTimer) return;
      countdownLeft = countdownFrom;
      countdownBox.hidden = false;
      player.dataset.countdownState = "running";
      showCountdown();
      countdownTimer = window.setInterval(function () {
        countdownLeft -= 1;
        if (countdownLeft <= 0) {
          window.clearInterval(countdownTimer);
          countdownTimer = null;
          player.dataset.countdownState = "done";
          window.location.assign(player.dataset.nextUrl);
          return;
        }
        showCountdown();
      }, 1000);
    }

    function cancelCountdown(message) {
      if (!countdownTimer) return false;
      window.clearInterval(countdownTimer);
      countdownTimer = null;
      countdownBox.hidden = true;
      player.dataset.countdownState = "cancelled";
      if (message) say(message);
      return true;
    }

    function say(text) { status.textContent = text; }

    function heartbeat(force) {
      var pos = Math.floor(position);
      if (!duration || sending || (!force && pos === lastSent)) return;
      var body = new URLSearchParams();
      body.set("episode", player.dataset.episode || "");
      // Watching together: the other profiles' ids, so the viewing is kept for each of them.
      if (player.dataset.together) body.set("together", player.dataset.together);
      body.set("position_seconds", String(pos));
      body.set("duration_seconds", String(duration));
      sending = true;
      fetch(player.dataset.heartbeatUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": player.dataset.csrf, "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString(),
        keepalive: true,
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          lastSent = pos;
          if (data) player.dataset.recorded = data.recorded ? "true" : "false";
        })
        .catch(function () { /* offline for a moment: the next beat carries the position */ })
        .then(function () { sending = false; });
    }

    function tick() {
      var now = Date.now();
      position = Math.min(duration, position + (now - lastTick) / 1000);
      lastTick = now;
      if (position >= duration) finish();
      render();
    }

    function play() {
      if (playing) return;
      if (position >= duration) position = 0;
      cancelCountdown();
      if (end.contains(document.activeElement)) toggle.focus();
      end.hidden = true;
      playing = true;
      lastTick = Date.now();
      tickTimer = window.setInterval(tick, TICK_MS);
      beatTimer = window.setInterval(function () { heartbeat(false); }, HEARTBEAT_MS);
      say("Playing");
      render();
    }

    function pause(message) {
      if (!playing) return;
      playing = false;
      window.clearInterval(tickTimer);
      window.clearInterval(beatTimer);
      say(message || "Paused");
      heartbeat(true);
      render();
    }

    function finish() {
      position = duration;
      pause("Finished");
      say("Finished");  // also when it got here paused (seeking to the end)
      end.hidden = false;
      var next = q("next");
      (next || end.querySelector("a")).focus();
      startCountdown();
    }

    function seekTo(seconds) {
      position = Math.max(0, Math.min(duration, seconds));
      if (position < duration && cancelCountdown()) {
        // Focus was on the end screen's "Next episode" link: keep it in the player, not on <body>.
        if (end.contains(document.activeElement)) toggle.focus();
        end.hidden = true;
      }
      if (playing) lastTick = Date.now();
      render();
      heartbeat(true);
      if (position >= duration) finish();
    }

    toggle.addEventListener("click", function () { playing ? pause() : play(); });
    if (hasIntro) {
      skipIntro.addEventListener("click", function () {
        seekTo(introEnd);
        say("Intro skipped");
      });
    }
    if (countdownCancel) {
      countdownCancel.addEventListener("click", function () {
        cancelCountdown("Countdown cancelled: the next episode will not start by itself");
        var next = q("next");
        if (next) next.focus();
      });
    }
    document.addEventListener("keydown", function (event) {
      // Escape stops the countdown wherever focus is (it is a page-wide "stay here").
      if (event.key !== "Escape" || !countdownTimer) return;
      cancelCountdown("Countdown cancelled: the next episode will not start by itself");
      var next = q("next");
      if (next && player.contains(document.activeElement)) next.focus();
      event.preventDefault();
    });
    seek.addEventListener("input", function () { seekTo(parseInt(seek.value, 10) || 0); });
    player.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var onSeek = event.target === seek;
      if (event.key === " " || event.key === "k") {
        if (event.target.tagName === "A") return;
        playing ? pause() : play();
      } else if (event.key === "ArrowRight" && !onSeek) {
        seekTo(position + SEEK_STEP);
      } else if (event.key === "ArrowLeft" && !onSeek) {
        seekTo(position - SEEK_STEP);
      } else if (event.key === "Home" && !onSeek) {
        seekTo(0);
      } else {
        return;
      }
      event.preventDefault();
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") heartbeat(true);
    });
    window.addEventListener("pagehide", function () { heartbeat(true); });

    if (position > 0) say("Ready to resume at " + fmt(position));
    render();
    player.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".player[data-heartbeat-url]").forEach(init);
  });
})();
