// The map of the dossier wizard's "location" step: the applicant picks the project's parcels by clicking
// them on the map (a second click removes one) or by typing a land-title reference (suggestions from the
// same parcel search as the public map). The chosen parcels are drawn, and the site — their union,
// computed by the server with its area — is outlined.
//
// The page works without this script: the form lists the chosen parcels as hidden inputs and has "Add"
// and "Remove" buttons the server understands. This script only does the same without a page reload.
// The page gives us JSON blocks (permits/views/wizard.py): "wizard-config", "wizard-strings" (every text,
// already translated), "wizard-parcels" (the chosen parcels) and "wizard-site" (their union).
import "ol/ol.css";
import "./wizard.css";

import Map from "ol/Map.js";
import View from "ol/View.js";
import { ScaleLine, defaults as defaultControls } from "ol/control.js";
import { getWidth, isEmpty } from "ol/extent.js";
import GeoJSON from "ol/format/GeoJSON.js";
import VectorLayer from "ol/layer/Vector.js";
import { bbox as bboxStrategy } from "ol/loadingstrategy.js";
import { fromLonLat, toLonLat, transformExtent } from "ol/proj.js";
import VectorSource from "ol/source/Vector.js";
import { Fill, Stroke, Style, Text } from "ol/style.js";
import { element, formatter, isolator, readJson } from "./dom.js";

const config = readJson("wizard-config", null);
const strings = readJson("wizard-strings", null);
const ZOOM_EPSILON = 0.01;
const SUGGEST_DELAY_MS = 250;
const MIN_QUERY_LENGTH = 2;
const FONT_FAMILY = 'system-ui, "Noto Sans", "Noto Sans Arabic", sans-serif';
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
const rtl = document.documentElement.dir === "rtl";
const numberFormat = new Intl.NumberFormat(config.numberLocale, { maximumFractionDigits: 0 });
const geojson = new GeoJSON({ dataProjection: "EPSG:4326", featureProjection: "EPSG:3857" });


const isolate = isolator(rtl);
const format = formatter(isolate);

async function fetchJson(url, { signal } = {}) {
  const response = await fetch(url, {
    signal,
    credentials: "same-origin",
    headers: { Accept: "application/geo+json, application/json", "Accept-Language": config.language },
  });
  if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
  return response.json();
}

function apiUrl(base, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, item);
  }
  return `${base}?${search}`;
}

const statusElement = document.getElementById("site-status");

function showStatus(text, kind = "info") {
  statusElement.textContent = text;
  statusElement.dataset.kind = kind;
}

// ---------------------------------------------------------------------------------------------
// Layers: parcels by bbox, the chosen parcels, the site outline
// ---------------------------------------------------------------------------------------------

const haloStroke = new Stroke({ color: "rgba(255, 255, 255, 0.9)", width: 3 });
const parcelOutline = new Style({
  stroke: new Stroke({ color: "#24303f", width: 1 }),
  fill: new Fill({ color: "rgba(255, 255, 255, 0.01)" }),
});

function parcelStyle(feature, resolution) {
  if (resolution > 0.6) return parcelOutline;
  return new Style({
    stroke: parcelOutline.getStroke(),
    fill: parcelOutline.getFill(),
    text: new Text({
      text: feature.get("reference") || "",
      font: `11px ${FONT_FAMILY}`,
      fill: new Fill({ color: "#24303f" }),
      stroke: haloStroke,
      overflow: false,
    }),
  });
}

const chosenStyle = new Style({
  fill: new Fill({ color: "rgba(209, 16, 90, 0.28)" }),
  stroke: new Stroke({ color: "rgba(209, 16, 90, 0.7)", width: 1.5 }),
});
const siteStyle = [
  new Style({ stroke: new Stroke({ color: "rgba(255, 255, 255, 0.95)", width: 6 }) }),
  new Style({ stroke: new Stroke({ color: "#d1105a", width: 3, lineDash: [10, 6] }) }),
];

let parcelsLoading = 0;
const parcelSource = new VectorSource({ strategy: bboxStrategy });
parcelSource.setLoader(async (extent, resolution, projection, success, failure) => {
  const [minLon, minLat, maxLon, maxLat] = transformExtent(extent, projection, "EPSG:4326");
  parcelsLoading += 1;
  try {
    const body = await fetchJson(
      apiUrl(config.api.parcels, { bbox: [minLon, minLat, maxLon, maxLat].map((v) => v.toFixed(6)).join(",") }),
    );
    const features = geojson.readFeatures(body);
    parcelSource.addFeatures(features);
    success(features);
  } catch (error) {
    parcelSource.removeLoadedExtent(extent);
    showStatus(strings.loadError, "error");
    failure();
  } finally {
    parcelsLoading -= 1;
    mapElement.dataset.parcelCount = String(parcelSource.getFeatures().length);
    mapElement.setAttribute("aria-busy", String(parcelsLoading > 0));
  }
});
const parcelLayer = new VectorLayer({
  source: parcelSource,
  style: parcelStyle,
  declutter: "parcels",
  minZoom: config.parcelMinZoom - ZOOM_EPSILON,
  zIndex: 10,
});

const chosenSource = new VectorSource();
const chosenLayer = new VectorLayer({ source: chosenSource, style: chosenStyle, zIndex: 20 });
const siteSource = new VectorSource();
const siteLayer = new VectorLayer({ source: siteSource, style: siteStyle, zIndex: 30 });

// ---------------------------------------------------------------------------------------------
// The map
// ---------------------------------------------------------------------------------------------

const mapElement = document.getElementById("wizard-map");
const zoomHint = document.getElementById("wizard-zoom-hint");
const view = new View({ center: fromLonLat(config.defaultCenter), zoom: 13, maxZoom: 21 });
const map = new Map({
  target: mapElement,
  view,
  layers: [parcelLayer, chosenLayer, siteLayer],
  controls: defaultControls({
    attribution: false,
    rotate: false,
    zoomOptions: { zoomInTipLabel: strings.zoomIn, zoomOutTipLabel: strings.zoomOut },
  }).extend([new ScaleLine({ units: "metric" })]),
});

function fitTo(extent, { maxZoom, animate }) {
  if (isEmpty(extent)) return;
  const padding = [40, 40, 40, 40];
  if (getWidth(extent) > 0) {
    view.fit(extent, { size: map.getSize(), padding, maxZoom, duration: animate && !reducedMotion ? 350 : 0 });
  } else {
    view.setCenter([extent[0], extent[1]]);
  }
}

function updateZoomHint() {
  zoomHint.hidden = (view.getZoom() ?? 0) >= config.parcelMinZoom - ZOOM_EPSILON;
}

map.on("moveend", updateZoomHint);

// ---------------------------------------------------------------------------------------------
// The chosen parcels: the list in the form is the truth; the map mirrors it
// ---------------------------------------------------------------------------------------------

const form = document.getElementById("site-form");
const list = document.getElementById("chosen-parcels");
const areaElement = document.getElementById("site-area");

function chosenIds() {
  return [...list.querySelectorAll('input[name="parcel"]')].map((input) => input.value);
}

function renderEmpty() {
  if (!list.querySelector("li[data-parcel-id]")) {
    list.replaceChildren(element("li", { className: "empty" }, list.dataset.emptyText || strings.noParcel));
  }
}

function listItem(id, reference, area) {
  const remove = element(
    "button",
    {
      type: "submit",
      name: "action",
      value: `remove:${id}`,
      className: "link-button",
      "aria-label": format(strings.removeParcel, { reference }),
    },
    strings.remove,
  );
  return element(
    "li",
    { "data-parcel-id": String(id), "data-reference": reference },
    element("input", { type: "hidden", name: "parcel", value: String(id) }),
    element("bdi", { className: "parcel-ref" }, reference),
    element("span", { className: "muted" }, format(strings.areaValue, { value: numberFormat.format(area) })),
    remove,
  );
}

function addParcel(feature) {
  const id = String(feature.get("id") ?? feature.getId());
  const reference = feature.get("reference");
  if (chosenIds().includes(id)) return false;
  list.querySelector("li.empty")?.remove();
  list.append(listItem(id, reference, feature.get("area_m2") || 0));
  const copy = feature.clone();
  copy.setId(id);
  chosenSource.addFeature(copy);
  showStatus(format(strings.added, { reference }));
  refreshSite();
  return true;
}

function removeParcel(id) {
  const item = list.querySelector(`li[data-parcel-id="${CSS.escape(String(id))}"]`);
  if (!item) return;
  const reference = item.dataset.reference;
  item.remove();
  const feature = chosenSource.getFeatureById(String(id));
  if (feature) chosenSource.removeFeature(feature);
  renderEmpty();
  showStatus(format(strings.removed, { reference }));
  refreshSite();
}

function toggleParcel(feature) {
  const id = String(feature.get("id") ?? feature.getId());
  if (chosenIds().includes(id)) removeParcel(id);
  else addParcel(feature);
}

let siteRequest = 0;

/** Ask the server for the union of the chosen parcels, its area and any problem (several communes…). */
async function refreshSite() {
  const request = ++siteRequest;
  const ids = chosenIds();
  mapElement.dataset.siteState = "loading";
  try {
    const summary = ids.length ? await fetchJson(apiUrl(config.api.sitePreview, { parcel: ids })) : { site: null };
    if (request !== siteRequest) return;
    siteSource.clear();
    if (summary.site) siteSource.addFeature(geojson.readFeature({ type: "Feature", geometry: summary.site }));
    areaElement.textContent =
      summary.area_m2 != null ? format(strings.siteArea, { value: numberFormat.format(summary.area_m2) }) : "";
    if (summary.problem) showStatus(summary.problem, "error");
    mapElement.dataset.siteState = "ready";
    mapElement.dataset.chosenCount = String(ids.length);
  } catch (error) {
    if (request === siteRequest) showStatus(strings.loadError, "error");
  }
}

// Start from what the server rendered.
const initialParcels = readJson("wizard-parcels", null);
if (initialParcels) chosenSource.addFeatures(geojson.readFeatures(initialParcels));
for (const feature of chosenSource.getFeatures()) feature.setId(String(feature.get("id")));
const initialSite = readJson("wizard-site", null);
if (initialSite) siteSource.addFeature(geojson.readFeature({ type: "Feature", geometry: initialSite }));
mapElement.dataset.chosenCount = String(chosenIds().length);
mapElement.dataset.siteState = "ready";

map.updateSize();
if (config.fitParcels && chosenSource.getFeatures().length) {
  fitTo(chosenSource.getExtent(), { maxZoom: 19, animate: false });
} else if (Array.isArray(config.extent)) {
  fitTo(transformExtent(config.extent, "EPSG:4326", "EPSG:3857"), {
    maxZoom: config.parcelMinZoom - 0.5,
    animate: false,
  });
}
updateZoomHint();

// ---------------------------------------------------------------------------------------------
// Clicking the map
// ---------------------------------------------------------------------------------------------

map.on("singleclick", async (event) => {
  if ((view.getZoom() ?? 0) < config.parcelMinZoom - ZOOM_EPSILON) {
    showStatus(strings.zoomToPick);
    return;
  }
  const hit = map.forEachFeatureAtPixel(event.pixel, (feature) => feature, {
    layerFilter: (layer) => layer === parcelLayer,
  });
  if (hit) {
    toggleParcel(hit);
    return;
  }
  const [lon, lat] = toLonLat(event.coordinate);
  try {
    const body = await fetchJson(apiUrl(config.api.parcels, { lon: lon.toFixed(7), lat: lat.toFixed(7) }));
    const [feature] = geojson.readFeatures(body);
    if (feature) toggleParcel(feature);
    else showStatus(strings.noParcelHere);
  } catch (error) {
    showStatus(strings.loadError, "error");
  }
});

map.on("pointermove", (event) => {
  if (event.dragging) return;
  const over = parcelLayer.isVisible(view) && map.hasFeatureAtPixel(event.pixel, { layerFilter: (l) => l === parcelLayer });
  mapElement.classList.toggle("over-parcel", over);
});

// ---------------------------------------------------------------------------------------------
// The reference box: suggestions in a datalist, "Add" looks the reference up
// ---------------------------------------------------------------------------------------------

const input = document.getElementById("reference-input");
const datalist = document.getElementById("reference-suggestions");
let suggestTimer = 0;
let suggestController = null;

async function suggest() {
  const query = input.value.trim();
  suggestController?.abort();
  if (query.replace(/\s+/g, "").length < MIN_QUERY_LENGTH) return;
  suggestController = new AbortController();
  try {
    const body = await fetchJson(apiUrl(config.api.parcels, { reference_prefix: query, limit: 10 }), {
      signal: suggestController.signal,
    });
    datalist.replaceChildren(
      ...body.features.map((feature) => element("option", { value: feature.properties.reference })),
    );
  } catch (error) {
    if (error.name !== "AbortError") showStatus(strings.loadError, "error");
  }
}

input.addEventListener("input", () => {
  window.clearTimeout(suggestTimer);
  suggestTimer = window.setTimeout(suggest, SUGGEST_DELAY_MS);
});

async function addByReference() {
  const reference = input.value.trim();
  if (reference.replace(/\s+/g, "").length < MIN_QUERY_LENGTH) {
    showStatus(strings.searchTooShort, "error");
    return;
  }
  showStatus(strings.loading);
  try {
    const body = await fetchJson(apiUrl(config.api.parcels, { reference }));
    const [feature] = geojson.readFeatures(body);
    if (!feature) {
      showStatus(format(strings.notFound, { reference }), "error");
      return;
    }
    addParcel(feature);
    input.value = "";
    fitTo(feature.getGeometry().getExtent(), { maxZoom: 19, animate: true });
  } catch (error) {
    showStatus(strings.loadError, "error");
  }
}

// "Add" and "Remove" are submit buttons for the page without script; here they act in place.
form.addEventListener("submit", (event) => {
  const action = event.submitter?.value || "";
  if (action === "add") {
    event.preventDefault();
    addByReference();
  } else if (action.startsWith("remove:")) {
    event.preventDefault();
    removeParcel(action.slice("remove:".length));
  }
});
