// Statistics (统计分析): units by grade × category and by grade × region for the current
// filters, as stacked bars in the four grade colours.
import { h, replace, fmtNumber } from '../lib/dom.js';
import { GRADE_CODES, grade, swatch } from '../lib/grades.js';

export class StatsView {
  constructor({ api, app, bottom, getCatalog }) {
    Object.assign(this, { api, app, bottom, getCatalog });
    this.open = false;
    this.seq = 0;
    // The bars narrow when a drawer opens beside them: numbers show only where they fit.
    new ResizeObserver(() => this.open && fitSegments(this.bottom)).observe(this.bottom);
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  show() {
    this.open = true;
    this.bottom.hidden = false;
    this.bottom.dataset.kind = 'stats';
    document.body.classList.add('bottom-open');
    this.app.map.invalidateSize();
    replace(this.bottom, h('div.bottom-head', h('h2', '统计分析'), h('span.muted', '正在统计…')));
    this.load();
  }

  close() {
    if (!this.open) return;
    this.open = false;
    this.bottom.hidden = true;
    this.bottom.replaceChildren();
    document.body.classList.remove('bottom-open');
    this.app.map.invalidateSize();
  }

  reloadIfOpen() {
    if (this.open) this.load();
  }

  async load() {
    const seq = ++this.seq;
    const f = this.app.state.filters;
    const regions = await this.app.regionsP;
    // With one district and no region chosen, break the city down by its streets.
    let region = f.region || '';
    if (!region && regions.district.features.length === 1) region = regions.district.features[0].properties.code;
    let data;
    try {
      data = f.empty ? { total: {}, by_category: [], by_region: [] } : await this.api.stats({ region, category: f.categories });
    } catch (e) {
      if (seq === this.seq) replace(this.bottom, h('div.bottom-head', h('h2', '统计分析'), h('span.error', `统计失败：${e.message}`)));
      return;
    }
    if (seq !== this.seq || !this.open) return;
    this.render(data, f.grades || GRADE_CODES);
  }

  render(data, gradesOn) {
    const keep = (r) => {
      const o = { ...r, total: 0 };
      for (const g of GRADE_CODES) {
        o[g] = gradesOn.includes(g) ? Number(r[g]) || 0 : 0;
        o.total += o[g];
      }
      return o;
    };
    const total = keep(data.total || {});
    const cats = (data.by_category || []).map(keep).filter((r) => r.total > 0).sort((a, b) => b.total - a.total);
    const regs = (data.by_region || []).map(keep).sort((a, b) => b.total - a.total);
    const groups = new Map((this.getCatalog().groups || []).map((g) => [g.code, g.label]));
    const legend = h('div.chart-legend', GRADE_CODES.filter((g) => gradesOn.includes(g)).map((g) => h('span', swatch(g), grade(g).label)));
    replace(
      this.bottom,
      h('div.bottom-head',
        h('h2', '统计分析'),
        h('div.stat-cards', h('div.stat-card.total', h('span', '单元总数'), h('strong', fmtNumber(total.total))),
          GRADE_CODES.map((g) => h('div.stat-card', { style: { borderTopColor: grade(g).fill }, dataset: { grade: g } }, h('span', grade(g).label), h('strong', gradesOn.includes(g) ? fmtNumber(total[g]) : '—')))),
        legend,
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      h('div.charts',
        h('section.chart', { dataset: { chart: 'category' } }, h('h3', '按行业领域 × 风险等级'), bars(cats, (r) => r.label || r.category, (r) => groups.get(r.group) || '')),
        h('section.chart', { dataset: { chart: 'region' } }, h('h3', '按区域 × 风险等级'), bars(regs, (r) => r.name || r.code, () => ''))),
    );
    fitSegments(this.bottom);
  }
}

/** fitSegments writes each bar segment's count in it only where the whole number fits (the row's title has them all). */
function fitSegments(root) {
  const segs = [...root.querySelectorAll('.seg')];
  for (const seg of segs) seg.textContent = seg.dataset.n;
  const cut = segs.filter((seg) => seg.scrollWidth > seg.clientWidth);
  for (const seg of cut) seg.textContent = '';
}

/** bars draws one stacked horizontal bar per row, scaled to the largest total. */
function bars(rows, label, sub) {
  if (!rows.length) return h('p.muted', '没有符合条件的风险单元');
  const max = Math.max(...rows.map((r) => r.total), 1);
  return h('div.bars', rows.map((r) =>
    h('div.bar-row', { title: `${label(r)}：${GRADE_CODES.map((g) => `${grade(g).short_label} ${r[g]}`).join('，')}，合计 ${r.total}` },
      h('div.bar-label', h('span', label(r)), sub(r) ? h('small', sub(r)) : null),
      h('div.bar-track', h('div.bar-stack', { style: { width: `${(100 * r.total) / max}%` } },
        GRADE_CODES.filter((g) => r[g] > 0).map((g) => h('span.seg', { style: { flexGrow: String(r[g]), background: grade(g).fill, borderColor: grade(g).outline }, dataset: { grade: g, n: String(r[g]) } }, String(r[g]))))),
      h('div.bar-total', fmtNumber(r.total)))));
}
