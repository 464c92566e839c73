/* Close analytics: draws the page's charts from the JSON the view embeds (#analytics-data).
 * The same numbers are in the tables under each chart; the charts only make them visible.
 * Animation is off so the charts are complete as soon as the page has loaded. */
(function () {
  "use strict";
  var source = document.getElementById("analytics-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#417690", "#e0a800", "#ba2121", "#5b8c5a", "#8e6bb8", "#d9822b", "#3b9eb0", "#9c7a54", "#777777"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) {
      return;
    }
    canvas.parentNode.style.position = "relative";
    canvas.style.height = "260px";
    new Chart(canvas, config);
    canvas.setAttribute("data-drawn", "1");
  }

  function bar(id, series, horizontal) {
    draw(id, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [{ label: data.closes_label, data: series.counts, backgroundColor: palette }],
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        plugins: { legend: { display: false } },
        scales: { x: { ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } },
      },
    });
  }

  draw("chart-reasons", {
    type: "doughnut",
    data: { labels: data.reasons.labels, datasets: [{ data: data.reasons.counts, backgroundColor: palette }] },
    options: { plugins: { legend: { position: "right" } } },
  });
  bar("chart-stages", data.stages, false);
  draw("chart-over_time", {
    type: "line",
    data: {
      labels: data.over_time.labels,
      datasets: [{ label: data.closes_label, data: data.over_time.counts, borderColor: palette[0], fill: false }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("chart-costs", {
    type: "bar",
    data: {
      labels: data.costs.labels,
      datasets: [{ label: data.costs.name, data: data.costs.values, backgroundColor: palette }],
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } } },
  });
  draw("chart-cost_over_time", {
    type: "line",
    data: {
      labels: data.cost_over_time.labels,
      datasets: [{ label: data.costs.name, data: data.cost_over_time.values, borderColor: palette[2], fill: false }],
    },
    options: { plugins: { legend: { display: false } } },
  });
  bar("chart-suppliers", data.suppliers, true);
  bar("chart-skus", data.skus, true);
  document.body.setAttribute("data-charts-drawn", "1");
})();
