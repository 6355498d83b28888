// What the duo's views share: which duo is on now, and what a post is (a takeaway or a question).

export const DUO = "duo";
export const KIND = "kind";

export function frameworks(session) {
  const find = (key) => session.frameworks.find((framework) => framework.key === key) || { key, items: [] };
  return { duos: find(DUO).items, kinds: find(KIND).items };
}

// The duo on now: a table's (duos in parallel, each in its room), else the step's (`duo-<n>`, one after another).
export function currentDuo(session, phase, table) {
  const { duos } = frameworks(session);
  if (table && table.tags && table.tags[DUO]) return table.tags[DUO];
  const match = phase && /^duo-(\d+)$/.exec(phase.key);
  if (!match) return null;
  const duo = duos[Number(match[1]) - 1];
  return duo ? duo.key : null;
}

export const isQuestion = (post) => post.tags[KIND] === "question";
export const isTakeaway = (post) => post.tags[KIND] === "takeaway";
