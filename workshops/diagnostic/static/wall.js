// The diagnostic's wall: the room's wheel (drawn by the server from every team's answers, no team named), how many
// teams answered and, per function, how many teams reached each stage. It reads the overview when it opens and after
// a reconnection, then follows each change.

export function mount(ctx) {
  const { t, el, root, board, formatNumber } = ctx;
  const code = ctx.session.code;
  const wheel = root.querySelector("#diagnostic-wall-wheel");
  const count = root.querySelector("#diagnostic-wall-count");
  const table = root.querySelector("#diagnostic-wall-table");

  function draw(aggregate) {
    if (!aggregate || aggregate.code !== code) return;
    count.textContent = aggregate.teams === 0 ? t("No team has answered yet.")
      : t("%(count)s teams answered", { count: aggregate.teams });
    wheel.innerHTML = aggregate.teams ? aggregate.wheel : ""; // drawn by the server, every text in it escaped there
    const stages = aggregate.functions.length ? aggregate.functions[0].stages : [];
    const most = Math.max(1, ...aggregate.functions.flatMap((fn) => fn.stages.map((stage) => stage.count)));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, [el("th", { scope: "col", text: t("Function") }),
        ...stages.map((stage) => el("th", { scope: "col", text: stage.label }))])),
      el("tbody", {}, aggregate.functions.map((fn) => el("tr", {}, [
        el("th", { scope: "row", text: fn.label }),
        ...fn.stages.map((stage) => el("td", { class: `diagnostic-wall__cell diagnostic-wall__cell--${Math.ceil(4 * stage.count / most)}` },
          stage.count ? el("span", { text: formatNumber(stage.count) }) : null)),
      ]))),
    );
  }

  async function read() {
    const ack = await board.socket.emit("diagnostic.overview", { code }).catch(() => null);
    if (ack && ack.ok) draw(ack.aggregate);
  }

  board.socket.on("diagnostic.aggregate", draw);
  board.socket.on("connect", read);
  if (board.socket.connected) read();
  return { render() { return { compact: false }; } };
}
