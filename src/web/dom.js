// A tiny element builder: text always through textContent (never innerHTML), so data cannot inject markup.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replaces a table body's rows. */
export function fillBody(tbody, rows) {
  tbody.replaceChildren(...rows);
}

/** A one-cell row spanning the table, for "nothing yet" and "unavailable" notes. */
export function noteRow(cols, text) {
  return h('tr', { class: 'note' }, h('td', { colspan: cols, text }));
}

export const $ = (sel) => document.querySelector(sel);
