/* goldloop thumbs: dependency-free feedback buttons that post through a presigned token (docs/connect.md).
 *
 *   <div data-goldloop-url="https://goldloop.example.com/api/v1/feedback/tokens/gft_..."></div>
 *   <script src="https://goldloop.example.com/api/v1/feedback/thumbs.js" async></script>
 *
 * Every element with data-goldloop-url gets a thumbs-up and a thumbs-down button; a click posts {"value": "up"} or
 * {"value": "down"} to that URL (no API key, no cookies). Elements added later: goldloop.thumbs(element[, url]).
 * Comments and corrections: goldloop.send(url, {value, comment, correction}) returns a Promise of the Response.
 * The element's data-goldloop-state becomes "sending", then "sent" or "error:<HTTP status>".
 */
(function () {
  "use strict";
  var MESSAGES = { 409: "Already sent, thanks.", 410: "This link has expired.", 429: "Please try again shortly." };

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    });
  }

  function button(value, label, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "goldloop-thumb goldloop-thumb-" + value;
    b.setAttribute("data-value", value);
    b.setAttribute("aria-label", label);
    b.title = label;
    b.textContent = text;
    return b;
  }

  function thumbs(element, url) {
    if (url) element.setAttribute("data-goldloop-url", url);
    if (element.getAttribute("data-goldloop-state")) return;
    element.setAttribute("data-goldloop-state", "ready");
    var status = document.createElement("span");
    status.className = "goldloop-status";
    status.setAttribute("role", "status");
    var buttons = [button("up", "Good answer", "\uD83D\uDC4D"), button("down", "Bad answer", "\uD83D\uDC4E")];
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        buttons.forEach(function (other) { other.disabled = true; });
        element.setAttribute("data-goldloop-state", "sending");
        send(element.getAttribute("data-goldloop-url"), { value: b.getAttribute("data-value") })
          .then(function (response) {
            if (response.ok) {
              b.setAttribute("aria-pressed", "true");
              element.setAttribute("data-goldloop-state", "sent");
              status.textContent = "Thanks for the feedback.";
            } else {
              element.setAttribute("data-goldloop-state", "error:" + response.status);
              status.textContent = MESSAGES[response.status] || "Could not send the feedback.";
              if (response.status === 429 || response.status >= 500) {
                buttons.forEach(function (other) { other.disabled = false; });
              }
            }
          })
          .catch(function () {
            element.setAttribute("data-goldloop-state", "error:network");
            status.textContent = "Could not send the feedback.";
            buttons.forEach(function (other) { other.disabled = false; });
          });
      });
      element.appendChild(b);
    });
    element.appendChild(status);
  }

  function renderAll() {
    var elements = document.querySelectorAll("[data-goldloop-url]");
    for (var i = 0; i < elements.length; i++) thumbs(elements[i]);
  }

  window.goldloop = window.goldloop || {};
  window.goldloop.thumbs = thumbs;
  window.goldloop.send = send;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderAll);
  else renderAll();
})();
