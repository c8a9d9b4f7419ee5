// The public map of Taamir: authorised works and parcels as vector tiles from /tiles/, administrative
// areas, zoning and constraint areas from the geo API, over a plain background (no base-map tiles,
// nothing fetched from another host); filters and a time slider for the works, a parcel search with
// suggestions, an information panel for the selected parcel or permit, and live updates: every change
// published by the server (/geo/events, server-sent events) redraws the tiles of that layer.
//
// The page gives us two JSON blocks (geo/views.py): "map-config" (API and tile addresses, language,
// where to open, the works' filter choices) and "map-strings" (every text shown, already translated).
// No UI text lives in this file.
import "ol/ol.css";
import "./map.css";

import Map from "ol/Map.js";
import View from "ol/View.js";
import { ScaleLine, defaults as defaultControls } from "ol/control.js";
import { getWidth } from "ol/extent.js";
import GeoJSON from "ol/format/GeoJSON.js";
import LayerGroup from "ol/layer/Group.js";
import VectorLayer from "ol/layer/Vector.js";
import VectorTileLayer from "ol/layer/VectorTile.js";
import MVT from "ol/format/MVT.js";
import { toFeature } from "ol/render/Feature.js";
import VectorTileSource from "ol/source/VectorTile.js";
import { bbox as bboxStrategy } from "ol/loadingstrategy.js";
import { fromLonLat, toLonLat, transformExtent } from "ol/proj.js";
import VectorSource from "ol/source/Vector.js";
import { Circle as CircleStyle, Fill, Stroke, Style, Text } from "ol/style.js";
import { element, formatter, isolator, readJson } from "./dom.js";

const config = readJson("map-config");
const strings = readJson("map-strings");
const rtl = Boolean(config.rtl);
// A layer's minZoom is exclusive in OpenLayers; this tolerance makes "zoom ≥ n" hold at exactly n.
const ZOOM_EPSILON = 0.01;
const SUGGEST_DELAY_MS = 250;
const SUGGEST_LIMIT = 10;
const MIN_QUERY_LENGTH = 2;
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const numberFormat = new Intl.NumberFormat(config.numberLocale, { maximumFractionDigits: 1 });
const ratioFormat = new Intl.NumberFormat(config.numberLocale, { maximumFractionDigits: 2 });
const percentFormat = new Intl.NumberFormat(config.numberLocale, { style: "percent", maximumFractionDigits: 0 });
const listFormat = new Intl.ListFormat(config.numberLocale, { style: "long", type: "conjunction" });

const geojson = new GeoJSON({ dataProjection: "EPSG:4326", featureProjection: "EPSG:3857" });

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------


const isolate = isolator(rtl);
const format = formatter(isolate);

class ApiError extends Error {}

/** GET a JSON answer of our API; problem+json answers become an ApiError with their detail. */
async function fetchJson(url, { signal } = {}) {
  const response = await fetch(url, {
    signal,
    credentials: "same-origin",
    headers: { Accept: "application/geo+json, application/json", "Accept-Language": config.language },
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      detail = problem.detail || problem.title || detail;
    } catch {
      // Not a problem document: keep the HTTP status line.
    }
    throw new ApiError(detail);
  }
  return response.json();
}

function apiUrl(base, params) {
  return `${base}?${new URLSearchParams(params)}`;
}

const statusElement = document.getElementById("map-status");

function showStatus(text, kind = "info") {
  statusElement.textContent = text;
  statusElement.dataset.kind = kind;
}

function localName(properties) {
  if (!properties) return "";
  return (config.language === "ar" && properties.name_ar) || properties.name_fr || properties.name_ar || "";
}

// ---------------------------------------------------------------------------------------------
// Colours: one per zone code (by zone family, then varied per code) and one per constraint kind
// ---------------------------------------------------------------------------------------------

// Hues of the usual zone-code prefixes of Moroccan zoning plans (longest prefix wins); other codes
// get a hue of their own from a hash. Hues near the highlight's crimson (about 335°) are avoided.
const ZONE_FAMILY_HUES = {
  EQ: 210, // public facilities (équipements)
  EV: 120, // green spaces (espaces verts)
  R: 38, // apartment buildings (immeubles)
  B: 28, // apartment buildings
  D: 54, // villas and detached houses
  E: 46, // economic housing
  H: 32, // housing
  M: 12, // mixed use
  C: 2, // commerce
  I: 275, // industry
  S: 195, // services
  T: 175, // tourism
  V: 120, // villas in some plans, green spaces in others: green either way
  N: 135, // natural areas
  A: 85, // agriculture
};
const ZONE_PREFIXES = Object.keys(ZONE_FAMILY_HUES).sort((a, b) => b.length - a.length);

function hashString(text) {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash;
}

const zoneColourCache = new globalThis.Map();

/** The colour of a zone code as [r, g, b]. */
function zoneColour(code) {
  const key = code || "?";
  if (!zoneColourCache.has(key)) {
    const hash = hashString(key);
    const prefix = ZONE_PREFIXES.find((candidate) => key.toUpperCase().startsWith(candidate));
    const hue = prefix ? ZONE_FAMILY_HUES[prefix] + ((hash % 17) - 8) : ((hash * 137.508) % 300) + 10;
    const lightness = 50 + (hash % 3) * 6;
    zoneColourCache.set(key, hslToRgb((hue + 360) % 360, 68, lightness));
  }
  return zoneColourCache.get(key);
}

function hslToRgb(hue, saturation, lightness) {
  const s = saturation / 100;
  const l = lightness / 100;
  const k = (n) => (n + hue / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

const rgba = ([r, g, b], alpha) => `rgba(${r}, ${g}, ${b}, ${alpha})`;

const CONSTRAINT_COLOURS = {
  heritage: "#8a4b14",
  coastline: "#0b6fa4",
  airport_servitude: "#6d28d9",
  road_alignment: "#b42318",
  flood_zone: "#1d4ed8",
  utility_easement: "#c2410c",
  forest: "#15803d",
  other: "#4b5563",
};

const constraintColour = (kind) => CONSTRAINT_COLOURS[kind] || CONSTRAINT_COLOURS.other;

/** A canvas pattern of diagonal hatches, for constraint areas. */
function hatchPattern(colour) {
  const size = 10;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const context = canvas.getContext("2d");
  context.strokeStyle = colour;
  context.lineWidth = 1.5;
  context.beginPath();
  // Three segments so the hatches join across tiles.
  context.moveTo(0, size);
  context.lineTo(size, 0);
  context.moveTo(-size / 2, size / 2);
  context.lineTo(size / 2, -size / 2);
  context.moveTo(size / 2, size * 1.5);
  context.lineTo(size * 1.5, size / 2);
  context.stroke();
  return context.createPattern(canvas, "repeat");
}

// ---------------------------------------------------------------------------------------------
// Styles
// ---------------------------------------------------------------------------------------------

const FONT_FAMILY = 'system-ui, "Noto Sans", "Noto Sans Arabic", "DejaVu Sans", sans-serif';
const haloStroke = new Stroke({ color: "rgba(255, 255, 255, 0.9)", width: 3 });

const adminStyles = {
  region: new Style({ stroke: new Stroke({ color: "#3b2a5c", width: 3 }) }),
  province: new Style({ stroke: new Stroke({ color: "#4b3a72", width: 2.5, lineDash: [10, 5] }) }),
  commune: new Style({ stroke: new Stroke({ color: "#5b3f8c", width: 2 }) }),
  arrondissement: new Style({ stroke: new Stroke({ color: "#7c5cb0", width: 1.2, lineDash: [6, 4] }) }),
};

function adminStyle(feature) {
  const level = feature.get("level");
  const base = adminStyles[level] || adminStyles.commune;
  const name = localName(feature.getProperties());
  if (!name || level === "region" || level === "province") return base;
  return [
    base,
    new Style({
      text: new Text({
        text: name,
        font: `600 13px ${FONT_FAMILY}`,
        fill: new Fill({ color: "#3b2a5c" }),
        stroke: haloStroke,
        overflow: false,
      }),
    }),
  ];
}

const zoningStyleCache = new globalThis.Map();

function zoningStyle(feature, resolution) {
  const code = feature.get("zone_code") || "";
  const withLabel = resolution < 10; // about zoom 14 and closer
  const key = `${code}|${withLabel}`;
  if (!zoningStyleCache.has(key)) {
    const colour = zoneColour(code);
    zoningStyleCache.set(
      key,
      new Style({
        fill: new Fill({ color: rgba(colour, 0.42) }),
        stroke: new Stroke({ color: rgba(colour.map((c) => Math.round(c * 0.7)), 0.9), width: 1 }),
        text: withLabel
          ? new Text({
              text: code,
              font: `600 12px ${FONT_FAMILY}`,
              fill: new Fill({ color: "#1f2933" }),
              stroke: haloStroke,
              overflow: false,
            })
          : undefined,
      }),
    );
  }
  return zoningStyleCache.get(key);
}

const constraintStyleCache = new globalThis.Map();

function constraintStyle(feature) {
  const kind = feature.get("kind") || "other";
  if (!constraintStyleCache.has(kind)) {
    const colour = constraintColour(kind);
    constraintStyleCache.set(
      kind,
      new Style({
        fill: new Fill({ color: hatchPattern(colour) }),
        stroke: new Stroke({ color: colour, width: 1.8, lineDash: [7, 5] }),
      }),
    );
  }
  return constraintStyleCache.get(kind);
}

const parcelOutline = new Style({
  stroke: new Stroke({ color: "#24303f", width: 1 }),
  // A nearly transparent fill so the whole parcel, not only its outline, reacts to the pointer.
  fill: new Fill({ color: "rgba(255, 255, 255, 0.01)" }),
});

function parcelStyle(feature, resolution) {
  if (resolution > 0.6) return parcelOutline; // labels from about zoom 18
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

const highlightStyle = [
  new Style({ stroke: new Stroke({ color: "rgba(255, 255, 255, 0.95)", width: 7 }) }),
  new Style({
    stroke: new Stroke({ color: "#d1105a", width: 3.5 }),
    fill: new Fill({ color: "rgba(209, 16, 90, 0.18)" }),
  }),
];

// ---------------------------------------------------------------------------------------------
// Authorised works: a colour per procedure, lapsed and withdrawn permits in grey; the filters
// (procedure, period, time slider) hide features on the client, so tiles stay shared and cached
// ---------------------------------------------------------------------------------------------

// Colour-blind-friendly hues, given to the procedures in the order of the filter list.
const PROCEDURE_PALETTE = ["#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#0f4c81"];
const ENDED_STATUSES = new Set(["lapsed", "withdrawn"]);
const procedureCodes = (config.works?.procedures || []).map((procedure) => procedure.code);

function procedureColour(code) {
  const index = procedureCodes.indexOf(code);
  if (index >= 0) return PROCEDURE_PALETTE[index % PROCEDURE_PALETTE.length];
  const [r, g, b] = hslToRgb((hashString(code || "?") * 137.508) % 300, 60, 42);
  return `rgb(${r}, ${g}, ${b})`;
}

const worksFilter = { procedures: new Set(procedureCodes), since: "", until: "", sliderUntil: "" };

/** Whether the filters let a work through (procedures unknown when the page was built are shown). */
function workShown(feature) {
  const code = feature.get("procedure_code");
  if (procedureCodes.includes(code) && !worksFilter.procedures.has(code)) return false;
  const date = feature.get("decision_date") || "";
  if (worksFilter.since && date < worksFilter.since) return false;
  if (worksFilter.until && date > worksFilter.until) return false;
  if (worksFilter.sliderUntil && date > worksFilter.sliderUntil) return false;
  return true;
}

const workStyleCache = new globalThis.Map();

function workStyle(feature) {
  if (!workShown(feature)) return undefined;
  const code = feature.get("procedure_code") || "";
  const ended = ENDED_STATUSES.has(feature.get("status"));
  const point = feature.getType() === "Point";
  const key = `${code}|${ended}|${point}`;
  if (!workStyleCache.has(key)) {
    const colour = ended ? "#6b7280" : procedureColour(code);
    const stroke = new Stroke({ color: ended ? "#374151" : "#ffffff", width: point ? 1.5 : 2, lineDash: ended ? [4, 3] : undefined });
    workStyleCache.set(
      key,
      point
        ? new Style({ image: new CircleStyle({ radius: 6, fill: new Fill({ color: colour }), stroke }) })
        : [
            new Style({ stroke: new Stroke({ color: colour, width: 5 }) }),
            new Style({ fill: new Fill({ color: ended ? "rgba(107, 114, 128, 0.35)" : colour }), stroke }),
          ],
    );
  }
  return workStyleCache.get(key);
}

// ---------------------------------------------------------------------------------------------
// Sources loaded by bbox from the API
// ---------------------------------------------------------------------------------------------

// Extents to load again after the next move: failed loads, and loads the API cut at its limit
// (those are worth loading again once the user has zoomed in).
const staleLoads = [];

/**
 * A vector source filled from one of our GeoJSON list endpoints, one request per missing bbox.
 * @param {string} url the endpoint
 * @param {Object<string, string>} params extra query parameters
 */
function apiSource(url, params = {}) {
  const source = new VectorSource({ strategy: bboxStrategy });
  source.setLoader(async (extent, resolution, projection) => {
    const [minLon, minLat, maxLon, maxLat] = transformExtent(extent, projection, "EPSG:4326");
    const bbox = [Math.max(minLon, -180), Math.max(minLat, -90), Math.min(maxLon, 180), Math.min(maxLat, 90)];
    if (bbox[0] >= bbox[2] || bbox[1] >= bbox[3]) return []; // a copy of the world beyond ±180°
    try {
      const body = await fetchJson(apiUrl(url, { ...params, bbox: bbox.map((v) => v.toFixed(6)).join(",") }));
      const truncated = Number(body.numberMatched) > Number(body.numberReturned);
      if (truncated) staleLoads.push({ source, extent, zoom: view.getZoom(), truncated: true });
      source.set("truncated", truncated);
      return geojson.readFeatures(body);
    } catch (error) {
      staleLoads.push({ source, extent, zoom: view.getZoom(), truncated: false });
      showStatus(strings.loadError, "error");
      throw error;
    }
  });
  return source;
}

function forgetStaleLoads() {
  const zoom = view.getZoom();
  for (let i = staleLoads.length - 1; i >= 0; i--) {
    const load = staleLoads[i];
    if (!load.truncated || zoom > load.zoom + 0.5) {
      load.source.removeLoadedExtent(load.extent);
      load.source.changed();
      staleLoads.splice(i, 1);
    }
  }
}

const ADMIN_LEVELS = [
  // level, shown above this zoom (exclusive), up to this zoom (inclusive)
  ["region", -Infinity, 8],
  ["province", 6, 11],
  ["commune", 8.5, Infinity],
  ["arrondissement", 11.5, Infinity],
];

const adminLayers = new LayerGroup({
  zIndex: 40,
  layers: ADMIN_LEVELS.map(
    ([level, minZoom, maxZoom]) =>
      new VectorLayer({
        source: apiSource(config.api.adminAreas, { level }),
        style: adminStyle,
        declutter: `admin-${level}`,
        minZoom,
        maxZoom,
        properties: { level },
      }),
  ),
});

const zoningSource = apiSource(config.api.zoning);
const zoningLayer = new VectorLayer({ source: zoningSource, style: zoningStyle, minZoom: 9, zIndex: 10 });

const constraintSource = apiSource(config.api.constraints);
const constraintLayer = new VectorLayer({ source: constraintSource, style: constraintStyle, minZoom: 9, zIndex: 20 });

// ---------------------------------------------------------------------------------------------
// Vector tiles: parcels and authorised works
// ---------------------------------------------------------------------------------------------

// Each live change of a layer bumps its version: the tile URLs change, so neither the browser's HTTP
// cache nor OpenLayers' tile cache can answer with a tile older than the change.
const tileVersions = { parcels: 0, authorisedWorks: 0 };

function tileUrl(key) {
  const template = config.tiles[key];
  return tileVersions[key] ? `${template}?v=${tileVersions[key]}` : template;
}

function tileSource(key, minZoom) {
  return new VectorTileSource({ format: new MVT(), url: tileUrl(key), minZoom, maxZoom: config.tilesMaxZoom || 20 });
}

const parcelSource = tileSource("parcels", 14);
const parcelLayer = new VectorTileLayer({
  source: parcelSource,
  style: parcelStyle,
  declutter: "parcels",
  minZoom: config.parcelMinZoom - ZOOM_EPSILON,
  zIndex: 30,
});

const worksSource = tileSource("authorisedWorks", 5);
const worksLayer = new VectorTileLayer({ source: worksSource, style: workStyle, zIndex: 35, minZoom: 5 });

const highlightSource = new VectorSource();
const highlightLayer = new VectorLayer({ source: highlightSource, style: highlightStyle, zIndex: 50 });

const switchableLayers = {
  authorisedWorks: worksLayer,
  adminAreas: adminLayers,
  zoning: zoningLayer,
  constraints: constraintLayer,
  parcels: parcelLayer,
};

// ---------------------------------------------------------------------------------------------
// The map
// ---------------------------------------------------------------------------------------------

const mapElement = document.getElementById("map");
const view = new View({
  center: fromLonLat(config.defaultCenter || [0, 0]),
  zoom: config.defaultZoom || 12,
  maxZoom: 21,
});

const map = new Map({
  target: mapElement,
  view,
  layers: [zoningLayer, constraintLayer, parcelLayer, worksLayer, adminLayers, highlightLayer],
  controls: defaultControls({
    attribution: false,
    rotate: false,
    zoomOptions: { zoomInTipLabel: strings.zoomIn, zoomOutTipLabel: strings.zoomOut },
  }).extend([new ScaleLine({ units: "metric" })]),
});

if (Array.isArray(config.extent)) {
  map.updateSize();
  const extent = transformExtent(config.extent, "EPSG:4326", "EPSG:3857");
  // Open on the whole area with its zoning, just below the zoom where parcels appear (the hint says so).
  const maxZoom = config.parcelMinZoom - 0.5;
  if (getWidth(extent) > 0) view.fit(extent, { size: map.getSize(), padding: [24, 24, 24, 24], maxZoom });
  else view.setCenter(fromLonLat(config.extent.slice(0, 2)));
}

map.on("loadstart", () => mapElement.setAttribute("aria-busy", "true"));
map.on("loadend", () => mapElement.setAttribute("aria-busy", "false"));
function featuresInView(layer) {
  if (!layer.getVisible() || !layer.isVisible(view)) return [];
  const byId = new globalThis.Map();
  for (const feature of layer.getFeaturesInExtent(view.calculateExtent(map.getSize()))) {
    byId.set(feature.getId() ?? feature.get("reference"), feature);
  }
  return [...byId.values()];
}

function countFeatures() {
  mapElement.dataset.parcelCount = String(featuresInView(parcelLayer).length);
  const works = featuresInView(worksLayer).filter(workShown);
  mapElement.dataset.workCount = String(works.length);
  worksCount.textContent = worksLayer.getVisible() ? format(strings.worksInView, { count: works.length }) : "";
}
map.on("rendercomplete", countFeatures);

// ---------------------------------------------------------------------------------------------
// Layer switcher, hints and legend
// ---------------------------------------------------------------------------------------------

for (const checkbox of document.querySelectorAll("input[data-layer]")) {
  const layer = switchableLayers[checkbox.dataset.layer];
  if (!layer) continue;
  layer.setVisible(checkbox.checked);
  checkbox.addEventListener("change", () => {
    layer.setVisible(checkbox.checked);
    updateHints();
    updateLegend();
  });
}

const zoomHint = document.getElementById("parcel-zoom-hint");

function updateHints() {
  const zoom = view.getZoom() ?? 0;
  zoomHint.hidden = !(parcelLayer.getVisible() && zoom < config.parcelMinZoom - ZOOM_EPSILON);
}

const zoningLegend = document.getElementById("zoning-legend");
const constraintLegend = document.getElementById("constraint-legend");
const legendEmpty = document.getElementById("legend-empty");

function legendEntries(source, layer, keyOf) {
  if (!layer.getVisible() || !layer.isVisible(view)) return new globalThis.Map();
  const entries = new globalThis.Map();
  for (const feature of source.getFeaturesInExtent(view.calculateExtent(map.getSize()))) {
    const [key, label] = keyOf(feature);
    if (key && !entries.has(key)) entries.set(key, label);
  }
  return new globalThis.Map([...entries].sort(([a], [b]) => a.localeCompare(b, config.numberLocale)));
}

function updateLegend() {
  const zones = legendEntries(zoningSource, zoningLayer, (feature) => {
    const code = feature.get("zone_code");
    const label = feature.get("label");
    return [code, label ? `${code} — ${label}` : code];
  });
  zoningLegend.replaceChildren(
    ...[...zones].map(([code, label]) =>
      element(
        "li",
        { "data-zone-code": code },
        element("span", {
          className: "swatch",
          "aria-hidden": "true",
          style: { backgroundColor: rgba(zoneColour(code), 0.6), borderColor: rgba(zoneColour(code), 1) },
        }),
        element("bdi", {}, label),
      ),
    ),
  );
  const kinds = legendEntries(constraintSource, constraintLayer, (feature) => {
    const kind = feature.get("kind") || "other";
    return [kind, strings.constraintKinds?.[kind] || feature.get("kind_label") || kind];
  });
  constraintLegend.replaceChildren(
    ...[...kinds].map(([kind, label]) =>
      element(
        "li",
        { "data-constraint-kind": kind },
        element("span", {
          className: "swatch swatch-hatched",
          "aria-hidden": "true",
          style: { color: constraintColour(kind), borderColor: constraintColour(kind) },
        }),
        label,
      ),
    ),
  );
  zoningLegend.hidden = zones.size === 0;
  constraintLegend.hidden = kinds.size === 0;
  legendEmpty.hidden = zones.size + kinds.size > 0;
}

map.on("moveend", () => {
  forgetStaleLoads();
  updateHints();
  updateLegend();
});
for (const source of [zoningSource, constraintSource]) {
  source.on("featuresloadend", () => {
    updateHints();
    updateLegend();
  });
}
updateHints();

// ---------------------------------------------------------------------------------------------
// The information panel of the selected parcel
// ---------------------------------------------------------------------------------------------

const panel = document.getElementById("parcel-panel");
const panelTitle = document.getElementById("parcel-panel-title");
const panelBody = document.getElementById("parcel-panel-body");
const closeButton = document.getElementById("parcel-panel-close");
const closeParcelLabel = closeButton.getAttribute("aria-label");
closeButton.addEventListener("click", clearSelection);

function formatMetres(value) {
  return format(strings.metresValue, { value: numberFormat.format(value) });
}

/** A rule value for display, or "Not set" when the regulation leaves it empty. */
function ruleValue(value, formatter) {
  return value === null || value === undefined || value === "" ? strings.notSet : formatter(value);
}

function factList(rows) {
  const list = element("dl", { className: "facts" });
  for (const [label, value, attributes] of rows) {
    list.append(element("dt", {}, label), element("dd", attributes || {}, value));
  }
  return list;
}

function zoneSection(zone) {
  const colour = zoneColour(zone.zone_code);
  const uses = (zone.allowed_uses || []).map((use) => strings.uses?.[use] || use);
  return element(
    "section",
    { className: "zone", "data-zone-code": zone.zone_code || "" },
    element(
      "h4",
      {},
      element("span", {
        className: "swatch",
        "aria-hidden": "true",
        style: { backgroundColor: rgba(colour, 0.6), borderColor: rgba(colour, 1) },
      }),
      element("bdi", { className: "zone-code" }, zone.zone_code || ""),
      zone.label ? element("span", { className: "zone-label" }, "— ", element("bdi", {}, zone.label)) : null,
    ),
    factList([
      [strings.plan, element("bdi", {}, zone.plan_name || zone.plan || strings.notSet)],
      ...(typeof zone.share === "number" ? [[strings.share, percentFormat.format(zone.share)]] : []),
      [strings.maxHeight, ruleValue(zone.max_height_m, formatMetres)],
      [strings.maxFloors, ruleValue(zone.max_floors, (v) => numberFormat.format(v))],
      [strings.coverageRatio, ruleValue(zone.coverage_ratio, (v) => percentFormat.format(v))],
      [strings.floorAreaRatio, ruleValue(zone.floor_area_ratio, (v) => ratioFormat.format(v))],
      [strings.minSetback, ruleValue(zone.min_setback_m, formatMetres)],
      [strings.allowedUses, uses.length ? listFormat.format(uses) : strings.notSet],
    ]),
  );
}

function constraintItem(constraint) {
  const kind = constraint.kind || "other";
  const label = strings.constraintKinds?.[kind] || constraint.kind_label || kind;
  return element(
    "li",
    { "data-constraint-kind": kind },
    element("span", {
      className: "swatch swatch-hatched",
      "aria-hidden": "true",
      style: { color: constraintColour(kind), borderColor: constraintColour(kind) },
    }),
    label,
    constraint.name ? " — " : "",
    constraint.name ? element("bdi", {}, constraint.name) : null,
  );
}

function renderPanel(properties) {
  const zoning = properties.zoning || [];
  const constraints = properties.constraints || [];
  panelTitle.replaceChildren(element("bdi", {}, properties.reference));
  panelBody.replaceChildren(
    factList([
      [strings.reference, element("bdi", {}, properties.reference), { className: "parcel-reference" }],
      [strings.area, format(strings.areaValue, { value: numberFormat.format(properties.area_m2) })],
      [strings.commune, properties.commune ? element("bdi", {}, localName(properties.commune)) : strings.notSet],
    ]),
    element("h3", {}, strings.zoning),
    zoning.length ? element("div", { className: "zones" }, ...zoning.map(zoneSection)) : element("p", {}, strings.noZoning),
    element("h3", {}, strings.constraints),
    constraints.length
      ? element("ul", { className: "constraints" }, ...constraints.map(constraintItem))
      : element("p", {}, strings.noConstraint),
  );
  panel.dataset.selectedReference = properties.reference;
  panel.dataset.selectedKind = "parcel";
  delete panel.dataset.status;
  delete panel.dataset.workId;
  closeButton.setAttribute("aria-label", closeParcelLabel);
  panel.hidden = false;
}

/** Highlight a parcel feature, show its panel and, when asked, bring it into view. */
function selectParcel(feature, { zoom }) {
  const properties = feature.getProperties();
  highlightSource.clear();
  highlightSource.addFeature(feature);
  renderPanel(properties);
  mapElement.dataset.selectedReference = properties.reference;
  if (zoom) {
    // Keep the parcel clear of the panel, which covers the inline-end side of the map.
    const side = panel.offsetWidth && map.getSize()[0] > 2.5 * panel.offsetWidth ? panel.offsetWidth + 24 : 24;
    const padding = rtl ? [48, 24, 48, side] : [48, side, 48, 24];
    view.fit(feature.getGeometry().getExtent(), { padding, maxZoom: 18, duration: reducedMotion ? 0 : 400 });
  }
  showStatus(format(strings.selected, { reference: properties.reference }));
}

function clearSelection() {
  highlightSource.clear();
  panel.hidden = true;
  panel.dataset.selectedReference = "";
  delete panel.dataset.selectedKind;
  delete panel.dataset.status;
  delete panel.dataset.workId;
  delete mapElement.dataset.selectedReference;
}

// Only the latest selection request may change the selection.
let selectionRequest = 0;

async function selectByReference(reference) {
  const request = ++selectionRequest;
  showStatus(strings.loading);
  try {
    const body = await fetchJson(apiUrl(config.api.parcels, { reference }));
    if (request !== selectionRequest) return;
    const [feature] = geojson.readFeatures(body);
    if (!feature) {
      clearSelection();
      showStatus(format(strings.notFound, { reference }), "error");
      return;
    }
    selectParcel(feature, { zoom: true });
  } catch (error) {
    if (request === selectionRequest) showStatus(strings.loadError, "error");
  }
}

map.on("singleclick", async (event) => {
  const work = worksLayer.getVisible()
    ? map.forEachFeatureAtPixel(event.pixel, (feature) => feature, { layerFilter: (l) => l === worksLayer, hitTolerance: 3 })
    : undefined;
  if (work) {
    ++selectionRequest;
    selectWork(work);
    return;
  }
  if ((view.getZoom() ?? 0) < config.parcelMinZoom - ZOOM_EPSILON || !parcelLayer.getVisible()) return;
  const [lon, lat] = toLonLat(event.coordinate);
  const request = ++selectionRequest;
  try {
    const body = await fetchJson(apiUrl(config.api.parcels, { lon: lon.toFixed(7), lat: lat.toFixed(7) }));
    if (request !== selectionRequest) return;
    const [feature] = geojson.readFeatures(body);
    if (feature) selectParcel(feature, { zoom: false });
    else {
      clearSelection();
      showStatus(strings.noParcelHere);
    }
  } catch (error) {
    if (request === selectionRequest) showStatus(strings.loadError, "error");
  }
});

map.on("pointermove", (event) => {
  if (event.dragging) return;
  const overFeature = map.hasFeatureAtPixel(event.pixel, {
    layerFilter: (l) => (l === parcelLayer && parcelLayer.isVisible(view)) || l === worksLayer,
  });
  mapElement.classList.toggle("over-parcel", overFeature);
});

// ---------------------------------------------------------------------------------------------
// The summary of a clicked permit (authorised work), with its verification link
// ---------------------------------------------------------------------------------------------

const dateFormat = new Intl.DateTimeFormat(config.numberLocale, { dateStyle: "long", timeZone: "UTC" });
const procedureNames = Object.fromEntries((config.works?.procedures || []).map((p) => [p.code, p.name]));

function formatDate(iso) {
  const time = Date.parse(`${iso}T00:00:00Z`);
  return Number.isNaN(time) ? iso : dateFormat.format(new Date(time));
}

function renderWorkPanel(feature) {
  const p = feature.getProperties();
  const present = (value) => value !== undefined && value !== null && value !== "";
  const rows = [
    [strings.permitReference, element("bdi", {}, p.reference), { className: "work-reference" }],
    [strings.procedure, element("bdi", {}, procedureNames[p.procedure_code] || p.procedure_name || p.procedure_code)],
    [strings.decisionDate, formatDate(p.decision_date)],
    [strings.status, strings.workStatuses?.[p.status] || p.status, { className: "work-status" }],
  ];
  if (present(p.commune_name)) rows.push([strings.commune, element("bdi", {}, p.commune_name)]);
  if (present(p.floors)) rows.push([strings.floors, numberFormat.format(p.floors)]);
  if (present(p.use)) rows.push([strings.use, strings.uses?.[p.use] || p.use]);
  if (present(p.built_area_m2)) {
    rows.push([strings.builtArea, format(strings.areaValue, { value: numberFormat.format(p.built_area_m2) })]);
  }
  if (present(p.dwellings)) rows.push([strings.dwellings, numberFormat.format(p.dwellings)]);
  panelTitle.replaceChildren(format(strings.permit, { reference: p.reference }));
  panelBody.replaceChildren(
    factList(rows),
    p.verification_code
      ? element(
          "p",
          { className: "verify-link" },
          element("a", { href: config.verifyUrl.replace("{code}", encodeURIComponent(p.verification_code)) }, strings.verify),
        )
      : element("p", { className: "hint" }, strings.zoomForDetails),
  );
  panel.dataset.selectedReference = p.reference;
  panel.dataset.selectedKind = "work";
  panel.dataset.status = p.status || "";
  panel.dataset.workId = String(feature.getId());
  closeButton.setAttribute("aria-label", strings.closeWork);
  panel.hidden = false;
}

function selectWork(feature) {
  highlightSource.clear();
  highlightSource.addFeature(toFeature(feature));
  renderWorkPanel(feature);
  mapElement.dataset.selectedReference = feature.get("reference");
  showStatus(format(strings.workSelected, { reference: feature.get("reference") }));
}

/** After the filters changed: drop the selected permit when the filters now hide it. */
function refreshSelectedWork() {
  if (panel.dataset.selectedKind !== "work") return;
  const id = panel.dataset.workId;
  const feature = worksLayer
    .getFeaturesInExtent(view.calculateExtent(map.getSize()))
    .find((candidate) => String(candidate.getId()) === id);
  if (!feature || !workShown(feature)) clearSelection();
}

// A works tile of the latest version arrived: if it holds the selected permit, show its new state.
// (Tiles of older versions may still be drawn meanwhile; only fresh ones are trusted.)
worksSource.on("tileloadend", (event) => {
  if (panel.dataset.selectedKind !== "work" || !isCurrentWorksTile(event.tile)) return;
  const feature = (event.tile.getFeatures?.() || []).find((f) => String(f.getId()) === panel.dataset.workId);
  if (feature) renderWorkPanel(feature);
});

function isCurrentWorksTile(tile) {
  const version = tileVersions.authorisedWorks;
  return version ? String(tile.key).endsWith(`?v=${version}`) : !String(tile.key).includes("?v=");
}

// ---------------------------------------------------------------------------------------------
// Filters of the works: procedures, period, time slider by decision date
// ---------------------------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const isoDate = (time) => new Date(time).toISOString().slice(0, 10);
const worksCount = document.getElementById("works-count");
const periodSelect = document.getElementById("works-period");
const slider = document.getElementById("works-slider");
const sliderValue = document.getElementById("works-slider-value");
const firstDecision = config.works?.firstDecision ? Date.parse(`${config.works.firstDecision}T00:00:00Z`) : null;
const lastDay = Math.max(Date.parse(`${config.works?.lastDecision || isoDate(Date.now())}T00:00:00Z`), Date.now());

for (const swatch of document.querySelectorAll("[data-procedure-swatch]")) {
  swatch.style.backgroundColor = procedureColour(swatch.dataset.procedureSwatch);
  swatch.style.borderColor = "#ffffff";
}

function applyWorkFilters() {
  worksLayer.changed();
  refreshSelectedWork();
}

for (const checkbox of document.querySelectorAll('input[name="procedure"]')) {
  checkbox.addEventListener("change", () => {
    if (checkbox.checked) worksFilter.procedures.add(checkbox.value);
    else worksFilter.procedures.delete(checkbox.value);
    applyWorkFilters();
  });
}

function periodRange(value) {
  const now = new Date();
  const year = now.getUTCFullYear();
  switch (value) {
    case "30d":
      return [isoDate(now.getTime() - 30 * DAY_MS), ""];
    case "12m":
      return [isoDate(Date.UTC(year - 1, now.getUTCMonth(), now.getUTCDate())), ""];
    case "year":
      return [`${year}-01-01`, ""];
    case "lastyear":
      return [`${year - 1}-01-01`, `${year - 1}-12-31`];
    default:
      return ["", ""];
  }
}

periodSelect.addEventListener("change", () => {
  [worksFilter.since, worksFilter.until] = periodRange(periodSelect.value);
  applyWorkFilters();
});

function updateSlider() {
  const atEnd = Number(slider.value) >= Number(slider.max);
  worksFilter.sliderUntil = atEnd || firstDecision === null ? "" : isoDate(firstDecision + Number(slider.value) * DAY_MS);
  sliderValue.textContent = worksFilter.sliderUntil
    ? format(strings.decidedUpTo, { date: formatDate(worksFilter.sliderUntil) })
    : strings.anyDate;
  slider.setAttribute("aria-valuetext", sliderValue.textContent);
}

slider.max = String(firstDecision === null ? 0 : Math.max(0, Math.round((lastDay - firstDecision) / DAY_MS)));
slider.value = slider.max;
slider.disabled = firstDecision === null;
slider.addEventListener("input", () => {
  updateSlider();
  applyWorkFilters();
});
updateSlider();

// ---------------------------------------------------------------------------------------------
// Live updates: server-sent events from /geo/events redraw the tiles of the layer that changed
// ---------------------------------------------------------------------------------------------

const TILE_KEYS = { authorised_works: "authorisedWorks", parcels: "parcels" };
const TILE_SOURCES = { authorisedWorks: worksSource, parcels: parcelSource };
const API_SOURCES = { zoning: zoningSource, constraints: constraintSource };
const liveElement = document.getElementById("works-live");
let liveChanges = 0;
let pendingKeys = new Set();
let refreshTimer = 0;

function refreshTiles(keys) {
  for (const key of keys) {
    tileVersions[key] += 1;
    TILE_SOURCES[key].setUrl(tileUrl(key));
  }
  map.once("rendercomplete", () => {
    mapElement.dataset.liveRefreshed = String(liveChanges);
  });
}

function onChange(change) {
  liveChanges += 1;
  mapElement.dataset.liveChanges = String(liveChanges);
  const key = TILE_KEYS[change.layer];
  if (change.layer === "authorised_works" && change.action === "delete" && String(change.id) === panel.dataset.workId) {
    clearSelection();
  }
  if (key) {
    // Changes arriving together (one import, one transaction) reload the tiles once.
    pendingKeys.add(key);
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(() => {
      const keys = pendingKeys;
      pendingKeys = new Set();
      refreshTiles(keys);
    }, 30);
  } else if (API_SOURCES[change.layer]) {
    API_SOURCES[change.layer].refresh();
  }
  if (liveElement) liveElement.textContent = format(strings.liveUpdated, { count: liveChanges });
}

function listenToChanges() {
  if (!config.events || typeof EventSource === "undefined") return;
  let interrupted = false;
  const events = new EventSource(config.events);
  events.addEventListener("open", () => {
    mapElement.dataset.live = "open";
    // Changes made while we were disconnected were not sent to us: reload everything once.
    if (interrupted) refreshTiles(new Set(Object.keys(TILE_SOURCES)));
    interrupted = false;
  });
  events.addEventListener("change", (event) => {
    try {
      onChange(JSON.parse(event.data));
    } catch {
      // A garbled event: ignore it, the next one will refresh the map.
    }
  });
  events.addEventListener("error", () => {
    interrupted = true;
    mapElement.dataset.live = "reconnecting";
  });
  window.addEventListener("pagehide", () => events.close());
}

listenToChanges();

// ---------------------------------------------------------------------------------------------
// The search box: a combobox with suggestions (WAI-ARIA combobox pattern, list autocomplete)
// ---------------------------------------------------------------------------------------------

const searchForm = document.getElementById("parcel-search");
const input = document.getElementById("parcel-search-input");
const listbox = document.getElementById("parcel-suggestions");
let suggestions = [];
let activeIndex = -1;
let suggestTimer = 0;
let suggestController = null;

function closeSuggestions() {
  listbox.hidden = true;
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
  activeIndex = -1;
}

function setActive(index) {
  const options = listbox.querySelectorAll('[role="option"]');
  if (!options.length) return;
  activeIndex = (index + options.length) % options.length;
  options.forEach((option, i) => option.setAttribute("aria-selected", String(i === activeIndex)));
  const active = options[activeIndex];
  input.setAttribute("aria-activedescendant", active.id);
  active.scrollIntoView({ block: "nearest" });
}

function renderSuggestions(features) {
  suggestions = features.map((feature) => feature.getProperties());
  listbox.replaceChildren(
    ...suggestions.map((properties, index) =>
      element(
        "li",
        {
          id: `parcel-suggestion-${index}`,
          role: "option",
          "aria-selected": "false",
          "data-reference": properties.reference,
        },
        element("bdi", { className: "suggestion-reference" }, properties.reference),
        properties.commune ? element("bdi", { className: "suggestion-commune" }, localName(properties.commune)) : null,
      ),
    ),
  );
  activeIndex = -1;
  input.removeAttribute("aria-activedescendant");
  listbox.hidden = suggestions.length === 0;
  input.setAttribute("aria-expanded", String(suggestions.length > 0));
}

async function suggest() {
  const query = input.value.trim();
  suggestController?.abort();
  if (query.replace(/\s+/g, "").length < MIN_QUERY_LENGTH) {
    suggestions = [];
    closeSuggestions();
    return;
  }
  suggestController = new AbortController();
  try {
    const body = await fetchJson(apiUrl(config.api.parcels, { reference_prefix: query, limit: SUGGEST_LIMIT }), {
      signal: suggestController.signal,
    });
    if (input.value.trim() !== query) return;
    renderSuggestions(geojson.readFeatures(body));
    showStatus(suggestions.length ? strings.suggestionsHelp : format(strings.noSuggestion, { prefix: query }));
  } catch (error) {
    if (error.name !== "AbortError") showStatus(strings.loadError, "error");
  }
}

function choose(index) {
  const chosen = suggestions[index];
  if (!chosen) return;
  window.clearTimeout(suggestTimer);
  input.value = chosen.reference;
  closeSuggestions();
  selectByReference(chosen.reference);
}

input.addEventListener("input", () => {
  window.clearTimeout(suggestTimer);
  suggestTimer = window.setTimeout(suggest, SUGGEST_DELAY_MS);
});

input.addEventListener("keydown", (event) => {
  const open = !listbox.hidden;
  switch (event.key) {
    case "ArrowDown":
    case "ArrowUp":
      if (!suggestions.length) return;
      event.preventDefault();
      if (!open) {
        listbox.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
      // Down from nothing goes to the first option, up from nothing to the last; both wrap around.
      setActive(event.key === "ArrowDown" ? activeIndex + 1 : Math.max(activeIndex, 0) - 1);
      break;
    case "Enter":
      if (open && activeIndex >= 0) {
        event.preventDefault();
        choose(activeIndex);
      }
      break;
    case "Escape":
      if (open) {
        event.preventDefault();
        closeSuggestions();
      }
      break;
    default:
  }
});

input.addEventListener("blur", () => window.setTimeout(closeSuggestions, 150));

// Keep the focus in the input while an option is clicked.
listbox.addEventListener("mousedown", (event) => event.preventDefault());
listbox.addEventListener("click", (event) => {
  const option = event.target.closest('[role="option"]');
  if (option) choose([...listbox.children].indexOf(option));
});

searchForm.addEventListener("submit", (event) => {
  event.preventDefault();
  window.clearTimeout(suggestTimer);
  suggestController?.abort();
  closeSuggestions();
  const reference = input.value.trim();
  if (reference.replace(/\s+/g, "").length < MIN_QUERY_LENGTH) {
    showStatus(strings.searchTooShort, "error");
    return;
  }
  selectByReference(reference);
});
