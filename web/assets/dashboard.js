// The dashboard's charts (Chart.js, bundled by build.mjs from npm): the figures come from the page's
// data-chart attribute (no inline script: CSP); the same numbers are in the tables below the charts.
import Chart from "chart.js/auto";

const data = JSON.parse(document.getElementById("kpi-data").dataset.chart);
const colours = ["#0b5cad", "#1a7f37", "#9a6700", "#b42318", "#6639ba"];
const common = { responsive: true, maintainAspectRatio: false, animation: false };

function draw(id, config) {
  const canvas = document.getElementById(id);
  if (canvas) new Chart(canvas, config);
}

draw("chart-rates", {
  type: "bar",
  data: { labels: data.labels, datasets: data.rates.map((set, i) => ({ ...set, backgroundColor: colours[i] })) },
  options: { ...common, scales: { y: { min: 0, max: 100, title: { display: true, text: data.percent } } } },
});
draw("chart-breaches", {
  type: "bar",
  data: { labels: data.labels, datasets: data.breaches.map((set, i) => ({ ...set, backgroundColor: colours[i] })) },
  options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
});
draw("chart-open", {
  type: "bar",
  data: { labels: data.open_labels, datasets: [{ label: data.open_label, data: data.open, backgroundColor: colours[0] }] },
  options: { ...common, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
});
document.documentElement.dataset.chartsReady = "1";
