// The regional four-colour map (区域总体安全风险空间分布图): the regions layer of
// /tiles/regions, one level at a time (district, street, community or grid), each region
// filled with its aggregated grade.
import L from './leaflet.js';
import { typedProtobuf } from './unitlayer.js';
import { grade } from './grades.js';

export const LEVELS = [
  { code: 'district', label: '区县' },
  { code: 'street', label: '街道（乡镇）' },
  { code: 'community', label: '社区（村）' },
  { code: 'grid', label: '网格' },
];

export function levelLabel(code) {
  const l = LEVELS.find((x) => x.code === code);
  return l ? l.label : code;
}

export class RegionLayer {
  constructor(map, { base = '', pane = 'regions', template = null, onRegion } = {}) {
    this.map = map;
    this.level = 'street';
    if (!map.getPane(pane)) {
      map.createPane(pane);
      map.getPane(pane).style.zIndex = 410;
    }
    const self = this;
    this.layer = typedProtobuf(template || `${base}/tiles/regions/{z}/{x}/{y}.pbf`, {
      rendererFactory: L.svg.tile,
      pane,
      interactive: true,
      tileSize: 512,
      zoomOffset: -1,
      maxNativeZoom: 23,
      maxZoom: 23,
      fetchOptions: { credentials: 'same-origin' },
      getFeatureId: (feat) => feat.properties.code,
      vectorTileLayerStyles: {
        regions: (p) => {
          if (p.level !== self.level) return [];
          const g = grade(p.grade);
          return { fill: true, fillColor: g.fill, fillOpacity: 0.62, color: '#ffffff', weight: 1.2, opacity: 0.95 };
        },
      },
    });
    this.layer.on('click', (e) => {
      const p = e.layer && e.layer.properties;
      if (p && onRegion) {
        L.DomEvent.stop(e);
        onRegion(p, e.latlng);
      }
    });
    this.layer.on('mouseover', (e) => {
      const p = e.layer && e.layer.properties;
      if (!p) return;
      this.tip = L.tooltip({ direction: 'top', className: 'unit-tip', sticky: true })
        .setLatLng(e.latlng)
        .setContent(document.createTextNode(`${p.name}：${grade(p.grade).label}`))
        .addTo(map);
    });
    this.layer.on('mouseout', () => {
      if (this.tip) this.tip.remove();
      this.tip = null;
    });
  }

  setLevel(level) {
    this.level = level;
    this.layer.redraw();
  }

  setVisible(on) {
    if (on && !this.map.hasLayer(this.layer)) this.layer.addTo(this.map);
    if (!on && this.map.hasLayer(this.layer)) this.map.removeLayer(this.layer);
  }

  refresh() {
    this.layer.setUrl(this.layer._url.replace(/(\?.*)?$/, `?_=${Date.now()}`));
  }
}
