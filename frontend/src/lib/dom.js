// Building the page from data. Every piece of text that came from the server goes in
// through textContent or createTextNode: never through innerHTML, so a unit named
// "<img src=x onerror=alert(1)>" shows exactly that string.

/**
 * h('div.panel#id', {attrs}, ...children) creates an element. Children that are strings or
 * numbers become text nodes; null, undefined and false are skipped; arrays are flattened.
 * Attributes whose name starts with "on" are event listeners; "dataset" and "style" objects
 * are assigned; other values are set with setAttribute (or as properties for value,
 * checked, selected, disabled).
 */
export function h(tag, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(tag);
  const el = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** append adds children (strings become text nodes). */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** replace empties an element and adds new children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

/** debounce delays fn until calls have stopped for ms. */
export function debounce(fn, ms) {
  let t;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** toast shows a short message at the top of the page. */
export function toast(message, kind = 'info', ms = 4000) {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div#toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(box);
  }
  const t = h(`div.toast.toast-${kind}`, message);
  box.appendChild(t);
  setTimeout(() => t.remove(), ms);
  return t;
}

/** fmtNumber writes a count with Chinese thousands grouping. */
export function fmtNumber(n) {
  return n == null ? '—' : Number(n).toLocaleString('zh-CN');
}
