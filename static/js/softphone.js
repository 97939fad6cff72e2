// The simulator's softphone: polls the call's state, shows and speaks the bank's words,
// sends the person's answers. The call itself runs on the server's worker.
(function () {
  "use strict";

  const root = document.getElementById("softphone");
  if (!root) return;

  const $ = (id) => document.getElementById(id);
  const stateUrl = root.dataset.stateUrl;
  const callBase = root.dataset.callUrl; // .../softphone/
  const csrf = root.dataset.csrf;
  const POLL_MS = 1000;

  let current = null; // the call on screen
  let ringingSid = null;
  let spokenLines = 0;
  let shownLines = 0;
  let turnKey = null; // identifies the question being answered
  let turnStarted = 0; // when the prompt finished and the timeout began
  let turnTimeout = 0;
  let typingSent = false;

  function showError(message) {
    const el = $("sp-error");
    el.textContent = message;
    el.hidden = !message;
  }

  async function post(sid, action, data) {
    const body = new URLSearchParams(data || {});
    try {
      const response = await fetch(callBase + encodeURIComponent(sid) + "/" + action, {
        method: "POST",
        headers: { "X-CSRFToken": csrf },
        body: body,
        credentials: "same-origin",
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        showError(answer.error || "The server refused that (" + response.status + ").");
        return null;
      }
      showError("");
      return answer;
    } catch (e) {
      showError("Could not reach the server: " + e.message);
      return null;
    }
  }

  function speak(text) {
    if (!$("sp-speak").checked || !("speechSynthesis" in window)) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = "en-IN";
    window.speechSynthesis.speak(utterance);
  }

  function renderTranscript(lines) {
    const list = $("sp-transcript");
    if (lines.length < shownLines) {
      list.replaceChildren();
      shownLines = 0;
    }
    for (let i = shownLines; i < lines.length; i++) {
      const li = document.createElement("li");
      li.className = "who-" + lines[i].who;
      li.textContent = lines[i].text;
      list.appendChild(li);
      if (i >= spokenLines && lines[i].who === "bank") speak(lines[i].text);
    }
    shownLines = lines.length;
    spokenLines = Math.max(spokenLines, lines.length);
    list.scrollTop = list.scrollHeight;
  }

  function suggestionsFor(awaiting) {
    const hints = (awaiting.hints || "")
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean);
    const picks = [];
    for (const h of hints) {
      if (!picks.includes(h)) picks.push(h);
      if (picks.length === 6) break;
    }
    return picks.length ? picks : ["yes", "no"];
  }

  function renderTurn(call) {
    const turn = $("sp-turn");
    const awaiting = call.awaiting;
    if (!awaiting || call.replied || call.ended) {
      turn.hidden = true;
      turnKey = null;
      return;
    }
    const key = call.sid + ":" + awaiting.turn;
    if (key !== turnKey) {
      turnKey = key;
      turnStarted = 0;
      turnTimeout = awaiting.timeout || 5;
      typingSent = false;
      $("sp-say").value = "";
      const box = $("sp-suggestions");
      box.replaceChildren();
      if ((awaiting.input || []).includes("speech")) {
        for (const s of suggestionsFor(awaiting)) {
          const b = document.createElement("button");
          b.type = "button";
          b.textContent = s;
          b.addEventListener("click", () => sendReply({ speech: s }));
          box.appendChild(b);
        }
      }
      $("sp-say-form").hidden = !(awaiting.input || []).includes("speech");
      $("sp-keypad").hidden = !(awaiting.input || []).includes("dtmf");
      turn.hidden = false;
      $("sp-say").focus();
    }
    if (awaiting.prompt_done && !turnStarted) turnStarted = Date.now();
    const left = Math.max(0, turnTimeout - (Date.now() - turnStarted) / 1000);
    let hint = "You may answer now, even while the bank is still speaking.";
    if (typingSent) hint = "Listening…";
    else if (turnStarted) hint = "Your turn: " + Math.ceil(left) + " s before the bank hears silence.";
    $("sp-countdown").textContent = hint;
  }

  function render(state) {
    const call = state.call;
    const ringing = state.ringing || [];
    const onCall = call && (!call.ended || (current && current.sid === call.sid));
    ringingSid = ringing.length ? ringing[0].sid : null;

    $("sp-ringing").hidden = !ringingSid || (call && !call.ended);
    if (ringingSid) $("sp-ringing-to").textContent = ringing[0].to;
    $("sp-call").hidden = !onCall;
    $("sp-idle").hidden = Boolean(ringingSid) || Boolean(onCall);

    if (!onCall) return;
    if (!current || current.sid !== call.sid) {
      shownLines = 0;
      spokenLines = 0;
      $("sp-transcript").replaceChildren();
    }
    current = call;
    $("sp-call-to").textContent = call.to;
    $("sp-call-state").textContent = call.state;
    renderTranscript(call.transcript);
    renderTurn(call);
    $("sp-hangup").hidden = call.ended;
    $("sp-ended").hidden = !call.ended;
  }

  async function poll() {
    if (document.hidden) return;
    try {
      const response = await fetch(stateUrl, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 403 || response.redirected) {
        showError("You are not logged in as an analyst any more; reload the page.");
        return;
      }
      if (!response.ok) {
        showError("The softphone could not refresh (" + response.status + ").");
        return;
      }
      render(await response.json());
    } catch (e) {
      showError("Could not reach the server: " + e.message);
    }
  }

  async function sendReply(data) {
    if (!current) return;
    $("sp-turn").hidden = true;
    if (await post(current.sid, "reply", data)) current.replied = true;
    poll();
  }

  $("sp-answer").addEventListener("click", async () => {
    if (!ringingSid) return;
    const answer = await post(ringingSid, "answer");
    if (answer) render({ ringing: [], call: answer.call });
  });

  $("sp-hangup").addEventListener("click", async () => {
    if (current) await post(current.sid, "hangup");
    poll();
  });

  $("sp-say-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const words = $("sp-say").value.trim();
    if (words) sendReply({ speech: words });
  });

  $("sp-say").addEventListener("input", () => {
    if (!typingSent && current && $("sp-say").value.trim()) {
      typingSent = true;
      post(current.sid, "speaking");
    }
  });

  $("sp-keypad").addEventListener("click", (event) => {
    const key = event.target.closest("button[data-key]");
    if (key) sendReply({ digits: key.dataset.key });
  });

  $("sp-silent").addEventListener("click", () => {
    $("sp-turn").hidden = true;
  });

  document.addEventListener("visibilitychange", poll);
  poll();
  setInterval(poll, POLL_MS);
})();
