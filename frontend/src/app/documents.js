// The register's documents: the Excel 风险清单 out (导出 Excel menu), in (the import dialog:
// upload → check with progress → problems by row and column, the marked copy → 确认导入 →
// written), the 城市安全风险评估报告 (PDF / Word) and the map as an image. The server writes
// every file; the page only builds the links with the map's filters and drives the import
// job (POST /api/v1/imports, GET /api/v1/imports/{id}, …/commit, DELETE).
import { h, replace, fmtNumber } from '../lib/dom.js';
import { query, ApiError } from '../lib/api.js';
import { mapImageURL } from '../lib/mapimage.js';
import '../css/documents.css';

/** TEMPLATE is the import template the server writes. */
export const TEMPLATE = '/api/v1/templates/units.xlsx';

/**
 * liveLink is a link whose address is worked out when it is used (hovered, focused or
 * clicked), so it always carries the map's current filters and view.
 */
export function liveLink(tag, href, label, attrs = {}) {
  const a = h(tag, { href: href(), ...attrs }, label);
  const set = () => (a.href = href());
  for (const ev of ['mouseenter', 'focus', 'pointerdown', 'click']) a.addEventListener(ev, set);
  return a;
}

/**
 * menu is a small drop-down (a <details>): its summary is the button, its items links. It
 * closes when an item is chosen or when the page is clicked elsewhere.
 */
export function menu(label, items, attrs = {}) {
  const d = h('details.menu', attrs, h('summary.btn.btn-small', label), h('div.menu-items', { role: 'menu' }, items));
  d.addEventListener('click', (e) => {
    if (e.target.closest('.menu-items a, .menu-items button')) setTimeout(() => (d.open = false), 0);
  });
  if (!menuListener) {
    menuListener = (e) => {
      for (const m of document.querySelectorAll('details.menu[open]')) if (!m.contains(e.target)) m.open = false;
    };
    document.addEventListener('click', menuListener);
  }
  return d;
}
let menuListener = null;

/**
 * exportMenu is the register's 导出 Excel menu: params() are the list's filters (as the
 * CSV link takes them). withTemplate adds 下载导入模板.
 */
export function exportMenu(params, { withTemplate = true } = {}) {
  const url = (extra) => () => `/api/v1/units.xlsx?${query({ ...params(), ...extra })}`;
  const item = (href, label, action, title) => liveLink('a.menu-item', href, label, { download: '', role: 'menuitem', dataset: { action }, title });
  return menu('导出 Excel', [
    item(url({}), '风险清单（.xlsx）', 'xlsx', '当前筛选条件下的全部单元，一张工作表'),
    item(url({ sheets: 'category' }), '按行业大类分表', 'xlsx-sheets', '每个行业大类一张工作表'),
    item(url({ with: 'hazards' }), '双清单（风险清单 + 隐患清单）', 'xlsx-dual', '风险清单与隐患清单在同一个工作簿中'),
    withTemplate ? h('a.menu-item', { href: TEMPLATE, download: '', role: 'menuitem', dataset: { action: 'template' } }, '下载导入模板') : null,
  ], { dataset: { menu: 'export' } });
}

/**
 * reportLinks are 生成评估报告（PDF / Word） and 导出地图图片 for the map's current filters
 * (filters()) and view (app.map): what the report and the image cover.
 */
export function reportLinks(app, filters) {
  const image = () => mapImageURL(app, '', filters());
  return [
    liveLink('a.btn.btn-small', () => `/api/v1/report.pdf?${query(filters())}`, '生成评估报告（PDF）', { download: '', dataset: { action: 'report-pdf' }, title: '城市安全风险评估报告，按当前筛选条件生成，用于阅读和打印' }),
    liveLink('a.btn.btn-small', () => `/api/v1/report.docx?${query(filters())}`, '生成评估报告（Word）', { download: '', dataset: { action: 'report-docx' }, title: '同一份报告的 Word 版，供进一步编辑' }),
    liveLink('a.btn.btn-small', image, '导出地图图片', { download: '', dataset: { action: 'map-png' }, title: '当前视图范围的四色图（PNG），可粘贴到演示文稿' }),
  ];
}

const STATUS = {
  checking: '正在检查',
  checked: '检查完成',
  committing: '正在导入',
  done: '导入完成',
  failed: '导入失败',
  cancelled: '已取消',
};

// A problem's message may repeat its place ("第 12 行「风险等级」：…"): the table has columns for it.
const placePrefix = /^第\s*\d+\s*行(「[^」]*」)?[:：]\s*/;

/**
 * ImportDialog is the import of an Excel 风险清单: choose a file, the server checks it
 * whole (progress), the problems by row and column and the marked copy, then 确认导入 (all
 * or nothing) or 取消 at any time. onDone() runs when units were written.
 */
export class ImportDialog {
  constructor({ api, onDone }) {
    Object.assign(this, { api, onDone });
    this.el = null;
    this.job = null;
    this.timer = null;
    this.seq = 0;
  }

  open() {
    if (this.el) return;
    this.job = null;
    this.error = null;
    this.busy = false;
    this.file = null;
    this.box = h('div.modal.import-dialog', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'import-title' });
    this.el = h('div.modal-backdrop', this.box);
    this.onKey = (e) => e.key === 'Escape' && this.cancel();
    document.addEventListener('keydown', this.onKey);
    document.body.appendChild(this.el);
    this.render();
  }

  /** close takes the dialog away (the job, if any, is left to the server's cancel). */
  close() {
    this.seq++;
    clearTimeout(this.timer);
    if (this.el) this.el.remove();
    document.removeEventListener('keydown', this.onKey);
    this.el = null;
  }

  /** cancel cancels a job that has not finished (nothing is written) and closes. */
  async cancel() {
    const job = this.job;
    this.close();
    if (job && !['done', 'failed', 'cancelled'].includes(job.status)) {
      try {
        await this.api.request('DELETE', `/imports/${encodeURIComponent(job.id)}`);
      } catch {
        /* the job may have ended already */
      }
    }
  }

  async upload() {
    if (!this.file) return;
    const seq = ++this.seq;
    const fd = new FormData();
    fd.append('file', this.file, this.file.name);
    this.busy = true;
    this.error = null;
    this.render();
    try {
      this.job = await this.api.form('/imports', fd);
    } catch (e) {
      if (seq !== this.seq) return;
      this.busy = false;
      this.error = e instanceof ApiError && e.fields.length ? [e.message, ...e.fields.map((f) => f.message)].join('；') : e.message;
      this.render();
      return;
    }
    if (seq !== this.seq) return;
    this.busy = false;
    this.render();
    this.poll(seq);
  }

  /** poll follows the job while the server works on it. */
  poll(seq) {
    clearTimeout(this.timer);
    if (!this.job || !['checking', 'committing'].includes(this.job.status)) return;
    this.timer = setTimeout(async () => {
      if (seq !== this.seq) return;
      try {
        const job = await this.api.get(`/imports/${encodeURIComponent(this.job.id)}`);
        if (seq !== this.seq) return;
        const wasWriting = this.job.status === 'committing';
        this.job = job;
        if (wasWriting && job.status === 'done' && this.onDone) this.onDone(job);
      } catch (e) {
        if (seq !== this.seq) return;
        this.error = e.message;
      }
      this.render();
      this.poll(seq);
    }, 300);
  }

  async commit() {
    const seq = this.seq;
    this.busy = true;
    this.render();
    try {
      const job = await this.api.post(`/imports/${encodeURIComponent(this.job.id)}/commit`);
      if (seq !== this.seq) return;
      const before = this.job.status;
      this.job = job && job.status ? job : { ...this.job, status: 'committing' };
      if (before !== 'done' && this.job.status === 'done' && this.onDone) this.onDone(this.job);
    } catch (e) {
      if (seq !== this.seq) return;
      this.error = e.message;
    }
    this.busy = false;
    this.render();
    this.poll(seq);
  }

  /** restart goes back to choosing a file (after fixing it). */
  restart() {
    const job = this.job;
    this.seq++;
    clearTimeout(this.timer);
    if (job && job.status === 'checked') this.api.request('DELETE', `/imports/${encodeURIComponent(job.id)}`).catch(() => {});
    this.job = null;
    this.file = null;
    this.error = null;
    this.render();
  }

  render() {
    if (!this.el) return;
    const job = this.job;
    const status = job ? job.status : 'choose';
    this.box.dataset.status = status;
    const done = ['done', 'failed', 'cancelled'].includes(status);
    const parts = [];
    if (!job) {
      const input = h('input', { type: 'file', accept: '.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', name: 'file', 'aria-label': '选择 Excel 文件',
        onchange: (e) => { this.file = e.target.files[0] || null; this.render(); } });
      parts.push(
        h('p.hint', '请使用风险清单模板（.xlsx）填写：已有的风险编号更新该单元（生成新修订，须经审核），新的编号建为草稿；风险等级由评估输入计算。上传后先完整检查，确认后一次性导入（全部成功或全部不导入）。'),
        // The browser's own file button speaks the browser's language: this one is Chinese.
        h('div.import-choose', h('label.btn.file-pick', input, '选择 Excel 文件…'),
          h('span.import-file', this.file ? `已选择：${this.file.name}（${fmtSize(this.file.size)}）` : '未选择文件'),
          h('a', { href: TEMPLATE, download: '', dataset: { action: 'template' } }, '下载导入模板')),
      );
    } else {
      parts.push(h('div.import-state', h('strong', STATUS[status] || status), this.file ? h('span.muted', ` · ${this.file.name}`) : null));
      parts.push(progress(job));
      if (status !== 'checking') parts.push(counts(job));
      if (job.problem_count > 0 || (job.problems && job.problems.length)) parts.push(...this.problems(job));
      if (status === 'checked' && !job.problem_count) {
        parts.push(h('p.import-ok', job.creates + job.updates > 0
          ? `检查通过：确认后将新增 ${fmtNumber(job.creates)} 个草稿、更新 ${fmtNumber(job.updates)} 个单元（新修订须经审核）。`
          : '检查通过，但没有需要导入的变化。'));
      }
      if (status === 'done') {
        parts.push(h('p.import-ok.import-result', `导入完成：新增 ${fmtNumber(job.creates)} 个草稿，更新 ${fmtNumber(job.updates)} 个单元，${fmtNumber(job.unchanged)} 个未变。新增与更新的单元须提交审核后才会发布。`));
      }
      if (status === 'failed') parts.push(h('p.error', `导入失败，未写入任何数据${job.error ? `：${job.error}` : '。'}`));
      if (status === 'cancelled') parts.push(h('p.muted', '导入已取消，未写入任何数据。'));
    }
    if (this.error) parts.push(h('p.error.import-error', { role: 'alert' }, this.error));
    const canCommit = status === 'checked' && !job.problem_count && job.creates + job.updates > 0;
    replace(this.box,
      h('div.modal-head', h('h2#import-title', '导入风险清单（Excel）'),
        h('button.icon-btn', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.cancel() }, '×')),
      h('div.modal-body', parts),
      h('div.modal-foot',
        !job ? h('button.btn.btn-primary', { type: 'button', disabled: !this.file || this.busy, onclick: () => this.upload(), dataset: { action: 'upload' } }, this.busy ? '正在上传…' : '上传并检查') : null,
        status === 'checked' ? h('button.btn', { type: 'button', onclick: () => this.restart(), dataset: { action: 'again' } }, '重新选择文件') : null,
        status === 'checked' ? h('button.btn.btn-primary', { type: 'button', disabled: !canCommit || this.busy, onclick: () => this.commit(), dataset: { action: 'commit' },
          title: job.problem_count ? '请先改正全部问题后重新上传' : null }, '确认导入') : null,
        done ? h('button.btn', { type: 'button', onclick: () => this.close(), dataset: { action: 'close' } }, '关闭')
          : h('button.btn', { type: 'button', onclick: () => this.cancel(), dataset: { action: 'cancel' } }, '取消'),
      ),
    );
  }

  problems(job) {
    const list = job.problems || [];
    const n = job.problem_count ?? list.length;
    return [
      h('div.import-problems-head',
        h('strong.error', `发现 ${fmtNumber(n)} 个问题，请改正后重新上传`),
        n > list.length ? h('span.muted', `（仅列出前 ${fmtNumber(list.length)} 个）`) : null,
        h('a.btn.btn-small', { href: `/api/v1/imports/${encodeURIComponent(job.id)}/errors.xlsx`, download: '', dataset: { action: 'errors' }, title: '上传的工作簿，出错的单元格标红并附批注' }, '下载标注错误的工作簿')),
      h('div.import-problems-wrap',
        h('table.import-problems',
          h('thead', h('tr', h('th.num', '行'), h('th', '列'), h('th', '问题'))),
          h('tbody', list.map((p) => h('tr', { dataset: { row: p.row || '', column: p.column || '' } },
            h('td.num', p.row ? `第 ${p.row} 行` : '—'),
            h('td', p.column || '—'),
            h('td', String(p.message || '').replace(placePrefix, ''))))))),
    ];
  }
}

function progress(job) {
  const writing = job.status === 'committing' || job.status === 'done';
  const total = job.rows || 0;
  const value = writing ? job.written || 0 : job.checked || 0;
  const bar = h('progress.import-progress', { max: Math.max(total, 1), 'aria-label': writing ? '写入进度' : '检查进度' });
  if (total > 0) bar.value = Math.min(value, total);
  else if (job.status !== 'checking') bar.value = 1;
  const text = writing
    ? `已写入 ${fmtNumber(value)} / ${fmtNumber(total)} 行`
    : total > 0 ? `已检查 ${fmtNumber(value)} / ${fmtNumber(total)} 行` : `已检查 ${fmtNumber(value)} 行`;
  return h('div.import-progress-box', bar, h('span.import-progress-text', text));
}

function counts(job) {
  const c = (label, n, key) => h('div.import-count', { dataset: { key } }, h('span.n', fmtNumber(n || 0)), h('span.l', label));
  return h('div.import-counts', c('新增', job.creates, 'creates'), c('更新', job.updates, 'updates'), c('未变', job.unchanged, 'unchanged'), c('问题', job.problem_count, 'problems'));
}

function fmtSize(n) {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`;
}
