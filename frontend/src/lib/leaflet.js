// Leaflet plug-ins from npm (leaflet.vectorgrid, leaflet-geoman) are UMD bundles that extend
// the global L, so Leaflet must be global before they are evaluated. Import this module first.
import L from 'leaflet';

window.L = L;
export default L;
