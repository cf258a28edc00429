/**
 * Building DOM without innerHTML (no markup injection from run names or params) and
 * without style attributes (the panel's CSP forbids inline styles): classes only.
 */
import { runStyle } from './format.ts';

export interface ElementProps {
  class?: string;
  text?: string;
  title?: string;
  attrs?: Record<string, string>;
  on?: { [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void };
}

/** `document.createElement` with classes, text, attributes, listeners and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: ElementProps, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K];
export function h(tag: string, props?: ElementProps, ...children: (Node | string | null)[]): HTMLElement;
export function h(tag: string, props: ElementProps = {}, ...children: (Node | string | null)[]): HTMLElement {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title !== undefined) el.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  for (const [type, fn] of Object.entries(props.on ?? {})) el.addEventListener(type, fn as EventListener);
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: (Node | null)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null) el.append(c);
  return el;
}

/** Makes an element act as a button for the keyboard: Tab reaches it, Enter and Space press it. */
export function pressable<E extends Element>(el: E, label: string, onPress: (ev: Event) => void): E {
  el.setAttribute('tabindex', '0');
  el.setAttribute('role', 'button');
  el.setAttribute('aria-label', label);
  el.addEventListener('click', onPress);
  el.addEventListener('keydown', (ev) => {
    const k = (ev as KeyboardEvent).key;
    if (k === 'Enter' || k === ' ') {
      ev.preventDefault();
      onPress(ev);
    }
  });
  return el;
}

/** Removes every child. */
export function clear(el: Element): void {
  while (el.firstChild) el.firstChild.remove();
}

/**
 * Runs `render` (which rebuilds part of the page) and puts the keyboard focus back on the
 * element that had it — found again by id or `data-key` (or the `data-key` that `fallback`
 * names when that element is gone) — so re-rendering after a toggle does not throw a
 * keyboard user back to the top.
 */
export function keepFocus(render: () => void, fallback?: (key: string) => string | null): void {
  const active = document.activeElement;
  const id = active?.id;
  const key = active?.getAttribute('data-key');
  const tag = active?.tagName.toLowerCase();
  render();
  const find = (k: string): Element | null => document.querySelector(`${tag}[data-key="${CSS.escape(k)}"]`);
  let again = id ? document.getElementById(id) : key && tag ? find(key) : null;
  const other = key && !again && fallback ? fallback(key) : null;
  if (other) again = find(other);
  if (!(again instanceof HTMLElement || again instanceof SVGElement)) return;
  const target = again;
  target.focus();
  // A fresh web component (delegatesFocus) has nothing to focus until its first render.
  const pending = (target as Partial<{ updateComplete: Promise<unknown> }>).updateComplete;
  if (pending) void pending.then(() => target.focus());
}

/** A run's colour swatch (decorative: the run's name is beside it): its palette slot, dotted past the 100th run. */
export function runSwatch(runIndex: number): HTMLElement {
  const st = runStyle(runIndex);
  return h('span', { class: `swatch c${st.colorIndex}${st.dotted ? ' dotted' : ''}`, attrs: { 'aria-hidden': 'true' } });
}
