// The statistics page's charts (Apache ECharts, vendored); the tables below hold the same data.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("stats-data").textContent);
  const names = JSON.parse(document.getElementById("stats-labels").textContent);
  const stages = ["report", "determine", "rectify", "verify", "closed"];
  const draw = (id, option) => {
    const el = document.getElementById(id);
    const chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(Object.assign({ animation: false, tooltip: { trigger: "axis" },
                                    grid: { left: 48, right: 16, top: 40, bottom: 32 } }, option));
    window.addEventListener("resize", () => chart.resize());
    el.dataset.drawn = "1";
  };
  const towns = Object.keys(data.towns);
  draw("chart-towns", {
    legend: { top: 0 }, xAxis: { type: "category", data: towns }, yAxis: { type: "value", minInterval: 1 },
    series: stages.map((s) => ({ name: names.stages[s], type: "bar", stack: "all",
                                 data: towns.map((t) => data.towns[t][s] || 0) })),
  });
  draw("chart-stages", {
    xAxis: { type: "category", data: data.stages.map((s) => names.stages[s.stage] || s.stage) },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ name: names.rate, type: "bar",
               data: data.stages.map((s) => s.on_time_rate == null ? 0 : Math.round(s.on_time_rate * 1000) / 10) }],
  });
  const months = [...new Set(Object.values(data.demolished).flatMap((m) => Object.keys(m)))].sort();
  draw("chart-demolished", {
    legend: { top: 0 }, xAxis: { type: "category", data: months }, yAxis: { type: "value" },
    series: Object.keys(data.demolished).map((t) => ({ name: t, type: "line",
                                                       data: months.map((m) => data.demolished[t][m] || 0) })),
  });
  draw("chart-cameras", {
    xAxis: { type: "category", data: data.cameras.map((c) => c.camera) },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{ name: names["false"], type: "bar",
               data: data.cameras.map((c) => c.rate == null ? 0 : Math.round(c.rate * 1000) / 10) }],
  });
})();
