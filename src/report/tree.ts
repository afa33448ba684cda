/** Drawing a tree with box-drawing characters; knows nothing about processes. */
import { shorten } from '../rules/text.js';

export interface TreeItem {
  label: string;
  /** Applied to the label after it was shortened, so escape codes are never cut. */
  paint?: (label: string) => string;
  children: TreeItem[];
}

export function drawTree(items: readonly TreeItem[], prefix: string, width?: number): string[] {
  const lines: string[] = [];
  items.forEach((item, index) => {
    const last = index === items.length - 1;
    const head = `${prefix}${last ? '└─ ' : '├─ '}`;
    const label = width !== undefined ? shorten(item.label, Math.max(10, width - head.length)) : item.label;
    lines.push(head + (item.paint ? item.paint(label) : label));
    lines.push(...drawTree(item.children, `${prefix}${last ? '   ' : '│  '}`, width));
  });
  return lines;
}
