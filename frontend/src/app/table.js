// The register table (风险清单): the units in view or matching the filters, sortable and
// paged, with CSV export of exactly the rows it lists, in its order.
import { h, replace, debounce, fmtNumber } from '../lib/dom.js';
import { badge, grade } from '../lib/grades.js';
import { STATUS, fmtDate, overdueDays } from '../lib/labels.js';
import '../css/register.css';
import { filterParams } from '../lib/unitlayer.js';
import { query } from '../lib/api.js';
import { exportMenu } from './documents.js';

const PAGE = 50;
const FETCH = 1000;
// Rows the table gathers by itself so that sorting and export cover every match; past it,
// "加载更多" fetches on (the server sorts by id only).
const AUTO_ROWS = 5000;

/** csvCell quotes a value for CSV and defuses spreadsheet formulas (=, +, -, @ first). */
export function csvCell(v) {
  let s = v == null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}

export class RegisterTable {
  constructor({ api, app, bottom, ctx, onRow, onImport }) {
    Object.assign(this, { api, app, bottom, ctx, onRow, onImport });
    this.open = false;
    this.viewOnly = false; // the whole filtered selection, as the sidebar counts it; "仅当前视图范围" narrows it
    this.rows = [];
    this.matched = 0;
    this.next = null;
    this.sort = { key: 'grade', dir: 1 };
    this.page = 0;
    this.seq = 0;
    const short = (code) => {
      const full = ctx.regionName(code);
      const m = /^(.*?)（/.exec(full);
      return m ? m[1].split(' / ').pop() : full;
    };
    this.columns = [
      { key: 'code', label: '编号', get: (p) => p.code },
      { key: 'name', label: '名称', get: (p) => p.name, cls: 'col-name' },
      { key: 'category', label: '行业领域', get: (p) => ctx.categoryLabel(p.category) },
      { key: 'grade', label: '风险等级', get: (p) => grade(p.grade).label, sortVal: (p) => grade(p.grade).rank, render: (p) => badge(p.grade) },
      { key: 'risk_value', label: '风险值', get: (p) => p.risk_value, num: true },
      { key: 'region', label: '所属区域', get: (p) => short(p.region_code) },
      { key: 'responsible_department', label: '监管部门', get: (p) => p.responsible_department },
      { key: 'responsible_unit', label: '责任单位', get: (p) => p.responsible_unit },
      { key: 'status', label: '状态', get: (p) => STATUS[p.status] || p.status },
      { key: 'open_hazards', label: '未销号隐患', get: (p) => (p.open_hazards > 0 ? p.open_hazards : null), num: true,
        render: (p) => (p.open_hazards > 0 ? h('span.hz-open-count', { title: `${p.open_hazards} 条未销号隐患` }, String(p.open_hazards)) : '') },
      { key: 'next_review_due', label: '下次复核', get: (p) => p.next_review_due || '',
        render: (p) => {
          const late = overdueDays(p.next_review_due);
          return late ? h('span.overdue', { title: `已逾期 ${late} 天未复核` }, fmtDate(p.next_review_due), h('small', `逾期 ${fmtNumber(late)} 天`)) : fmtDate(p.next_review_due);
        } },
    ];
    this.onMove = debounce(() => this.open && this.viewOnly && this.load(), 300);
    app.map.on('moveend', this.onMove);
  }

  toggle() {
    if (this.open) this.close();
    else this.show();
  }

  show() {
    this.open = true;
    this.bottom.hidden = false;
    this.bottom.dataset.kind = 'register';
    document.body.classList.add('bottom-open');
    this.app.map.invalidateSize();
    this.render();
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

  params() {
    const p = { ...filterParams(this.app.state.filters), limit: FETCH };
    if (this.viewOnly) {
      const b = this.app.map.getBounds();
      const c = (v, lo, hi) => Math.max(lo, Math.min(hi, v)).toFixed(6);
      p.bbox = [c(b.getWest(), -180, 180), c(b.getSouth(), -90, 90), c(b.getEast(), -180, 180), c(b.getNorth(), -90, 90)].join(',');
    }
    return p;
  }

  async load(more = false) {
    const seq = ++this.seq;
    this.loading = true;
    this.render();
    let fc;
    try {
      if (this.app.state.filters.empty) fc = { features: [], numberMatched: 0 };
      else fc = more && this.next ? await this.api.next(this.next) : await this.api.units(this.params());
    } catch (e) {
      if (seq === this.seq) {
        this.loading = false;
        this.error = e.message;
        this.render();
      }
      return;
    }
    if (seq !== this.seq) return;
    let rows = more ? this.rows.concat(fc.features) : fc.features;
    let err = null;
    try {
      while (fc.next && rows.length < AUTO_ROWS) {
        fc = await this.api.next(fc.next);
        if (seq !== this.seq) return;
        rows = rows.concat(fc.features);
      }
    } catch (e) {
      err = e.message;
    }
    this.error = err;
    this.loading = false;
    this.rows = rows;
    this.matched = fc.numberMatched;
    this.next = fc.next || null;
    if (!more) this.page = 0;
    this.sortRows();
    this.render();
  }

  sortRows() {
    const col = this.columns.find((c) => c.key === this.sort.key) || this.columns[0];
    const val = col.sortVal || col.get;
    const dir = this.sort.dir;
    this.rows.sort((a, b) => {
      const x = val(a.properties);
      const y = val(b.properties);
      if (x == null && y == null) return a.id - b.id;
      if (x == null) return 1;
      if (y == null) return -1;
      const r = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), 'zh-CN', { numeric: true });
      return r ? r * dir : a.id - b.id;
    });
  }

  setSort(key) {
    this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
    this.sortRows();
    this.page = 0;
    this.render();
  }

  exportCSV() {
    const head = [...this.columns.map((c) => c.label), '地址'];
    const lines = [head.map(csvCell).join(',')];
    for (const f of this.rows) lines.push([...this.columns.map((c) => c.get(f.properties)), f.properties.address].map(csvCell).join(','));
    // The byte-order mark makes Excel read the file as UTF-8.
    const blob = new Blob(['\ufeff' + lines.join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
    const a = document.createElement('a');
    const d = new Date();
    const stamp = `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
    a.href = URL.createObjectURL(blob);
    a.download = `风险清单-${stamp}.csv`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  render() {
    if (!this.open) return;
    const pages = Math.max(1, Math.ceil(this.rows.length / PAGE));
    this.page = Math.min(this.page, pages - 1);
    const slice = this.rows.slice(this.page * PAGE, (this.page + 1) * PAGE);
    const status = this.error
      ? h('span.error', `加载失败：${this.error}`)
      : this.loading
        ? h('span.muted', '正在加载…')
        : h('span', `共 ${fmtNumber(this.matched)} 个单元`, this.rows.length < this.matched ? `，已加载 ${fmtNumber(this.rows.length)} 个（排序与导出作用于已加载的单元）` : '');
    const viewBox = h('input', { type: 'checkbox', checked: this.viewOnly, onchange: (e) => { this.viewOnly = e.target.checked; this.load(); } });
    const cellClass = (c) => [c.cls, c.num ? 'num' : ''].filter(Boolean).join(' ') || null;
    const head = h('tr', this.columns.map((c) => {
      const sorted = this.sort.key === c.key;
      return h('th', { class: cellClass(c), 'aria-sort': sorted ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none' },
        h('button.sort', { type: 'button', onclick: () => this.setSort(c.key), dataset: { key: c.key } },
          c.label, h('span.sort-mark', sorted ? (this.sort.dir > 0 ? ' ▲' : ' ▼') : '')));
    }));
    const body = slice.length
      ? slice.map((f) => h('tr', { dataset: { id: f.id }, class: overdueDays(f.properties.next_review_due) ? 'overdue' : null, tabindex: 0, onclick: () => this.onRow(f), onkeydown: (e) => e.key === 'Enter' && this.onRow(f) },
        this.columns.map((c) => {
          const v = c.get(f.properties);
          // data-label names the cell where a phone shows a row as a card (app.css).
          return h('td', { class: cellClass(c), dataset: v == null || v === '' ? { key: c.key, label: c.label, empty: '1' } : { key: c.key, label: c.label } }, c.render ? c.render(f.properties) : (v ?? ''));
        })))
      : h('tr', h('td.empty', { colspan: this.columns.length }, this.loading ? '' : '当前范围内没有符合条件的风险单元'));
    replace(
      this.bottom,
      h('div.bottom-head',
        h('h2', '风险清单'),
        h('label.check', viewBox, '仅当前视图范围'),
        h('div.table-status', status),
        // On a phone the rows are cards without a header row: the order is chosen here.
        h('select.sort-select', { 'aria-label': '排序', onchange: (e) => { const [key, dir] = e.target.value.split(':'); this.sort = { key, dir: Number(dir) }; this.sortRows(); this.page = 0; this.render(); } },
          this.columns.flatMap((c) => [1, -1].map((dir) => h('option', { value: `${c.key}:${dir}`, selected: this.sort.key === c.key && this.sort.dir === dir },
            `按${c.label}${dir > 0 ? (c.key === 'grade' ? '（高→低）' : '（升序）') : (c.key === 'grade' ? '（低→高）' : '（降序）')}`)))),
        this.next ? h('button.btn.btn-small', { type: 'button', onclick: () => this.load(true) }, '加载更多') : null,
        h('button.btn.btn-small', { type: 'button', onclick: () => this.exportCSV(), disabled: !this.rows.length, dataset: { action: 'csv' } }, `导出 CSV（${fmtNumber(this.rows.length)} 条）`),
        // Every match, written by the server (GET /api/v1/units.csv with the same filters).
        this.matched > this.rows.length
          ? h('a.btn.btn-small', { href: `/api/v1/units.csv?${query({ ...this.params(), limit: null, lang: 'zh-CN' })}`, download: '', dataset: { action: 'server-csv' } }, `导出全部 ${fmtNumber(this.matched)} 条（服务器生成）`)
          : null,
        // The Excel 风险清单 of every match (the server writes it), and the import.
        exportMenu(() => ({ ...this.params(), limit: null })),
        this.onImport ? h('button.btn.btn-small', { type: 'button', onclick: () => this.onImport(), dataset: { action: 'import' } }, '导入 Excel') : null,
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×')),
      h('div.table-wrap', h('table.register', h('thead', head), h('tbody', body))),
      h('div.pager',
        h('button.btn.btn-small', { type: 'button', disabled: this.page === 0, onclick: () => { this.page--; this.render(); } }, '上一页'),
        h('span', `第 ${this.page + 1} / ${pages} 页`),
        h('button.btn.btn-small', { type: 'button', disabled: this.page >= pages - 1, onclick: () => { this.page++; this.render(); } }, '下一页')),
    );
  }
}
