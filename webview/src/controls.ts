/**
 * Small controls built on @vscode-elements (registered once in main.ts), made to answer
 * Space and Enter alike.
 */
import { h } from './dom.ts';

interface CheckboxElement extends HTMLElement {
  checked: boolean;
}

/** A VS Code checkbox; Enter toggles it too (the element alone would submit a form). */
export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void, id?: string): HTMLElement {
  const box = document.createElement('vscode-checkbox') as CheckboxElement;
  box.setAttribute('label', label);
  if (id) box.id = id;
  box.checked = checked;
  box.addEventListener('change', () => onChange(box.checked));
  box.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    box.checked = !box.checked;
    onChange(box.checked);
  });
  return box;
}

/**
 * A label in VS Code's badge look (status, "baseline"): vscode-badge's own styles on a plain
 * span (styles.css `.badge`). The header shows one per run, up to a hundred, and as a web
 * component each cost a first render and a reflected attribute before the first chart.
 */
export function badge(text: string, cls = ''): HTMLElement {
  return h('span', { class: cls ? `badge ${cls}` : 'badge', text });
}

/** A plain button that looks like a VS Code text link (keyboard-native). */
export function linkButton(text: string, title: string, onClick: () => void, cls = 'link-button'): HTMLButtonElement {
  return h('button', { class: cls, text, title, attrs: { type: 'button' }, on: { click: onClick } });
}

/** A labelled segmented choice (radio buttons), e.g. x by step or time. */
export function choice<T extends string>(name: string, label: string, options: readonly { value: T; label: string }[], value: T, onChange: (v: T) => void): HTMLElement {
  const group = h('div', { class: 'choice', attrs: { role: 'radiogroup', 'aria-label': label } }, h('span', { class: 'control-label', text: label }));
  for (const o of options) {
    const input = h('input', { attrs: { type: 'radio', name, value: o.value, id: `${name}-${o.value}` } });
    input.checked = o.value === value;
    input.addEventListener('change', () => {
      if (input.checked) onChange(o.value);
    });
    group.append(h('label', { class: 'choice-option', attrs: { for: input.id } }, input, o.label));
  }
  return group;
}
