// The dashboard's behaviour that htmx attributes cannot say without eval
// (the Content-Security-Policy forbids it): error messages, the hidden-tab
// check of the live poll, the ids on screen, Escape to cancel a phone edit, a
// phone edit that could not be sent, the bulk selection.
(function () {
  "use strict";

  function showError(text) {
    var box = document.getElementById("flash");
    var line = document.getElementById("flash-text");
    if (!box || !line) {
      return;
    }
    line.textContent = text;
    box.hidden = false;
  }

  function hideError() {
    var box = document.getElementById("flash");
    if (box) {
      box.hidden = true;
    }
  }

  function describeFailure(xhr) {
    var status = xhr ? xhr.status : 0;
    if (status === 403) {
      return "Not allowed (403): you lack the permission for this, or your session expired. Reload the page and try again.";
    }
    if (status === 404) {
      return "Not found (404): this transaction no longer exists. Reload the page.";
    }
    if (status === 429) {
      return "Too many requests (429): wait a moment and try again.";
    }
    if (status >= 500) {
      return "The server failed (" + status + "). Nothing was changed by this click; try again, and tell the support team if it persists.";
    }
    var text = xhr && xhr.responseText ? xhr.responseText.slice(0, 300) : "";
    return "The request failed (" + status + ")" + (text ? ": " + text : ".");
  }

  document.addEventListener("htmx:responseError", function (event) {
    showError(describeFailure(event.detail.xhr));
  });

  document.addEventListener("htmx:sendError", function (event) {
    showError("Cannot reach the server: check the network connection. The dashboard retries on its own.");
    markUnsaved(event.detail.elt);
  });

  // A phone edit that never reached the server keeps what was typed and says so,
  // until it is saved (the row is redrawn) or Escape puts the stored number back.
  function markUnsaved(form) {
    if (!form || !form.classList || !form.classList.contains("phone-form")) {
      return;
    }
    var input = form.querySelector(".phone-input");
    if (!input) {
      return;
    }
    var note = form.querySelector(".unsaved-note");
    if (!note) {
      note = document.createElement("p");
      note.className = "field-error unsaved-note";
      note.id = input.id + "-unsaved";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    note.textContent = "Not saved: the server could not be reached. Press Enter to try again.";
    input.classList.add("unsaved");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", note.id);
  }

  function clearUnsaved(input) {
    var form = input.closest(".phone-form");
    var note = form && form.querySelector(".unsaved-note");
    if (note) {
      note.remove();
      input.classList.remove("unsaved");
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  }

  document.addEventListener("htmx:timeout", function () {
    showError("The server took too long to answer. Try again.");
  });

  document.addEventListener("htmx:swapError", function () {
    showError("The page could not show the server's answer. Reload the page.");
  });

  // A successful answer means the server is reachable again.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && event.detail.elt && event.detail.elt.id === "poll") {
      var line = document.getElementById("flash-text");
      if (line && line.textContent.indexOf("Cannot reach the server") === 0) {
        hideError();
      }
    }
  });

  // A bulk request the server took (calls queued or cancelled) is done with its
  // selection: clear it, so the next click cannot repeat it on rows no longer meant.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!event.detail.successful || !elt || !elt.closest || !elt.closest("#bulk")) {
      return;
    }
    document.querySelectorAll('input[name="ids"][form="bulk"]:checked').forEach(function (box) {
      box.checked = false;
    });
  });

  // An expired session answers with the login page (after a redirect): go there
  // instead of drawing it inside the table.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var loginUrl = document.body.dataset.loginUrl;
    var xhr = event.detail.xhr;
    if (!loginUrl || !xhr || !xhr.responseURL) {
      return;
    }
    if (new URL(xhr.responseURL).pathname === loginUrl) {
      event.detail.shouldSwap = false;
      window.location.assign(loginUrl + "?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    }
  });

  // Hidden tabs do not poll; a tab that becomes visible asks at once.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt.id === "poll" && document.visibilityState === "hidden") {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    var poll = document.getElementById("poll");
    if (poll && document.visibilityState === "visible" && window.htmx) {
      window.htmx.trigger(poll, "poll-now");
    }
  });

  // The poll says what the page shows (rows and their versions, the counts),
  // so only what differs comes back.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id !== "poll") {
      return;
    }
    var shown = [];
    var stale = [];
    document.querySelectorAll("#rows tr[data-id]").forEach(function (row) {
      shown.push(row.dataset.id + "." + (row.dataset.v || ""));
      if (row.dataset.stale) {
        stale.push(row.dataset.id);
      }
    });
    // "." and "~" travel unescaped: the quiet poll's query string stays cheap to read.
    event.detail.parameters.shown = shown.join("~");
    if (stale.length) {
      event.detail.parameters.stale = stale.join(",");
    }
    var counts = document.getElementById("counts");
    if (counts) {
      event.detail.parameters.counts = counts.dataset.counts || "";
    }
  });

  // Never replace a row while the analyst types in it, or while it holds a phone
  // that could not be saved (their save answers with the fresh row); mark it, so
  // the next poll sends it again.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    // A poll sent before a save can answer after it: never put an older
    // version of a row over a newer one.
    var incoming = event.detail.fragment && event.detail.fragment.firstElementChild;
    if (target && incoming && incoming.dataset && target.dataset.v && incoming.dataset.v &&
        Number(incoming.dataset.v) <= Number(target.dataset.v)) {
      event.detail.shouldSwap = false;
      return;
    }
    var typing = active && active.matches("input, select, textarea") && target && target.contains(active);
    var unsaved = target && target.querySelector && target.querySelector(".phone-input.unsaved");
    if (typing || unsaved) {
      event.detail.shouldSwap = false;
      target.dataset.stale = "1";
    }
  });

  // New rows on top replace the "nothing here" line and push the last rows
  // of the page off, so the page stays one page long.
  document.addEventListener("htmx:oobAfterSwap", function () {
    var rows = document.getElementById("rows");
    if (!rows) {
      return;
    }
    var all = rows.querySelectorAll("tr[data-id]");
    if (all.length) {
      rows.querySelectorAll("tr.empty-row").forEach(function (row) {
        row.remove();
      });
    }
    var size = parseInt(rows.dataset.pageSize || "0", 10);
    for (var i = size; size > 0 && i < all.length; i++) {
      all[i].remove();
    }
  });

  // Escape puts the stored number back; the unchanged input then sends nothing.
  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (event.key === "Escape" && input.classList && input.classList.contains("phone-input")) {
      input.value = input.defaultValue;
      clearUnsaved(input);
      input.blur();
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.id === "flash-close") {
      hideError();
    }
  });
})();
