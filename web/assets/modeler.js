// The in-browser modeler: bpmn-js with the Camunda 7 properties panel, bundled by esbuild
// (npm run build -> web/static/build/modeler.js). Pages load it from Flask, never from a CDN.
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBpmnModdle from "camunda-bpmn-moddle/resources/camunda.json";
import BpmnViewer from "bpmn-js/lib/NavigatedViewer";

window.AftersalesModeler = function (container, panel) {
  return new BpmnModeler({
    container: container,
    propertiesPanel: { parent: panel },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule],
    moddleExtensions: { camunda: CamundaBpmnModdle },
  });
};
window.AftersalesViewer = function (container) {
  return new BpmnViewer({ container: container, moddleExtensions: { camunda: CamundaBpmnModdle } });
};
