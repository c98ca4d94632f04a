// 随手拍 / 安全隐患举报 on the public map: a citizen picks a place on the map, a category and
// a description, optionally a photo and a contact, and gets a tracking number; 查询举报进度
// reads back the status of one report by its number and nothing else. Loaded on first use.
import L from '../lib/leaflet.js';
import { h, replace } from '../lib/dom.js';
import { fmtDateTime } from '../lib/labels.js';

const MAX_PHOTO = 10 * 1024 * 1024;

export class ReportPanel {
  constructor({ api, map }) {
    Object.assign(this, { api, map });
    this.el = h('aside#report.report-panel', { hidden: true, role: 'dialog', 'aria-label': '随手拍 · 安全隐患举报' });
    document.body.appendChild(this.el);
    this.point = null;
    this.marker = null;
    this.picking = false;
    this.onMapClick = (e) => {
      if (!this.picking) return;
      this.setPoint(e.latlng);
    };
    map.on('click', this.onMapClick);
  }

  toggle(tab) {
    if (!this.el.hidden && (!tab || tab === this.tab)) this.close();
    else this.open(tab);
  }

  open(tab = 'new') {
    this.tab = tab;
    this.el.hidden = false;
    document.body.classList.add('report-open');
    this.render();
    this.map.invalidateSize();
  }

  close() {
    this.el.hidden = true;
    this.setPicking(false);
    document.body.classList.remove('report-open');
    if (this.marker) this.marker.remove();
    this.marker = null;
    this.point = null;
    this.map.invalidateSize();
  }

  setPicking(on) {
    this.picking = on;
    document.body.classList.toggle('report-picking', on);
    this.map.getContainer().style.cursor = on ? 'crosshair' : '';
  }

  setPoint(latlng) {
    this.point = latlng;
    if (!this.marker) {
      this.marker = L.circleMarker(latlng, { radius: 10, color: '#c4161c', weight: 3, fillColor: '#fff', fillOpacity: 0.9, className: 'report-mark', interactive: false }).addTo(this.map);
    } else this.marker.setLatLng(latlng);
    if (this.placeLine) {
      this.placeLine.textContent = `已选位置：${latlng.lat.toFixed(5)}, ${latlng.lng.toFixed(5)}（可再次点击地图修改）`;
      this.placeLine.dataset.set = '1';
      this.errors.lon.textContent = '';
    }
  }

  head() {
    return h('div.report-head',
      h('nav.report-tabs', { role: 'tablist' },
        [['new', '随手拍举报'], ['track', '查询举报进度']].map(([code, label]) =>
          h('button', { type: 'button', role: 'tab', class: this.tab === code ? 'active' : null, 'aria-selected': String(this.tab === code), dataset: { tab: code }, onclick: () => this.open(code) }, label))),
      h('button.report-close', { type: 'button', title: '关闭', 'aria-label': '关闭', onclick: () => this.close() }, '×'));
  }

  render() {
    if (this.tab === 'track') return this.renderTrack();
    return this.renderForm();
  }

  async renderForm() {
    const cat = h('select#rp-category', h('option', { value: '' }, '请选择类别'));
    const desc = h('textarea#rp-description', { rows: 4, maxlength: 1000, placeholder: '请描述看到的安全隐患，如：小区地下车库消防通道被堆放杂物堵塞' });
    const count = h('small.report-count', '0 / 1000');
    desc.addEventListener('input', () => (count.textContent = `${desc.value.length} / 1000`));
    const photo = h('input#rp-photo', { type: 'file', accept: 'image/jpeg,image/png' });
    const fileName = h('span.report-file-name', '未选择照片');
    photo.addEventListener('change', () => (fileName.textContent = photo.files && photo.files[0] ? photo.files[0].name : '未选择照片'));
    const contact = h('input#rp-contact', { maxlength: 100, autocomplete: 'tel', placeholder: '手机号或其他联系方式（可不填）' });
    this.placeLine = h('p.report-place', { 'aria-live': 'polite' }, '请在地图上点击隐患所在位置。');
    const err = (name) => h('div.field-error', { role: 'alert', dataset: { for: name } });
    this.errors = { lon: err('lon'), category: err('category'), description: err('description'), photo: err('photo'), contact: err('contact') };
    // A field's problem goes once the field is changed.
    for (const [el, key] of [[cat, 'category'], [desc, 'description'], [photo, 'photo'], [contact, 'contact']]) {
      el.addEventListener(el === desc || el === contact ? 'input' : 'change', () => (this.errors[key].textContent = ''));
    }
    const summary = h('div.field-error.report-error', { role: 'alert' });
    const submit = h('button.btn.btn-primary.report-submit', { type: 'submit', dataset: { action: 'submit-report' } }, '提交举报');
    const form = h('form.report-form', { novalidate: true },
      h('p.report-intro', '发现安全隐患，随手拍下告诉我们。举报内容只有主管部门可见，不会公开显示；提交后请保存受理编号，用于查询处理进度。'),
      h('div.report-field', h('label', '① 隐患位置', h('span.req', ' *')), this.placeLine,
        h('button.btn.btn-small', { type: 'button', dataset: { action: 'pick' }, onclick: () => this.setPicking(true) }, '在地图上选择位置'), this.errors.lon),
      h('div.report-field', h('label', { for: 'rp-category' }, '② 隐患类别', h('span.req', ' *')), cat, this.errors.category),
      h('div.report-field', h('label', { for: 'rp-description' }, '③ 隐患描述', h('span.req', ' *')), desc, count, this.errors.description),
      h('div.report-field', h('span.report-label', '④ 照片（可选）'),
        h('label.report-file', { for: 'rp-photo' }, h('span.btn.btn-small', '选择照片'), photo, fileName),
        h('small.hint', 'JPEG 或 PNG，不超过 10 MB。照片中的位置、设备等附加信息会被去除。'), this.errors.photo),
      h('div.report-field', h('label', { for: 'rp-contact' }, '⑤ 联系方式（可选）'), contact, h('small.hint', '仅供主管部门核实情况时联系您，不会公开。'), this.errors.contact),
      summary,
      submit);
    replace(this.el, this.head(), h('div.report-body', form));
    if (this.point) this.setPoint(this.point);
    this.setPicking(true);
    try {
      const c = await this.api.categories();
      for (const g of c.groups || []) {
        const cs = (c.categories || []).filter((x) => x.group === g.code);
        if (cs.length) cat.appendChild(h('optgroup', { label: g.label }, cs.map((x) => h('option', { value: x.code }, x.label))));
      }
    } catch {
      /* the server checks the category anyway */
    }
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      for (const e of Object.values(this.errors)) e.textContent = '';
      summary.textContent = '';
      let bad = false;
      if (!this.point) (this.errors.lon.textContent = '请在地图上点击选择隐患位置'), (bad = true);
      if (!cat.value) (this.errors.category.textContent = '请选择隐患类别'), (bad = true);
      if (!desc.value.trim()) (this.errors.description.textContent = '请填写隐患描述'), (bad = true);
      const file = photo.files && photo.files[0];
      if (file && file.size > MAX_PHOTO) (this.errors.photo.textContent = '照片不能超过 10 MB'), (bad = true);
      if (file && !/^image\/(jpeg|png)$/.test(file.type)) (this.errors.photo.textContent = '照片须为 JPEG 或 PNG 格式'), (bad = true);
      if (bad) return;
      submit.disabled = true;
      submit.textContent = '正在提交…';
      try {
        const r = await this.api.submitReport({
          lon: Number(this.point.lng.toFixed(7)),
          lat: Number(this.point.lat.toFixed(7)),
          category: cat.value,
          description: desc.value.trim(),
          contact: contact.value.trim(),
        }, file || null);
        this.done(r);
      } catch (e) {
        submit.disabled = false;
        submit.textContent = '提交举报';
        if (e.status === 429) {
          summary.textContent = e.message || '提交过于频繁，请稍后再试';
          if (e.retryAfter) summary.textContent += `（约 ${Math.ceil(e.retryAfter / 60)} 分钟后）`;
          return;
        }
        const left = [];
        for (const f of e.fields || []) {
          const key = f.field === 'lat' ? 'lon' : f.field;
          if (this.errors[key]) this.errors[key].textContent = f.message;
          else left.push(f.message);
        }
        summary.textContent = (e.fields || []).length ? left.join('；') || '请按提示修改后再提交。' : `提交失败：${e.message}`;
      }
    });
  }

  /** done shows the tracking number, large, and how to use it. */
  done(r) {
    this.setPicking(false);
    const num = h('strong.tracking-number#rp-tracking', r.tracking_number || '');
    const copy = h('button.btn.btn-small', { type: 'button', onclick: async () => {
      try {
        await navigator.clipboard.writeText(r.tracking_number);
        copy.textContent = '已复制';
      } catch {
        copy.textContent = '请手动记下编号';
      }
    } }, '复制编号');
    replace(this.el, this.head(), h('div.report-body.report-done',
      h('p.report-ok', '举报已提交，感谢您的监督！'),
      h('p', '您的受理编号：'),
      num,
      h('div.report-done-actions', copy,
        h('button.btn.btn-small', { type: 'button', dataset: { action: 'track-this' }, onclick: () => { this.open('track'); this.track(r.tracking_number); } }, '查询进度')),
      h('p.hint', `提交时间：${fmtDateTime(r.created_at)} · 当前状态：${r.status_label || '已受理'}`),
      h('p.hint', '请保存好受理编号：凭编号可随时查询处理进度。为保护举报人，系统不会显示任何人的举报内容。'),
      h('button.btn', { type: 'button', onclick: () => { if (this.marker) this.marker.remove(); this.marker = null; this.point = null; this.open('new'); } }, '继续举报')));
  }

  renderTrack() {
    this.setPicking(false);
    const input = h('input#rp-track-number', { maxlength: 20, autocomplete: 'off', placeholder: '如 JB20261206XXXXXXXX', spellcheck: 'false' });
    this.trackOut = h('div.track-out', { 'aria-live': 'polite' });
    const form = h('form.report-form', { novalidate: true },
      h('div.report-field', h('label', { for: 'rp-track-number' }, '受理编号'), input),
      h('button.btn.btn-primary', { type: 'submit', dataset: { action: 'track' } }, '查询'),
      this.trackOut);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.track(input.value);
    });
    replace(this.el, this.head(), h('div.report-body', form));
    input.focus();
  }

  async track(number) {
    const n = String(number || '').trim().toUpperCase().replace(/\s+/g, '');
    const input = this.el.querySelector('#rp-track-number');
    if (input) input.value = n;
    if (!/^JB\d{8}[0-9A-Z]{8}$/.test(n)) {
      replace(this.trackOut, h('p.field-error', '受理编号格式不正确：应为 JB 加 16 位数字和字母。'));
      return;
    }
    replace(this.trackOut, h('p.muted', '正在查询…'));
    try {
      const r = await this.api.trackReport(n);
      replace(this.trackOut, h('div.track-result', { dataset: { status: r.status || '' } },
        h('dl.kv-list',
          h('div.kv', h('dt', '受理编号'), h('dd', r.tracking_number)),
          h('div.kv', h('dt', '处理状态'), h('dd', h('strong.track-status', r.status_label || r.status))),
          h('div.kv', h('dt', '提交时间'), h('dd', fmtDateTime(r.created_at))),
          r.handled_at ? h('div.kv', h('dt', '处理时间'), h('dd', fmtDateTime(r.handled_at))) : null,
          r.result ? h('div.kv', h('dt', '处理结果'), h('dd.track-result-text', r.result)) : null)));
    } catch (e) {
      replace(this.trackOut, h('p.field-error', e.status === 404 ? '没有找到该受理编号的举报，请核对后再试。' : e.status === 429 ? e.message : `查询失败：${e.message}`));
    }
  }
}
