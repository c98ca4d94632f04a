// Leaflet plug-ins from npm (leaflet.vectorgrid, leaflet-geoman) are UMD bundles that extend
// the global L, so Leaflet must be global before they are evaluated. Import this module first.
import L from 'leaflet';

window.L = L;
export default L;

// Leaflet's own words in Chinese: the close button of a popup says "Close popup".
const initPopupLayout = L.Popup.prototype._initLayout;
L.Popup.prototype._initLayout = function initLayout() {
  initPopupLayout.call(this);
  if (this._closeButton) this._closeButton.setAttribute('aria-label', '关闭');
};
