// Draws the dashboard's charts with Chart.js (served beside this file). The server puts the chart
// specifications, built from the same report numbers as the page's tables, in a JSON data block
// (#chart-data): { charts: [{ canvas, type, labels, datasets, stacked, horizontal }] }.
(function () {
  'use strict';
  const block = document.getElementById('chart-data');
  if (!block || typeof Chart === 'undefined') return;
  const spec = JSON.parse(block.textContent || '{}');
  const palette = ['#2f6f5e', '#e0912f', '#4a78b5', '#b5484a', '#7a5ea8', '#6b8e23', '#8c8c8c', '#c06c9a'];
  (spec.charts || []).forEach(function (c) {
    const canvas = document.getElementById(c.canvas);
    if (!canvas) return;
    const datasets = c.datasets.map(function (d, i) {
      const color = d.color || palette[i % palette.length];
      return { label: d.label, data: d.data, stack: d.stack, backgroundColor: color, borderColor: color, borderWidth: c.type === 'line' ? 2 : 0, tension: 0.2 };
    });
    new Chart(canvas, {
      type: c.type,
      data: { labels: c.labels, datasets: datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        indexAxis: c.horizontal ? 'y' : 'x',
        plugins: { legend: { position: 'bottom' }, title: { display: !!c.title, text: c.title } },
        scales: {
          x: { stacked: !!c.stacked, beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: !!c.stacked, beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  });
})();
