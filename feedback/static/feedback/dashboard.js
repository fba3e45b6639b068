/* Draws the monitoring dashboard's charts from the JSON in #dashboard-data (Chart.js, served from vendor/). */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var palette = ["#417690", "#ba2121", "#e5a823", "#2a7a2a", "#7b4fa0", "#c05f1c", "#1f8a8a", "#8a8a1f", "#555555"];

  function datasets(kind, by) {
    var groups = data.by[by] || {};
    return Object.keys(groups).sort().map(function (name, index) {
      var color = palette[index % palette.length];
      return {
        label: name,
        data: groups[name][kind],
        borderColor: color,
        backgroundColor: kind === "rate" ? color : color + "cc",
        spanGaps: true,
        cubicInterpolationMode: "monotone",
        pointRadius: 2,
      };
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var kind = canvas.dataset.chart;
    var rate = kind === "rate";
    new Chart(canvas, {
      type: rate ? "line" : "bar",
      data: { labels: data.labels, datasets: datasets(kind, canvas.dataset.by) },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: !rate, ticks: { maxTicksLimit: 12 } },
          y: rate
            ? { min: 0, max: 1, ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } }
            : { stacked: true, beginAtZero: true },
        },
        plugins: {
          legend: { position: "bottom" },
          tooltip: rate ? { callbacks: { label: function (c) { return c.dataset.label + ": " + (c.parsed.y * 100).toFixed(1) + "%"; } } } : {},
        },
      },
    });
  });
  window.goldloopChartsRendered = document.querySelectorAll("canvas[data-chart]").length;
})();
