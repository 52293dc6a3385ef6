// Charts of the resumption statistics page (/resumption). The page is
// complete without this file: every figure is in its tables. When ECharts
// is loaded, this draws the charts described by the JSON element
// #resumption-chart-data into their containers and shows them.
// Loaded as a file because the Content-Security-Policy forbids inline
// scripts.
"use strict";

(function () {
  function start() {
    var box = document.getElementById("resumption-charts-box");
    var src = document.getElementById("resumption-chart-data");
    if (!box || !src || typeof window.echarts === "undefined") return;
    var specs;
    try {
      specs = JSON.parse(src.textContent);
    } catch (e) {
      return;
    }
    if (!Array.isArray(specs) || specs.length === 0) return;
    box.hidden = false;
    var charts = [];
    specs.forEach(function (spec) {
      var el = document.getElementById(spec.id);
      if (!el || !spec.categories || spec.categories.length === 0) {
        if (el && el.parentNode) el.parentNode.hidden = true;
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      var unit = spec.unit || "";
      chart.setOption({
        title: { text: spec.title, left: "center", textStyle: { fontSize: 14 } },
        tooltip: {
          trigger: "axis",
          // A day or group without reports is null: a gap, shown as "—".
          valueFormatter: function (v) { return v == null || v === "-" ? "—" : v + unit; }
        },
        legend: { bottom: 0, type: "scroll", itemWidth: 14, itemHeight: 10, itemGap: 16 },
        grid: { left: 8, right: 8, top: 40, bottom: 40, containLabel: true },
        xAxis: {
          type: "category",
          data: spec.categories,
          axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 45 : 0 }
        },
        yAxis: {
          type: "value",
          max: unit === "%" ? function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); } : null,
          axisLabel: { formatter: "{value}" + unit }
        },
        series: (spec.series || []).map(function (s) {
          return {
            name: s.name,
            type: spec.type === "line" ? "line" : "bar",
            data: s.data,
            label: spec.type === "bar" && spec.categories.length <= 6
              ? { show: true, position: "top", fontSize: 10, formatter: "{c}" + unit }
              : undefined
          };
        })
      });
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
