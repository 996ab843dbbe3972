// The in-browser decision table editor: dmn-js, bundled by esbuild (npm run build ->
// web/static/build/dmn-modeler.js). The modeler page loads it instead of bpmn-js for a .dmn version.
import DmnModeler from "dmn-js/lib/Modeler";

window.AftersalesDmnModeler = function (container) {
  return new DmnModeler({ container: container, common: { keyboard: { bindTo: window } } });
};
