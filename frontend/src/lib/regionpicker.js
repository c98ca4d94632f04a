// The region picker: a department's 管辖区域 chosen from the tree of 区县 / 街道（乡镇）/
// 社区（村）, not typed as codes. Ticking a region covers everything below it (a scope is a
// set of region-code prefixes: 530481 covers every town and community of 澄江市), so its
// children show ticked and greyed; the chosen ones are listed by name above the tree, each
// with a button to remove it. A search box narrows the tree to the regions whose name (or
// code) holds the text, with the regions above them. Codes the tree does not know (a grid,
// a prefix typed on the command line) are kept and listed by code. Names are text.
//
//   const picker = new RegionPicker({ id: 'u-regions', load: () => regionsPromise, value: ['530481'] });
//   form.append(picker.el); …; picker.value  // ['530481']
//
// load resolves to the regions by level, as GET /api/v1/regions?level=… answers them:
// {district: FeatureCollection, street: …, community: …}, or to a list of {code, name,
// level, parent_code}.

import { h, replace } from './dom.js';

const LEVELS = ['district', 'street', 'community'];
const LEVEL_LABELS = { district: '区县', street: '街道（乡镇）', community: '社区（村）' };

/** nodesOf turns what load resolves to into a list of {code, name, level, parent}. */
function nodesOf(data) {
  const list = Array.isArray(data)
    ? data
    : LEVELS.flatMap((l) => ((data && data[l] && data[l].features) || []).map((f) => ({ ...f.properties, level: f.properties.level || l })));
  return list.filter((r) => r && r.code).map((r) => ({ code: r.code, name: r.name || r.code, level: r.level, parentCode: r.parent_code || '' }));
}

export class RegionPicker {
  constructor({ id, load, value = [], onChange } = {}) {
    this.onChange = onChange;
    this.chosen = new Set(value);
    this.byCode = new Map();
    this.roots = [];
    this.open = new Set();
    this.chips = h('div.rp-chosen', { 'aria-live': 'polite' });
    this.search = h('input.rp-search', { type: 'search', placeholder: '按名称查找区域，如 凤麓', 'aria-label': '查找区域', autocomplete: 'off' });
    this.tree = h('div.rp-tree', { role: 'tree', 'aria-label': '区域' }, h('p.muted', '正在加载区域…'));
    this.el = h('div.region-picker', { id: id || null }, this.chips, this.search, this.tree);
    this.search.addEventListener('input', () => this.renderTree());
    // Enter in the search box must not submit the form around the picker.
    this.search.addEventListener('keydown', (e) => e.key === 'Enter' && e.preventDefault());
    this.renderChips();
    this.ready = Promise.resolve(load ? load() : [])
      .then((data) => this.build(nodesOf(data)))
      .catch((e) => replace(this.tree, h('p.error', `无法加载区域：${e.message}`)));
  }

  build(nodes) {
    for (const n of nodes) this.byCode.set(n.code, { ...n, children: [] });
    for (const n of this.byCode.values()) {
      let parent = this.byCode.get(n.parentCode);
      if (!parent) {
        // No parent_code: the longest known code that prefixes this one.
        for (const m of this.byCode.values()) if (m !== n && n.code.startsWith(m.code) && (!parent || m.code.length > parent.code.length)) parent = m;
      }
      n.parent = parent || null;
      if (parent) parent.children.push(n);
      else this.roots.push(n);
    }
    // The districts open; the regions above a chosen one too.
    for (const r of this.roots) this.open.add(r.code);
    for (const c of this.chosen) for (let n = this.byCode.get(c)?.parent; n; n = n.parent) this.open.add(n.code);
    this.renderChips();
    this.renderTree();
  }

  /** value is the chosen region codes, none below another chosen one. */
  get value() {
    return [...this.chosen].filter((c) => !this.coveredBy(c));
  }

  set value(codes) {
    this.chosen = new Set(codes || []);
    this.renderChips();
    this.renderTree();
  }

  /** coveredBy is the chosen region above code, if any. */
  coveredBy(code) {
    for (const c of this.chosen) if (c !== code && code.startsWith(c)) return c;
    return null;
  }

  nameOf(code) {
    const n = this.byCode.get(code);
    return n ? n.name : code;
  }

  toggle(code, on) {
    if (on) {
      this.chosen.add(code);
      // What the new region covers need not be listed on its own.
      for (const c of [...this.chosen]) if (c !== code && c.startsWith(code)) this.chosen.delete(c);
    } else this.chosen.delete(code);
    this.renderChips();
    this.renderTree();
    if (this.onChange) this.onChange(this.value);
  }

  renderChips() {
    const codes = this.value;
    replace(this.chips, codes.length
      ? [h('span.rp-label', '已选：'), codes.map((c) => h('span.rp-chip', { dataset: { code: c }, title: c },
        this.nameOf(c),
        h('button.rp-remove', { type: 'button', 'aria-label': `移除 ${this.nameOf(c)}`, title: '移除', onclick: () => this.toggle(c, false) }, '×')))]
      : h('span.muted.rp-none', '尚未选择区域'));
  }

  renderTree() {
    if (!this.byCode.size) {
      if (this.ready) replace(this.tree, h('p.muted', '没有可选的区域'));
      return;
    }
    const q = this.search.value.trim().toLowerCase();
    // With a search: the matching regions, the regions above them (open), nothing else.
    let show = null;
    if (q) {
      show = new Set();
      for (const n of this.byCode.values()) {
        if (!n.name.toLowerCase().includes(q) && !n.code.startsWith(q)) continue;
        for (let m = n; m; m = m.parent) show.add(m.code);
      }
    }
    const item = (n) => {
      if (show && !show.has(n.code)) return null;
      const kids = n.children.filter((k) => !show || show.has(k.code));
      const open = show ? kids.length > 0 : this.open.has(n.code);
      const covered = this.coveredBy(n.code);
      const box = h('input', { type: 'checkbox', value: n.code, checked: this.chosen.has(n.code) || !!covered, disabled: !!covered,
        onchange: (e) => this.toggle(n.code, e.target.checked) });
      const twisty = n.children.length
        ? h('button.rp-twisty', { type: 'button', 'aria-label': open ? `收起 ${n.name}` : `展开 ${n.name}`, 'aria-expanded': String(open),
          onclick: () => {
            if (this.open.has(n.code)) this.open.delete(n.code);
            else this.open.add(n.code);
            this.renderTree();
          } }, open ? '▾' : '▸')
        : h('span.rp-twisty.leaf');
      return h('li', { role: 'treeitem', dataset: { code: n.code, level: n.level || '' }, 'aria-expanded': n.children.length ? String(open) : null },
        h('div.rp-row', twisty,
          h('label.rp-name', { title: covered ? `已含在 ${this.nameOf(covered)} 之内` : `${LEVEL_LABELS[n.level] || ''} ${n.code}` }, box, ' ', n.name,
            h('span.rp-code', n.code))),
        open && kids.length ? h('ul', { role: 'group' }, kids.map(item)) : null);
    };
    const items = this.roots.map(item).filter(Boolean);
    replace(this.tree, items.length ? h('ul', items) : h('p.muted', `没有名称含“${this.search.value.trim()}”的区域`));
  }
}
