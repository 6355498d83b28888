// The wall's « next round » list: near the end of a round with a rotation plan, who goes to which table next.
// It follows the wall's connection for the steps and the countdown, and asks for the seating itself.

export function mount(ctx) {
  const { session, t, el, board } = ctx;
  const code = session.code;
  const panel = ctx.root.querySelector("#next-tables");
  const list = ctx.root.querySelector("#next-tables-list");
  const title = ctx.root.querySelector("#next-tables-title");
  // The wall's own countdown: the list reads its end and clock offset.
  const clock = ctx.countdown;
  let seating = null;
  let phase = session.phase;
  let notice = 3;

  function roundIndex() {
    const round = phase && /^round_(\d+)$/.exec(phase.key);
    return round ? Number(round[1]) - 1 : null;
  }

  function render() {
    const index = roundIndex();
    const next = seating && index !== null ? seating.rounds[index + 1] : null;
    const left = clock.endsAt ? (clock.endsAt - (Date.now() + clock.offset)) / 1000 : 0;
    const show = Boolean(next) && left <= notice * 60;
    panel.hidden = !show;
    if (!show) return;
    title.textContent = t("Next round");
    list.replaceChildren(...next.map((table) => {
      const names = [...table.people];
      if (table.unnamed) names.push(t("%(count)s people without a name", { count: table.unnamed }));
      return el("li", { class: "next-tables__table" }, [
        el("h3", { class: "next-tables__name", text: table.name }),
        el("p", { class: "next-tables__people", text: names.length ? names.join(", ") : t("Nobody yet") }),
      ]);
    }));
  }

  async function refresh() {
    const ack = await board.socket.emit("seating", { code });
    if (!ack.ok) return;
    seating = ack.seating;
    notice = ack.notice_minutes ?? notice;
    render();
  }

  const socket = board.socket;
  socket.on("connect", () => refresh().catch(() => {}));
  // Names are read again at each step and countdown change: people type their names after the plan is made.
  // The wall's countdown is set by the core on the same broadcasts, before these handlers run.
  socket.on("timer", (timer) => {
    if (timer.code !== code) return;
    refresh().catch(() => render());
  });
  socket.on("phase", (state) => {
    if (state.code !== code) return;
    phase = state.phase;
    refresh().catch(() => render());
  });
  socket.on("plan", (state) => { if (state.code === code) refresh().catch(() => {}); });
  setInterval(render, 5000);
}
