// The plan viewer: a plan version over the parcels and zoning; measure lengths and areas, draw annotations
// and answer them; and the comparison page of two versions (added and removed footprint).
//
// The page gives us three JSON blocks (plans/views/viewer.py): "viewer-config" (mode, API addresses,
// permissions, the plan image), "viewer-strings" (every text, already translated) and "viewer-data"
// (footprints, the dossier's parcels, annotations; or the two versions and their difference).
//
// Modes: "geo" — a georeferenced version in EPSG:3857, lengths and areas measured on the ellipsoid
// (ol/sphere getLength/getArea, geodesic); "drawing" — a version that is not georeferenced, in its own
// drawing coordinates, measured on the drawing times its metres per drawing unit; "compare".
//
// For tests and for scripting, `window.taamirViewer` exposes the map, a function giving the pixel of a
// longitude/latitude, and the last measurement in metres or square metres.
import "ol/ol.css";
import "./plan_viewer.css";

import Map from "ol/Map.js";
import View from "ol/View.js";
import { ScaleLine, defaults as defaultControls } from "ol/control.js";
import { extend as extendExtent, createEmpty, getCenter, isEmpty } from "ol/extent.js";
import GeoJSON from "ol/format/GeoJSON.js";
import { Point } from "ol/geom.js";
import { Draw, Snap } from "ol/interaction.js";
import ImageLayer from "ol/layer/Image.js";
import VectorLayer from "ol/layer/Vector.js";
import { bbox as bboxStrategy } from "ol/loadingstrategy.js";
import Projection from "ol/proj/Projection.js";
import { fromLonLat, transformExtent } from "ol/proj.js";
import { getArea, getLength } from "ol/sphere.js";
import ImageStatic from "ol/source/ImageStatic.js";
import VectorSource from "ol/source/Vector.js";
import { Circle as CircleStyle, Fill, RegularShape, Stroke, Style, Text } from "ol/style.js";
import { element, formatter, isolator, readJson } from "../../geo/static_src/dom.js";

const config = readJson("viewer-config");
const strings = readJson("viewer-strings");
const data = readJson("viewer-data");
const rtl = Boolean(config.rtl);
const FONT_FAMILY = 'system-ui, "Noto Sans", "Noto Sans Arabic", sans-serif';
const lengthFormat = new Intl.NumberFormat(config.numberLocale, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const areaFormat = new Intl.NumberFormat(config.numberLocale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const dateFormat = new Intl.DateTimeFormat(config.numberLocale, { dateStyle: "medium", timeStyle: "short" });


const isolate = isolator(rtl);
const format = formatter(isolate);

function csrfToken() {
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

class ApiError extends Error {}

/** Call our API; problem+json answers become an ApiError carrying their translated detail. */
async function api(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/geo+json, application/json", "Accept-Language": config.language };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      detail = problem.detail || problem.title || detail;
    } catch {
      // Not a problem document: keep the status line.
    }
    throw new ApiError(detail);
  }
  return response.json();
}

const mapElement = document.getElementById("plan-map");
const statusElement = document.getElementById("viewer-status");

function showStatus(text, kind = "info") {
  if (!statusElement) return;
  statusElement.textContent = text;
  statusElement.dataset.kind = kind;
}

// ---------------------------------------------------------------------------------------------
// Styles
// ---------------------------------------------------------------------------------------------

const halo = new Stroke({ color: "rgba(255, 255, 255, 0.9)", width: 3 });
const parcelStyle = new Style({ stroke: new Stroke({ color: "#24303f", width: 1 }) });
const dossierParcelStyle = [
  new Style({ stroke: new Stroke({ color: "rgba(255, 255, 255, 0.95)", width: 5 }) }),
  new Style({ stroke: new Stroke({ color: "#d1105a", width: 2.5, lineDash: [8, 5] }) }),
];
const zoningStyle = new Style({
  fill: new Fill({ color: "rgba(230, 170, 60, 0.12)" }),
  stroke: new Stroke({ color: "rgba(190, 120, 20, 0.6)", width: 1 }),
});
const footprintStyle = new Style({
  fill: new Fill({ color: "rgba(29, 78, 216, 0.25)" }),
  stroke: new Stroke({ color: "#1d4ed8", width: 2 }),
});
const siteStyle = new Style({ stroke: new Stroke({ color: "#15803d", width: 2, lineDash: [4, 4] }) });
const ANNOTATION_COLOURS = { open: "#c2410c", resolved: "#6b7280" };
const measureStyle = new Style({
  fill: new Fill({ color: "rgba(255, 255, 255, 0.25)" }),
  stroke: new Stroke({ color: "#111827", width: 2, lineDash: [6, 4] }),
  image: new CircleStyle({ radius: 4, fill: new Fill({ color: "#111827" }) }),
});

function annotationStyle(feature) {
  const colour = ANNOTATION_COLOURS[feature.get("status")] || ANNOTATION_COLOURS.open;
  const label = feature.get("kind") === "text" ? feature.get("text") : String(feature.get("index") || "");
  return new Style({
    fill: new Fill({ color: `${colour}33` }),
    stroke: new Stroke({ color: colour, width: 2.5 }),
    image:
      feature.get("kind") === "text"
        ? new RegularShape({ points: 4, radius: 5, angle: Math.PI / 4, fill: new Fill({ color: colour }) })
        : new CircleStyle({ radius: 7, fill: new Fill({ color: colour }), stroke: halo }),
    text: new Text({
      text: label,
      font: `bold 12px ${FONT_FAMILY}`,
      offsetY: feature.get("kind") === "text" ? -14 : 0,
      fill: new Fill({ color: feature.get("kind") === "text" ? colour : "#ffffff" }),
      stroke: feature.get("kind") === "text" ? halo : undefined,
      overflow: true,
    }),
  });
}

function changeStyle(colour) {
  return new Style({ fill: new Fill({ color: `${colour}99` }), stroke: new Stroke({ color: colour, width: 2 }) });
}

// ---------------------------------------------------------------------------------------------
// The map and its projection
// ---------------------------------------------------------------------------------------------

const mode = config.mode;
let projection = "EPSG:3857";
if (mode === "drawing" && config.image) {
  projection = new Projection({ code: "taamir-drawing", units: "m", extent: config.image.extent });
}
const geojson = new GeoJSON({ dataProjection: "EPSG:4326", featureProjection: "EPSG:3857" });

function readCollection(collection) {
  return collection ? geojson.readFeatures(collection) : [];
}

const layers = [];

// An SVG preview is sized in millimetres of paper: the browser would rasterise it at a few hundred
// pixels and the map would blur it. Reload it at SVG_PIXELS wide (as a data: URL, nothing leaves the page).
const SVG_PIXELS = 3000;

async function loadSharpSvg(image, src) {
  const element = image.getImage();
  try {
    const response = await fetch(src, { credentials: "same-origin" });
    const svg = new DOMParser().parseFromString(await response.text(), "image/svg+xml").documentElement;
    const box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
    if (box.length === 4 && box[2] > 0 && box[3] > 0) {
      svg.setAttribute("width", String(SVG_PIXELS));
      svg.setAttribute("height", String(Math.round((SVG_PIXELS * box[3]) / box[2])));
    }
    element.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(svg))}`;
  } catch {
    element.src = src;
  }
}

// The plan image, placed on its extent.
if (config.image) {
  layers.push(
    new ImageLayer({
      source: new ImageStatic({
        url: config.image.url,
        imageExtent: config.image.extent,
        projection,
        imageLoadFunction: config.image.svg ? loadSharpSvg : undefined,
      }),
      opacity: mode === "geo" ? 0.75 : 1,
      zIndex: 5,
    }),
  );
}

// Parcels and zoning around the plan, from the geo API (as the public map loads them).
function bboxLoader(source, url, onLoaded) {
  source.setLoader(async (extent, resolution, proj, success, failure) => {
    const [minLon, minLat, maxLon, maxLat] = transformExtent(extent, proj, "EPSG:4326");
    const params = new URLSearchParams({ bbox: [minLon, minLat, maxLon, maxLat].map((v) => v.toFixed(6)).join(",") });
    try {
      const features = geojson.readFeatures(await api(`${url}?${params}`));
      source.addFeatures(features);
      success(features);
      if (onLoaded) onLoaded();
    } catch (error) {
      source.removeLoadedExtent(extent);
      showStatus(strings.loadError, "error");
      failure();
    }
  });
}

const parcelSource = new VectorSource({ strategy: bboxStrategy });
const zoningSource = new VectorSource({ strategy: bboxStrategy });
const dossierParcelSource = new VectorSource({ features: readCollection(data.parcels) });
if (mode !== "drawing") {
  bboxLoader(zoningSource, config.api.zoning);
  bboxLoader(parcelSource, config.api.parcels, () => {
    mapElement.dataset.parcelCount = String(parcelSource.getFeatures().length);
  });
  layers.push(
    new VectorLayer({ source: zoningSource, style: zoningStyle, zIndex: 1, minZoom: 14 }),
    new VectorLayer({ source: parcelSource, style: parcelStyle, zIndex: 10, minZoom: 15 }),
    new VectorLayer({ source: dossierParcelSource, style: dossierParcelStyle, zIndex: 20 }),
  );
}

const view = new View({ projection, center: [0, 0], zoom: 2, maxZoom: 24, constrainResolution: false });
const map = new Map({
  target: mapElement,
  view,
  layers,
  controls: defaultControls({
    attribution: false,
    rotate: false,
    zoomOptions: { zoomInTipLabel: strings.zoomIn, zoomOutTipLabel: strings.zoomOut },
  }).extend(mode === "drawing" ? [] : [new ScaleLine({ units: "metric" })]),
});

function fitTo(extent) {
  if (!extent || isEmpty(extent)) return;
  view.fit(extent, { size: map.getSize(), padding: [40, 40, 40, 40], maxZoom: 21 });
}

window.taamirViewer = {
  map,
  /** The pixel (CSS, relative to the map element) of a longitude/latitude in the "geo" and "compare" modes. */
  pixelFor(lon, lat) {
    return map.getPixelFromCoordinate(mode === "drawing" ? [lon, lat] : fromLonLat([lon, lat]));
  },
  lastMeasure: null,
};

// ---------------------------------------------------------------------------------------------
// The comparison page
// ---------------------------------------------------------------------------------------------

if (mode === "compare") {
  const before = new VectorSource({ features: readCollection(data.a) });
  const after = new VectorSource({ features: readCollection(data.b) });
  const diff = new VectorSource({ features: readCollection(data.diff) });
  map.addLayer(
    new VectorLayer({
      source: before,
      zIndex: 30,
      style: new Style({ stroke: new Stroke({ color: "#6b7280", width: 2, lineDash: [6, 4] }) }),
    }),
  );
  map.addLayer(
    new VectorLayer({
      source: diff,
      zIndex: 35,
      style: (feature) => changeStyle(feature.get("change") === "added" ? "#15803d" : "#b91c1c"),
    }),
  );
  map.addLayer(
    new VectorLayer({ source: after, zIndex: 40, style: new Style({ stroke: new Stroke({ color: "#1d4ed8", width: 2 }) }) }),
  );
  map.updateSize();
  const extent = createEmpty();
  for (const source of [before, after, dossierParcelSource]) {
    if (source.getFeatures().length) extendExtent(extent, source.getExtent());
  }
  fitTo(extent);
  mapElement.dataset.state = "ready";
}

// ---------------------------------------------------------------------------------------------
// The viewer: footprints, annotations, tools
// ---------------------------------------------------------------------------------------------

const footprintSource = new VectorSource({ features: readCollection(data.features) });
const annotationSource = new VectorSource();
const measureSource = new VectorSource();

if (mode === "geo" || mode === "drawing") {
  map.addLayer(
    new VectorLayer({
      source: footprintSource,
      zIndex: 30,
      style: (feature) => (feature.get("kind") === "site_boundary" ? siteStyle : footprintStyle),
    }),
  );
  map.addLayer(new VectorLayer({ source: annotationSource, style: annotationStyle, zIndex: 50 }));
  map.addLayer(new VectorLayer({ source: measureSource, style: measureStyle, zIndex: 60 }));
}

// --- measuring ---------------------------------------------------------------------------------

const measureResult = document.getElementById("measure-result");

/** Length (m) or area (m²) of a drawn geometry: geodesic on the map, scaled on a drawing. */
function measure(geometry) {
  const isArea = geometry.getType() === "Polygon";
  if (mode === "drawing") {
    const scale = config.metresPerUnit;
    if (!scale) return null;
    return isArea ? geometry.getArea() * scale * scale : geometry.getLength() * scale;
  }
  return isArea ? getArea(geometry, { projection: "EPSG:3857" }) : getLength(geometry, { projection: "EPSG:3857" });
}

function showMeasure(geometry) {
  const value = measure(geometry);
  if (value === null) {
    measureResult.textContent = strings.noScale;
    return;
  }
  const isArea = geometry.getType() === "Polygon";
  measureResult.textContent = isArea
    ? format(strings.areaValue, { value: areaFormat.format(value) })
    : format(strings.lengthValue, { value: lengthFormat.format(value) });
  measureResult.dataset.metres = String(value);
  measureResult.dataset.kind = isArea ? "area" : "length";
  window.taamirViewer.lastMeasure = { kind: isArea ? "area" : "length", value };
}

// --- tools -------------------------------------------------------------------------------------

const TOOLS = {
  "measure-length": { type: "LineString", purpose: "measure" },
  "measure-area": { type: "Polygon", purpose: "measure" },
  "annotate-point": { type: "Point", purpose: "annotate", kind: "point" },
  "annotate-line": { type: "LineString", purpose: "annotate", kind: "line" },
  "annotate-polygon": { type: "Polygon", purpose: "annotate", kind: "polygon" },
  "annotate-text": { type: "Point", purpose: "annotate", kind: "text" },
};

let draw = null;
// Snap to the parcels' and footprints' vertices and edges: setbacks are measured between them.
const snaps = [
  new Snap({ source: dossierParcelSource, pixelTolerance: 8 }),
  new Snap({ source: footprintSource, pixelTolerance: 8 }),
];
let pending = null; // { feature, kind } while the remark is being written
const form = document.getElementById("annotation-form");
const textArea = document.getElementById("annotation-text");
const helpElement = document.getElementById("tool-help");

function setTool(name) {
  if (draw) map.removeInteraction(draw);
  for (const snap of snaps) map.removeInteraction(snap);
  draw = null;
  cancelPending();
  const tool = TOOLS[name];
  mapElement.dataset.tool = name;
  if (!tool) return;
  draw = new Draw({ source: tool.purpose === "measure" ? measureSource : undefined, type: tool.type, style: measureStyle });
  if (tool.purpose === "measure") {
    draw.on("drawstart", (event) => {
      measureSource.clear();
      event.feature.getGeometry().on("change", (change) => showMeasure(change.target));
    });
    draw.on("drawend", (event) => showMeasure(event.feature.getGeometry()));
    helpElement.textContent = strings.measureHelp;
  } else {
    draw.on("drawend", (event) => startAnnotation(event.feature, tool.kind));
    helpElement.textContent = strings.annotateHelp;
  }
  map.addInteraction(draw);
  for (const snap of snaps) map.addInteraction(snap);
}

function initialiseTools() {
  const tools = document.getElementById("plan-tools");
  if (!tools) return;
  tools.addEventListener("change", (event) => {
    if (event.target.name === "tool") setTool(event.target.value);
  });
  const checked = tools.querySelector('input[name="tool"]:checked');
  if (checked) setTool(checked.value);
  window.taamirViewer.setTool = (name) => {
    const input = tools.querySelector(`input[name="tool"][value="${CSS.escape(name)}"]`);
    if (input) input.checked = true;
    setTool(name);
  };
}

// --- annotations -------------------------------------------------------------------------------

function startAnnotation(feature, kind) {
  cancelPending();
  pending = { feature, kind };
  feature.set("kind", kind);
  feature.set("status", "open");
  annotationSource.addFeature(feature);
  form.hidden = false;
  textArea.value = "";
  textArea.focus();
}

function cancelPending() {
  if (pending) annotationSource.removeFeature(pending.feature);
  pending = null;
  if (form) form.hidden = true;
}

if (form) {
  document.getElementById("annotation-cancel").addEventListener("click", cancelPending);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!pending) return;
    const geometry = geojson.writeGeometryObject(pending.feature.getGeometry(), { decimals: 9 });
    try {
      await api(config.api.annotations, {
        method: "POST",
        body: { kind: pending.kind, text: textArea.value, geometry },
      });
      annotationSource.removeFeature(pending.feature);
      pending = null;
      form.hidden = true;
      showStatus(strings.saved);
      await reloadAnnotations();
    } catch (error) {
      showStatus(format(strings.saveError, { reason: error.message }), "error");
    }
  });
}

async function reloadAnnotations() {
  try {
    renderAnnotations(await api(config.api.annotations));
  } catch (error) {
    showStatus(strings.loadError, "error");
  }
}

function apiFor(template, id) {
  return template.replace(/\/0\//, `/${id}/`);
}

function renderAnnotations(collection) {
  const list = document.getElementById("annotation-list");
  if (!collection || !list) return;
  annotationSource.clear();
  const features = geojson.readFeatures(collection);
  features.forEach((feature, index) => feature.set("index", index + 1));
  // On a drawing that is not georeferenced, annotations (carried from a georeferenced version) are listed only.
  if (mode === "geo") annotationSource.addFeatures(features);
  list.replaceChildren();
  list.dataset.count = String(features.length);
  if (!features.length) {
    list.append(element("li", { className: "empty" }, strings.noAnnotation));
    return;
  }
  for (const feature of features) list.append(annotationItem(feature));
}

function annotationItem(feature) {
  const p = feature.getProperties();
  const item = element("li", {
    className: `annotation annotation-${p.status}`,
    "data-annotation-id": String(p.id),
    "data-status": p.status,
  });
  const show = element("button", { type: "button", className: "link-button" }, strings.showOnMap);
  show.addEventListener("click", () => {
    const extent = feature.getGeometry().getExtent();
    if (feature.getGeometry() instanceof Point) view.animate({ center: getCenter(extent), duration: 0 });
    else fitTo(extent);
  });
  item.append(
    element(
      "p",
      { className: "annotation-head" },
      element("span", { className: "annotation-index" }, String(p.index)),
      " ",
      element("strong", {}, p.kind_label),
      " ",
      element("span", { className: `badge annotation-status annotation-status-${p.status}` }, p.status_label),
    ),
    element("p", { className: "annotation-text" }, p.text),
    element(
      "p",
      { className: "muted" },
      format(strings.byOn, { author: p.author, date: dateFormat.format(new Date(p.created_at)) }),
      p.carried_from_version ? ` · ${format(strings.carriedFrom, { number: p.carried_from_version })}` : "",
    ),
    mode === "geo" ? show : null,
  );
  if (p.replies.length) {
    item.append(
      element(
        "ol",
        { className: "annotation-replies" },
        ...p.replies.map((answer) =>
          element(
            "li",
            { className: answer.by_reviewer ? "reply reply-reviewer" : "reply reply-filer" },
            element("p", {}, answer.text),
            element(
              "p",
              { className: "muted" },
              format(strings.byOn, { author: answer.author, date: dateFormat.format(new Date(answer.created_at)) }),
            ),
          ),
        ),
      ),
    );
  }
  if (config.mayReply && p.status === "open") item.append(replyForm(p.id));
  if (config.mayAnnotate) {
    const resolving = p.status === "open";
    const button = element(
      "button",
      { type: "button", className: "button annotation-resolve" },
      resolving ? strings.resolve : strings.reopen,
    );
    button.addEventListener("click", async () => {
      try {
        await api(apiFor(resolving ? config.api.resolve : config.api.reopen, p.id), { method: "POST", body: {} });
        showStatus(resolving ? strings.resolved : strings.reopened);
        await reloadAnnotations();
      } catch (error) {
        showStatus(error.message, "error");
      }
    });
    item.append(button);
  }
  return item;
}

function replyForm(annotationId) {
  const id = `reply-${annotationId}`;
  const textarea = element("textarea", { id, name: "text", rows: "2", required: "", maxlength: "4000" });
  const replyForm = element(
    "form",
    { className: "stacked-form reply-form" },
    element("label", { for: id }, strings.reply),
    textarea,
    element("button", { type: "submit", className: "button" }, strings.sendReply),
  );
  replyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(apiFor(config.api.reply, annotationId), { method: "POST", body: { text: textarea.value } });
      showStatus(strings.replied);
      await reloadAnnotations();
    } catch (error) {
      showStatus(error.message, "error");
    }
  });
  return replyForm;
}

// ---------------------------------------------------------------------------------------------
// Start (after every declaration above)
// ---------------------------------------------------------------------------------------------

if (mode === "geo" || mode === "drawing") {
  map.updateSize();
  if (mode === "drawing") {
    fitTo(config.image ? config.image.extent : null);
  } else {
    const extent = createEmpty();
    for (const source of [footprintSource, dossierParcelSource]) {
      if (source.getFeatures().length) extendExtent(extent, source.getExtent());
    }
    if (!isEmpty(extent)) fitTo(extent);
    else if (config.image) fitTo(config.image.extent);
  }
  initialiseTools();
  renderAnnotations(data.annotations);
  mapElement.dataset.state = "ready";
}
