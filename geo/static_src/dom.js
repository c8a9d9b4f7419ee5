// Small DOM helpers shared by the public map, the wizard's map and the plan viewer.

/** The JSON of a <script type="application/json" id="…"> element, or `fallback` when there is none. */
export function readJson(id, fallback = {}) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : fallback;
}

/**
 * On a right-to-left page, values put into a sentence (references, numbers) are isolated from the
 * Arabic around them (U+2068 FIRST STRONG ISOLATE … U+2069 POP DIRECTIONAL ISOLATE).
 */
export function isolator(rtl) {
  return rtl ? (value) => `\u2068${value}\u2069` : (value) => String(value);
}

/** A function replacing the "%(name)s" placeholders of a translated string, each value isolated. */
export function formatter(isolate) {
  return (template, values) =>
    template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? isolate(values[name]) : match));
}

/** document.createElement with attributes (className, style object, others as attributes) and children. */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "className") node.className = value;
    else if (name === "style") Object.assign(node.style, value);
    else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}
