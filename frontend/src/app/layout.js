// The phone layout of the internal application (app.css, "Phones"): at 1100 px and
// narrower the header's actions fold into a menu (☰); at 720 px and narrower the filters
// slide over from the left too, and the drawer (unit or region details, the entry form) is a
// bottom sheet with a grip that expands it to the full screen and back. While a shape is
// being drawn the entry form folds to its grip so that the map is free to tap. None of this
// changes the desktop layout: the elements it adds are hidden there.
import L from '../lib/leaflet.js';
import { $, h } from '../lib/dom.js';

export const PHONE = '(max-width: 720px)';

/**
 * setupLayout wires the menu, the filters panel and the bottom sheet. drawer is #drawer,
 * map the Leaflet map. It returns setSheet('half' | 'full' | 'mini') and reveal(feature),
 * which pans a unit out from under the sheet.
 */
export function setupLayout({ map, drawer }) {
  const phone = window.matchMedia(PHONE);
  const body = document.body;
  const menu = $('#topmenu');
  const menuBtn = $('#btn-menu');
  const filtersBtn = $('#btn-filters');
  const scrim = $('#scrim');

  // ---- the menu and the filters panel ----

  const setMenu = (open) => {
    body.classList.toggle('menu-open', open);
    menuBtn.setAttribute('aria-expanded', String(open));
    syncScrim();
  };
  const setFilters = (open) => {
    body.classList.toggle('filters-open', open);
    filtersBtn.setAttribute('aria-expanded', String(open));
    syncScrim();
  };
  function syncScrim() {
    scrim.hidden = !(body.classList.contains('menu-open') || body.classList.contains('filters-open'));
  }
  menuBtn.addEventListener('click', () => {
    setFilters(false);
    setMenu(!body.classList.contains('menu-open'));
  });
  filtersBtn.addEventListener('click', () => {
    setMenu(false);
    setFilters(!body.classList.contains('filters-open'));
  });
  $('#btn-sidebar-close').addEventListener('click', () => setFilters(false));
  scrim.addEventListener('click', () => {
    setMenu(false);
    setFilters(false);
  });
  // Choosing an action closes the menu (the action itself runs as on the desktop).
  menu.addEventListener('click', (e) => {
    if (e.target.closest('button, a')) setMenu(false);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    setMenu(false);
    setFilters(false);
  });

  // ---- the bottom sheet ----
  // Its states, as classes on body: none (half the screen, the map above it), sheet-full
  // (the whole screen) and sheet-mini (only its grip and title; the map above it).

  const grip = h('button.sheet-grip', { type: 'button', dataset: { action: 'sheet' } },
    h('span.sheet-bar', { 'aria-hidden': 'true' }), h('span.sheet-grip-label'));
  const setSheet = (state) => {
    body.classList.toggle('sheet-full', state === 'full');
    body.classList.toggle('sheet-mini', state === 'mini');
    const label = body.classList.contains('drawing') ? '在地图上点按绘制 · 点此完成' : state === 'full' ? '收起' : '展开';
    grip.setAttribute('aria-label', label);
    grip.setAttribute('aria-expanded', String(state === 'full'));
    grip.lastChild.textContent = body.classList.contains('drawing') ? label : '';
    if (phone.matches) map.invalidateSize({ pan: false });
  };
  const sheetState = () => (body.classList.contains('sheet-full') ? 'full' : body.classList.contains('sheet-mini') ? 'mini' : 'half');
  // The entry form opens on the whole screen; details open on half of it.
  // The entry forms (a unit's, a protective target's or shelter's) behave alike.
  const isForm = () => drawer.dataset.kind === 'editor' || drawer.dataset.kind === 'site-editor';
  const initial = () => (isForm() ? 'full' : 'half');
  // The grip while drawing finishes a line or polygon (its vertices are tapped on the map;
  // tapping the last one again is hard on a phone) or stops the point tool.
  const finishDrawing = () => {
    const pm = map.pm;
    if (!pm) return;
    const shape = pm.Draw.getActiveShape();
    const d = shape && pm.Draw[shape];
    if (d && d._finishShape && (shape === 'Line' || shape === 'Polygon')) {
      d._finishShape();
      if (d._doesSelfIntersect) return; // geoman says so on the map; the user moves on drawing
    }
    if (pm.globalDrawModeEnabled()) pm.disableDraw();
  };
  const toggle = () => {
    if (body.classList.contains('drawing')) {
      finishDrawing();
      return;
    }
    const s = sheetState();
    if (isForm()) setSheet(s === 'full' ? 'mini' : 'full');
    else setSheet(s === 'full' ? 'half' : 'full');
  };
  // A tap toggles; a swipe up opens the sheet wider, a swipe down narrows it.
  let start = null;
  grip.addEventListener('pointerdown', (e) => (start = { y: e.clientY, t: Date.now() }));
  grip.addEventListener('pointerup', (e) => {
    if (!start) return;
    const dy = e.clientY - start.y;
    start = null;
    if (Math.abs(dy) < 24 || body.classList.contains('drawing')) return;
    grip.dataset.swiped = '1';
    const editor = isForm();
    if (dy < 0) setSheet('full');
    else setSheet(sheetState() === 'full' ? (editor ? 'mini' : 'half') : editor ? 'mini' : sheetState());
  });
  grip.addEventListener('click', () => {
    if (grip.dataset.swiped) {
      delete grip.dataset.swiped;
      return;
    }
    toggle();
  });
  // The panels replace the drawer's content whenever they render: the grip goes back on top.
  new MutationObserver(() => {
    if (!drawer.hidden && drawer.firstChild !== grip) drawer.prepend(grip);
  }).observe(drawer, { childList: true });
  // A new panel in the drawer starts in its own state.
  let shown = '';
  new MutationObserver(() => {
    const now = drawer.hidden ? '' : drawer.dataset.kind || '';
    if (now === shown) return;
    shown = now;
    setSheet(now ? initial() : 'half');
    if (now) {
      setMenu(false);
      setFilters(false);
    }
  }).observe(drawer, { attributes: true, attributeFilter: ['hidden', 'data-kind'] });

  // While drawing, the form folds to its grip and the map takes the taps; it unfolds when the
  // shape is done. On a phone one point ends the point tool (geoman would go on placing).
  map.on('pm:drawstart', () => {
    if (!phone.matches) return;
    body.classList.add('drawing');
    setSheet('mini');
  });
  map.on('pm:drawend', () => {
    if (!body.classList.contains('drawing')) return;
    body.classList.remove('drawing');
    setSheet(drawer.hidden ? 'half' : 'full');
  });
  map.on('pm:create', (e) => {
    if (phone.matches && e.shape === 'CircleMarker') setTimeout(() => map.pm && map.pm.disableDraw(), 0);
  });

  // ---- the map ----

  // On a phone the map's size changes with the sheets and panels: Leaflet is told every time,
  // keeping what is at the top of the map where it is.
  new ResizeObserver(() => phone.matches && map.invalidateSize({ pan: false })).observe(map.getContainer());
  // The zoom buttons go near the thumb, above the legend, on a phone.
  const zoom = map.getContainer().querySelector('.leaflet-control-zoom');
  const place = () => {
    if (!zoom) return;
    const corner = map.getContainer().querySelector(phone.matches ? '.leaflet-bottom.leaflet-right' : '.leaflet-top.leaflet-left');
    if (corner && zoom.parentNode !== corner) corner.prepend(zoom);
  };
  place();
  phone.addEventListener('change', () => {
    place();
    if (!phone.matches) {
      setMenu(false);
      setFilters(false);
    }
  });
  setSheet('half');
  /** reveal pans the map, on a phone, so that a feature (its middle) shows above the sheet. */
  const reveal = (feature) => {
    if (!phone.matches || sheetState() === 'full' || !feature.geometry) return;
    const b = L.geoJSON(feature).getBounds();
    if (!b.isValid()) return;
    const pan = () => {
      map.invalidateSize({ pan: false });
      map.panInside(b.getCenter(), { padding: [40, 40] });
    };
    // After a flight to the unit (from the register or the search), if there is one.
    if (moving) map.once('moveend', pan);
    else pan();
  };
  let moving = false;
  map.on('movestart', () => (moving = true));
  map.on('moveend', () => (moving = false));
  return { setMenu, setFilters, setSheet, reveal };
}
