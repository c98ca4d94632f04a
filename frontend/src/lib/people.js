// People by name: the application shows a person as "姓名（单位）", not as a login
// ("审核人 李明（云南省安全生产专家库）", not "liexp"). The names come from GET /api/v1/people
// (every logged-in role may read it: login, 姓名 and 单位, never a phone or a scope), read
// once and shared by every panel; a login the list does not name (a deleted user, a failed
// login's made-up name, before the list arrives or when it cannot be read) stays as it is.
// Names are text: callers put them in with textContent.

import { h } from './dom.js';

let people = null; // Promise<Map<login, {username, display_name, organisation}>>
let known = new Map(); // the last list that arrived, for synchronous use

/** loadPeople reads the people once (again after forgetPeople) and resolves to the map by login. */
export function loadPeople() {
  if (!people) {
    people = fetch('/api/v1/people', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((r) => (r.ok ? r.json() : { people: [] }))
      .then((d) => {
        known = new Map((d.people || []).map((p) => [p.username, p]));
        return known;
      })
      .catch(() => {
        people = null; // try again next time
        return known;
      });
  }
  return people;
}

/** forgetPeople makes the next loadPeople read the list again (after a user was created or changed). */
export function forgetPeople() {
  people = null;
}

/**
 * personText names a person, {username (or name), display_name, organisation} as the
 * people and users APIs give them: "姓名（单位）", "姓名" without a unit, the login
 * without a name.
 */
export function personText(p) {
  if (!p) return '';
  const login = p.username ?? p.name ?? '';
  const name = (p.display_name || '').trim();
  if (!name) return login;
  const org = (p.organisation || '').trim();
  return org ? `${name}（${org}）` : name;
}

function labelOf(login, map) {
  const p = map.get(login);
  return p ? personText(p) : login;
}

/**
 * personLabel names the login as people know it, synchronously, from the list read so far:
 * "李明（云南省安全生产专家库）", or the login itself while the list is not there (call
 * loadPeople first to be sure it is).
 */
export function personLabel(login) {
  if (!login) return login || '';
  return labelOf(login, known);
}

/** personName resolves to the login's "姓名（单位）" once the list is read. */
export async function personName(login) {
  if (!login) return login || '';
  return labelOf(login, await loadPeople());
}

/**
 * personNode is a <span class="person"> that shows the login at once and "姓名（单位）" as
 * soon as the list is read, with the login as its title (the tooltip): the one call a
 * panel needs, e.g. row('审核人', personNode(r.reviewed_by)). suffix is text after the name
 * (" · 2026-12-06 09:30").
 */
export function personNode(login, suffix = '') {
  const el = h('span.person', { title: login || null, dataset: { login: login || '' } }, personLabel(login) + suffix);
  if (login) personName(login).then((label) => (el.textContent = label + suffix));
  return el;
}
