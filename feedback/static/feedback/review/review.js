/* Review page: a live word-level diff of the correction against the original output, and keyboard shortcuts.
   The server renders the same diff (difflib on words) on every page load, so this is only a convenience. */
(function () {
  "use strict";
  var MAX_CELLS = 4000000; // beyond this the diff waits for the server (on save)
  var original = document.getElementById("original");
  var correction = document.getElementById("correction");
  var diff = document.getElementById("diff");

  function tokens(text) { return text.match(/\s+|[^\s]+/g) || []; }
  function esc(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function wordDiff(a, b) {
    var n = a.length, m = b.length;
    if ((n + 1) * (m + 1) > MAX_CELLS) { return null; }
    // lcs[i][j]: length of the longest common subsequence of a[i:] and b[j:], in one flat array.
    var w = m + 1, lcs = new Int32Array((n + 1) * w);
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1] + 1 : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    }
    var out = [], dels = [], inss = [];
    function flush() {
      if (dels.length) { out.push("<del>" + esc(dels.join("")) + "</del>"); dels = []; }
      if (inss.length) { out.push("<ins>" + esc(inss.join("")) + "</ins>"); inss = []; }
    }
    i = 0; j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { flush(); out.push(esc(a[i])); i++; j++; }
      else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) { dels.push(a[i++]); }
      else { inss.push(b[j++]); }
    }
    while (i < n) { dels.push(a[i++]); }
    while (j < m) { inss.push(b[j++]); }
    flush();
    return out.join("");
  }

  function refresh() {
    if (!original || !correction || !diff) { return; }
    var html = wordDiff(tokens(original.textContent), tokens(correction.value));
    if (html === null) { diff.setAttribute("data-stale", "1"); return; }
    diff.removeAttribute("data-stale");
    diff.innerHTML = html;
  }

  function pick(value) {
    var radio = document.getElementById("verdict-" + value);
    if (radio && !radio.disabled) { radio.checked = true; radio.focus(); }
  }

  if (correction) {
    correction.addEventListener("input", function () {
      refresh();
      // Editing the output means correcting it: pre-select the verdict the SME would pick anyway.
      if (correction.value !== original.textContent) { pick("corrected"); correction.focus(); }
    });
  }

  function click(id) { var b = document.getElementById(id); if (b) { b.click(); } }
  document.addEventListener("keydown", function (e) {
    var tag = e.target.tagName, typing = tag === "TEXTAREA" || (tag === "INPUT" && e.target.type === "text");
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") { e.preventDefault(); click("save-next"); return; }
    if (e.key === "Escape" && typing) { e.target.blur(); return; }
    if (typing || tag === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    var verdicts = { "1": "correct", "2": "corrected", "3": "invalid" };
    if (verdicts[e.key]) { e.preventDefault(); pick(verdicts[e.key]); }
    else if (e.key === "s") { e.preventDefault(); click("save"); }
    else if (e.key === "n") { e.preventDefault(); click("skip"); }
  });
})();
