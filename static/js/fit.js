// Walls never scroll: lay lists out in a grid of columns and keep, of each, the first items that fit.

// Board columns side by side up to this many; more wrap onto a second row rather than shrink below legibility.
const MAX_COLUMNS_PER_ROW = 6;

export function setGrid(node, count) {
  const perRow = count > MAX_COLUMNS_PER_ROW ? Math.ceil(count / 2) : Math.max(count, 1);
  node.style.setProperty("--columns", perRow);
  node.style.setProperty("--rows", Math.ceil(Math.max(count, 1) / perRow));
}

export const overflows = (node) => node.scrollHeight > node.clientHeight + 1;

// Keep the first items of each list that fit its height, and say under it how many of its `count` are not shown
// (`more(hidden)` words it). Markers share one row of the grid: it is reserved for all columns as soon as one needs
// it, then each list is cut. A marker holds a line of text from the start, so filling it does not change the height.
export function fit(grid, lists, more) {
  const over = lists.some(([list]) => overflows(list));
  grid.classList.toggle("wall__columns--more", over);
  for (const [list, marker, count] of lists) {
    const items = [...list.children];
    // Offsets, not client rectangles: a card arriving slides in with a transform that must not count.
    const limit = list.clientHeight;
    const first = items.findIndex((item) => item.offsetTop + item.offsetHeight > limit);
    const shown = first === -1 ? items.length : Math.max(first, 1);
    for (const item of items.slice(shown)) item.remove();
    const hidden = count - shown;
    marker.classList.toggle("column__more--none", hidden <= 0);
    marker.textContent = hidden > 0 ? more(hidden) : "+";
  }
}
