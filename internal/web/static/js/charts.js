// Charts of the statistics pages (/resumption, the testing rounds). A page
// is complete without this file: every figure is in its tables. When
// ECharts is loaded, this draws the charts described by the JSON element
// #chart-data (a list of {id, type: bar|line, title, categories, series:
// [{name, data}], unit}) into their containers in #charts-box and shows
// them.
// Loaded as a file because the Content-Security-Policy forbids inline
// scripts.
//
// Labels never overlap, on a 360 px phone as on a desktop: a category
// label wraps onto lines as wide as its share of the axis (and is cut with
// "…" after three), a long axis of dates shows every few dates level,
// values are written over the bars only when the bars are wide enough,
// the legend wraps onto rows instead of scrolling, and ECharts hides
// whatever label would still collide. The options are
// built again when the chart's width changes (a phone turned sideways).
"use strict";

(function () {
  var yAxisRoom = 48; // px the value axis takes, roughly
  var measurer = document.createElement("canvas").getContext("2d");

  // legendRows is how many rows the legend of names takes in width px: it
  // wraps rather than scrolls, so that no name hides under the pager.
  function legendRows(names, width, fontSize, gap) {
    measurer.font = fontSize + "px sans-serif";
    var rows = 1, x = 0;
    names.forEach(function (name) {
      var w = 14 + 5 + measurer.measureText(name).width * 1.1;
      if (x > 0 && x + w > width) {
        rows++;
        x = 0;
      }
      x += w + gap;
    });
    return rows;
  }

  // wrap breaks s into lines of at most n characters, three at most.
  function wrap(s, n) {
    var chars = Array.from(String(s));
    if (chars.length <= n) return String(s);
    var lines = [];
    for (var i = 0; i < chars.length && lines.length < 3; i += n) {
      lines.push(chars.slice(i, i + n).join(""));
    }
    if (chars.length > 3 * n) {
      var last = Array.from(lines[2]);
      lines[2] = last.slice(0, Math.max(1, n - 1)).join("") + "…";
    }
    return lines.join("\n");
  }

  // options are the ECharts options of spec drawn width px wide.
  function options(spec, width) {
    var unit = spec.unit || "";
    var n = spec.categories.length;
    var narrow = width < 480;
    var fontSize = narrow ? 11 : 12;
    var perCategory = Math.max(1, (width - yAxisRoom - 16) / n);
    var axisLabel;
    if (spec.type === "line" || perCategory < 2.5 * fontSize) {
      // Dates, or too many categories to name each: ECharts picks which to
      // show so that none collide.
      axisLabel = { interval: "auto", hideOverlap: true, rotate: 0, fontSize: fontSize };
    } else {
      var perLine = Math.max(2, Math.floor((perCategory - 6) / fontSize));
      axisLabel = {
        // A line as tall as the font's glyph box, so lines never touch.
        interval: 0, rotate: 0, fontSize: fontSize, lineHeight: Math.ceil(fontSize * 1.5),
        formatter: function (v) { return wrap(v, perLine); }
      };
    }
    var series = spec.series || [];
    // A value over each bar when a bar is wide enough for the longest
    // value ("100.0%", or a head count such as "194974").
    var barWidth = perCategory * 0.8 / Math.max(1, series.length);
    var valueFont = narrow ? 9 : 10;
    var longest = unit ? 5 : 4;
    series.forEach(function (s) {
      (s.data || []).forEach(function (v) {
        if (v != null) longest = Math.max(longest, String(v).length + unit.length);
      });
    });
    var showValues = spec.type === "bar" && barWidth >= longest * valueFont * 0.62;
    var gap = narrow ? 10 : 16;
    var rows = legendRows(series.map(function (s) { return s.name; }), width - 16, fontSize, gap);
    return {
      title: { text: spec.title, left: "center", textStyle: { fontSize: 14, width: width - 16, overflow: "break" } },
      tooltip: {
        trigger: "axis",
        confine: true,
        // A day or group without reports is null: a gap, shown as "—".
        valueFormatter: function (v) { return v == null || v === "-" ? "—" : v + unit; }
      },
      legend: { bottom: 0, left: "center", width: width - 16, itemWidth: 14, itemHeight: 10, itemGap: gap, textStyle: { fontSize: fontSize } },
      grid: { left: 8, right: narrow ? 12 : 8, top: 40, bottom: 14 + rows * (Math.ceil(fontSize * 1.5) + gap), containLabel: true },
      xAxis: { type: "category", data: spec.categories, axisLabel: axisLabel },
      yAxis: {
        type: "value",
        max: unit === "%" ? function (v) { return Math.max(100, Math.ceil(v.max / 10) * 10); } : null,
        axisLabel: { formatter: "{value}" + unit, fontSize: fontSize, hideOverlap: true }
      },
      series: series.map(function (s) {
        return {
          name: s.name,
          type: spec.type === "line" ? "line" : "bar",
          data: s.data,
          label: showValues ? { show: true, position: "top", fontSize: valueFont, formatter: "{c}" + unit } : { show: false },
          labelLayout: { hideOverlap: true }
        };
      })
    };
  }

  function start() {
    var box = document.getElementById("charts-box");
    var src = document.getElementById("chart-data");
    if (!box || !src || typeof window.echarts === "undefined") return;
    var specs;
    try {
      specs = JSON.parse(src.textContent);
    } catch (e) {
      return;
    }
    if (!Array.isArray(specs) || specs.length === 0) return;
    box.hidden = false;
    var drawn = [];
    specs.forEach(function (spec) {
      var el = document.getElementById(spec.id);
      if (!el || !spec.categories || spec.categories.length === 0) {
        if (el && el.parentNode) el.parentNode.hidden = true;
        return;
      }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      var width = el.clientWidth;
      chart.setOption(options(spec, width));
      drawn.push({ chart: chart, spec: spec, el: el, width: width });
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (d) {
        var width = d.el.clientWidth;
        if (width !== d.width) {
          d.width = width;
          d.chart.setOption(options(d.spec, width), { replaceMerge: ["series"] });
        }
        d.chart.resize();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
