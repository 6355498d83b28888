// The diagnostic in the console: the teams, how many people in each and how many functions each has answered, read
// again (at most once a second) whenever an answer changes the room's picture.

const REFRESH = 1000;

export function mount(ctx) {
  const { t, el, root, board, formatNumber } = ctx;
  const code = ctx.session.code;
  const count = root.querySelector("#diagnostic-teams-count");
  const table = root.querySelector("#diagnostic-teams-table");
  let timer = null;

  function draw(data) {
    count.textContent = t("%(count)s teams", { count: data.teams.length });
    const labels = data.aggregate.functions.map((fn) => fn.label);
    const keys = data.aggregate.functions.map((fn) => fn.key);
    const stageLabels = Object.fromEntries((data.aggregate.functions[0] || { stages: [] }).stages.map((s) => [s.key, s.label]));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, [el("th", { scope: "col", text: t("Team") }), el("th", { scope: "col", text: t("People") }),
        el("th", { scope: "col", text: t("Answered") }), ...labels.map((label) => el("th", { scope: "col", text: label }))])),
      el("tbody", {}, data.teams.map((team) => el("tr", {}, [
        el("th", { scope: "row", text: team.name }),
        el("td", { text: formatNumber(team.members) }),
        el("td", { text: `${formatNumber(team.answered)}/${formatNumber(data.functions)}` }),
        ...keys.map((key) => el("td", { text: stageLabels[team.stages[key]] || "–" })),
      ]))),
    );
  }

  async function read() {
    timer = null;
    const ack = await ctx.emit("diagnostic.teams", {}).catch(() => null);
    if (ack && ack.ok) draw(ack);
  }

  function soon() { if (!timer) timer = setTimeout(read, REFRESH); }

  board.socket.on("diagnostic.aggregate", (data) => { if (data.code === code) soon(); });
  board.socket.on("connect", soon);
  if (board.socket.connected) read();
  return { render() {} };
}
