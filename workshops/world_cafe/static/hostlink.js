// A participant the facilitators made a table's host: their phone shows the way to the host page.

export function showHostLink(ctx, node, host) {
  const { el, t } = ctx;
  node.hidden = !host || !host.url;
  if (node.hidden) { node.replaceChildren(); return; }
  node.replaceChildren(
    el("span", { text: t("You host the table %(table)s.", { table: host.table.name }) }), " ",
    el("a", { class: "button button--small", href: host.url, text: t("Open the host page") }),
  );
}
