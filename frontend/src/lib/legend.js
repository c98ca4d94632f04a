// The legend: the four grades in their colours with the number of units of each grade in
// the current view (and filters), counted by the server from the spatial index.
import L from './leaflet.js';
import { h, replace, fmtNumber, debounce } from './dom.js';
import { GRADE_CODES, grade, swatch } from './grades.js';
import { filterParams } from './unitlayer.js';

export class Legend {
  /**
   * api is an Api; getFilters returns the current filters. mode is 'units' or 'regions'.
   */
  constructor(map, api, getFilters) {
    this.map = map;
    this.api = api;
    this.getFilters = getFilters;
    this.mode = 'units';
    this.seq = 0;
    // On a phone the legend starts folded to one line of counts; its title unfolds it.
    this.collapsed = window.matchMedia('(max-width: 720px)').matches;
    this.control = L.control({ position: 'bottomright' });
    this.control.onAdd = () => {
      this.el = h('div.legend.leaflet-bar', { 'aria-label': '图例' });
      L.DomEvent.disableClickPropagation(this.el);
      L.DomEvent.disableScrollPropagation(this.el);
      this.render({});
      return this.el;
    };
    this.control.addTo(map);
    this.refresh = debounce(() => this.count(), 250);
    map.on('moveend', this.refresh);
  }

  setMode(mode, level) {
    const changed = mode !== this.mode || level !== this.level;
    this.mode = mode;
    this.level = level;
    if (changed) this.counts = {};
    this.render(this.counts || {});
  }

  render(counts, total) {
    const f = this.mode === 'regions' ? {} : this.getFilters();
    const regional = this.mode === 'regions';
    const title = regional ? `区域风险等级 · ${this.level || ''}` : '风险单元等级';
    const rows = GRADE_CODES.map((code) => {
      const g = grade(code);
      const off = f.grades && !f.grades.includes(code);
      return h(
        `div.legend-row${off ? '.off' : ''}`,
        { dataset: { grade: code } },
        swatch(code, this.mode === 'regions' ? 'box' : 'dot'),
        h('span.legend-label', `${g.short_label}风险`),
        h('span.legend-colour', g.colour_name),
        h('span.legend-count', { title: regional ? '当前视图内区域数' : '当前视图内单元数' }, off ? '—' : counts[code] == null ? '…' : fmtNumber(counts[code])),
      );
    });
    const sum = GRADE_CODES.reduce((n, c) => n + (counts[c] || 0), 0);
    this.el.classList.toggle('collapsed', this.collapsed);
    replace(
      this.el,
      h('button.legend-title', {
        type: 'button',
        'aria-expanded': String(!this.collapsed),
        title: this.collapsed ? '展开图例' : '收起图例',
        onclick: () => {
          this.collapsed = !this.collapsed;
          this.render(counts, total);
        },
      }, title, h('span.legend-fold', { 'aria-hidden': 'true' }, this.collapsed ? '▸' : '▾')),
      h('div.legend-sub', regional ? '视图内各等级区域数' : '视图内各等级风险单元数'),
      rows,
      h('div.legend-total', h('span', '合计'), h('span.legend-count', fmtNumber(total ?? sum))),
      regional
        ? h('div.legend-note', '区域等级按单元加权指数汇总，点击区域查看依据')
        : h('div.legend-note', h('span.cluster-sample'), '聚合点：数字为单元数，颜色为其中最高等级'),
    );
  }

  /** count asks the server how many units of each grade lie in view. */
  async count() {
    if (!this.el) return;
    const seq = ++this.seq;
    if (this.mode === 'regions' && this.regionCounter) {
      let counts;
      try {
        counts = await this.regionCounter(this.map.getBounds());
      } catch {
        return;
      }
      if (seq !== this.seq) return;
      this.counts = counts;
      this.render(counts);
      this.el.dataset.ready = '1';
      return;
    }
    const f = this.getFilters();
    const b = this.map.getBounds();
    const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
    const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
      .map((v) => v.toFixed(6))
      .join(',');
    const params = filterParams(f);
    const counts = {};
    if (f.empty) {
      for (const g of GRADE_CODES) counts[g] = 0;
      this.counts = counts;
      this.render(counts);
      return;
    }
    try {
      await Promise.all(
        GRADE_CODES.map(async (code) => {
          if (f.grades && !f.grades.includes(code)) return;
          const fc = await this.api.units({ ...params, grade: code, bbox, limit: 1 });
          counts[code] = fc.numberMatched;
        }),
      );
    } catch {
      return;
    }
    if (seq !== this.seq) return;
    this.counts = counts;
    this.render(counts);
    this.el.dataset.ready = '1';
  }
}
