// Logging in and out. The internal application needs a session: GET /api/v1/session says
// who is logged in (401: nobody, and the login form is shown). The session itself is an
// HttpOnly cookie the page never sees; the CSRF token that comes with it stays in the Api
// object's memory and goes with every write.
import { h, replace, $ } from '../lib/dom.js';
import { ApiError } from '../lib/api.js';
import { ROLES } from '../lib/labels.js';

export const roleLabel = (role) => ROLES[role] || role || '';

/** loginMessage is the zh-CN text of a failed login. */
export function loginMessage(e) {
  if (!(e instanceof ApiError)) return `无法连接服务器：${e.message}`;
  if (e.status === 401) return '用户名或密码错误（或账号已停用）';
  if (e.status === 429) return e.retryAfter ? `尝试过多，请稍后再试（${e.retryAfter} 秒后可重试）` : '尝试过多，请稍后再试';
  if (e.status === 400) return '请输入用户名和密码';
  return `登录失败：${e.message}`;
}

/**
 * showLogin puts the login form over the page and resolves with the session once a login
 * succeeds. notice is a line shown above the form (e.g. that the session expired).
 */
export function showLogin(api, { notice = '' } = {}) {
  return new Promise((resolve) => {
    const user = h('input#login-user', { name: 'username', autocomplete: 'username', required: true, maxlength: 64, autocapitalize: 'off', spellcheck: false });
    const pass = h('input#login-pass', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 256 });
    const err = h('div.login-error', { role: 'alert', hidden: true });
    const btn = h('button.btn.btn-primary.login-submit', { type: 'submit' }, '登录');
    let wait = null;
    const fail = (msg) => {
      err.textContent = msg;
      err.hidden = false;
    };
    const submit = async (e) => {
      e.preventDefault();
      if (!user.value.trim() || !pass.value) {
        fail('请输入用户名和密码');
        return;
      }
      btn.disabled = true;
      btn.textContent = '正在登录…';
      err.hidden = true;
      try {
        const s = await api.login(user.value.trim(), pass.value);
        screen.remove();
        document.body.classList.remove('logged-out');
        resolve(s);
        return;
      } catch (ex) {
        fail(loginMessage(ex));
        pass.value = '';
        pass.focus();
        if (ex instanceof ApiError && ex.status === 429 && ex.retryAfter) {
          // Keep the button off until the server will listen again.
          clearTimeout(wait);
          btn.textContent = '登录';
          wait = setTimeout(() => (btn.disabled = false), ex.retryAfter * 1000);
          return;
        }
      }
      btn.disabled = false;
      btn.textContent = '登录';
    };
    const screen = h('div.login-screen', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'login-title' },
      h('form.login-box', { novalidate: true, onsubmit: submit },
        h('div.login-brand', h('span.brand-mark', { 'aria-hidden': 'true' }, h('i'), h('i'), h('i'), h('i')),
          h('div', h('h1#login-title', '城市安全风险四色图'), h('div.muted', '城市安全风险信息管理平台 · 登录'))),
        notice ? h('p.login-notice', notice) : null,
        h('label.login-field', h('span', '用户名'), user),
        h('label.login-field', h('span', '密码'), pass),
        err,
        btn,
        h('p.hint', h('a', { href: '/public' }, '不登录，查看公众版四色图 →'))));
    document.body.classList.add('logged-out');
    const old = $('.login-screen');
    if (old) old.remove();
    document.body.appendChild(screen);
    user.focus();
  });
}

/**
 * ensureSession resolves with the current session, showing the login form first when
 * nobody is logged in.
 */
export async function ensureSession(api) {
  try {
    return await api.session();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return showLogin(api);
    throw e;
  }
}

/** renderUser fills the header's user box: name, role, and 退出. */
export function renderUser(el, session, { editable, onLogout }) {
  const u = session.user || {};
  replace(el,
    h('span.user-name', { title: u.department || '' }, u.name || ''),
    h('span.role-badge', { dataset: { role: u.role || '' } }, roleLabel(u.role)),
    u.role === 'department' && u.department ? h('span.user-dept', u.department) : null,
    editable ? null : h('span.badge-mode.ro', '只读'),
    h('button.btn.btn-small#btn-logout', { type: 'button', onclick: onLogout }, '退出'));
}
