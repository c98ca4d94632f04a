// The charts of 统计图表 (hidden dangers), drawn with Apache ECharts: only the bar chart,
// the grid, the tooltip and the canvas renderer are imported (echarts/core), and the module
// is loaded when the tab is first opened. Tooltips are drawn on the canvas (renderMode
// richText), so no label from the server ever goes into the page as markup.
import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { h } from '../lib/dom.js';

echarts.use([BarChart, GridComponent, TooltipComponent, CanvasRenderer]);

/** chartBox is the section a chart is drawn in (data-chart names it). */
export function chartBox(key, title) {
  return h('section.admin-section.hz-chart', { dataset: { chart: key } }, h('h3', title), h('div.hz-chart-canvas'), h('p.hz-chart-empty.muted', { hidden: true }, '暂无数据'));
}

/**
 * drawBars draws rows ([label, value] or [label, value, colour]) as horizontal bars in the
 * chart box key of root.
 * The values are also kept on the box (data-values, JSON) for the tests and screen readers'
 * table below it.
 */
export function drawBars(root, key, rows, { unit = '', max = null, colour = '#0a6ed1', sort = true } = {}) {
  const box = root.querySelector(`[data-chart="${key}"]`);
  const el = box.querySelector('.hz-chart-canvas');
  box.dataset.values = JSON.stringify(rows);
  if (!rows.length) {
    el.hidden = true;
    box.querySelector('.hz-chart-empty').hidden = false;
    return null;
  }
  // The largest first, from the top (or in the given order, e.g. the warning levels).
  rows = (sort ? rows.slice().sort((a, b) => b[1] - a[1]) : rows.slice()).slice(0, 30).reverse();
  el.style.height = `${Math.max(120, 28 * rows.length + 40)}px`;
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  chart.setOption({
    animation: false,
    grid: { left: 8, right: 48, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, renderMode: 'richText', valueFormatter: (v) => `${v}${unit}` },
    xAxis: { type: 'value', max: max ?? undefined, minInterval: unit === '%' ? 0 : 1, axisLabel: { formatter: unit === '%' ? '{value}%' : '{value}' } },
    yAxis: { type: 'category', data: rows.map((r) => r[0]), axisLabel: { width: 140, overflow: 'truncate' } },
    series: [{ type: 'bar', data: rows.map((r) => r[1]), itemStyle: { color: (p) => rows[p.dataIndex][2] || colour }, barMaxWidth: 18, label: { show: true, position: 'right', formatter: unit === '%' ? '{c}%' : '{c}' } }],
  });
  const ro = new ResizeObserver(() => chart.resize());
  ro.observe(el);
  return chart;
}
