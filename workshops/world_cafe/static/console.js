// The world café's panels in the console: the rotation plan as head counts, who sits where now, each table's host
// picked among the people who joined, and what each host has written.

export function mount(ctx) {
  const { session, root, t, el, board, emit } = ctx;
  const hostSelects = [...root.querySelectorAll("[data-host-select]")];
  const planButton = root.querySelector("#plan-compute");
  let shownPlan = null;
  let phaseKey = session.phase ? session.phase.key : null;
  // Whether the lists were read since the console last connected.
  let fresh = false;

  // The plan as head counts: how many people each table expects in each round.
  function showPlan(plan) {
    const table = root.querySelector("#plan-table");
    if (!table || !plan) return;
    const people = Object.values(plan.assignments);
    root.querySelector("#plan-state").textContent = t("Plan for %(count)s people", { count: people.length });
    const names = Object.fromEntries(session.tables.map((entry) => [entry.key, entry.name]));
    const rounds = Array.from({ length: plan.rounds }, (_, index) => index);
    table.replaceChildren(
      el("thead", {}, el("tr", {}, [el("th", { scope: "col", text: t("Table") }),
        ...rounds.map((r) => el("th", { scope: "col", text: t("Round %(n)s", { n: r + 1 }) }))])),
      el("tbody", {}, plan.tables.map((key) => el("tr", {}, [el("th", { scope: "row", text: names[key] || key }),
        ...rounds.map((r) => el("td", { text: String(people.filter((route) => route[r] === key).length) }))]))),
    );
    table.hidden = false;
    root.querySelector("#plan-print").hidden = false;
  }

  // What each table's host has written, category by category, folded under the table's row.
  function showHarvest(harvest) {
    for (const row of root.querySelectorAll("[data-table]")) {
      const written = harvest[row.dataset.table] || {};
      const cell = row.querySelector("[data-harvest]");
      const filled = session.harvest_categories.filter((category) => (written[category.key] || "").trim());
      if (!filled.length) { cell.replaceChildren(el("span", { class: "hint", text: t("Nothing written yet") })); continue; }
      const open = cell.querySelector("details")?.open || false;
      const details = el("details", {}, [
        el("summary", { text: t("%(done)s of %(count)s written", { done: filled.length,
          count: session.harvest_categories.length }) }),
        el("dl", { class: "harvest-cell__list" }, filled.flatMap((category) => [
          el("dt", { text: category.label }), el("dd", { text: written[category.key] })])),
      ]);
      details.open = open;
      cell.replaceChildren(details);
    }
  }

  function personLabel(person) {
    const name = person.name || t("No name (#%(id)s)", { id: person.id });
    return person.organisation ? `${name} (${person.organisation})` : name;
  }

  // Table hosts: pick one among the people who joined.
  async function loadPeople() {
    if (!hostSelects.length || !board.online) return;
    const ack = await board.emit(`${session.workshop}.people`, {}).catch(() => null);
    if (!ack || !ack.ok) return;
    for (const select of hostSelects) {
      if (document.activeElement === select && select.options.length > 1) continue;
      const current = select.dataset.current;
      select.replaceChildren(el("option", { value: "", text: t("Pick a participant…") }),
        ...ack.people.map((person) => el("option", { value: String(person.id), text: personLabel(person) })));
      select.value = current;
    }
  }

  function showHost(table, participant) {
    const row = root.querySelector(`[data-table="${CSS.escape(table.key)}"]`);
    if (!row) return;
    row.querySelector("[data-host-name]").textContent = table.host || "—";
    const select = row.querySelector("[data-host-select]");
    if (select) {
      select.dataset.current = participant === null ? "" : String(participant);
      select.value = select.dataset.current;
    }
    if (ctx.changed) ctx.changed("format");
  }

  // Who is at which table now (sessions.seat_of), and who sits elsewhere than the plan says.
  async function showSeating() {
    const table = root.querySelector("#seating-table");
    if (!table) return;
    const ack = await board.emit("seating", {});
    if (!ack.ok || !ack.seating.tables || ack.seating.round === null) { table.hidden = true; return; }
    const anonymous = t("Someone without a name");
    table.replaceChildren(
      el("caption", { text: t("Who is at which table now") }),
      el("thead", {}, el("tr", {}, [el("th", { scope: "col", text: t("Tables") }), el("th", { scope: "col", text: t("At the table now") }),
        el("th", { scope: "col", text: t("Expected by the plan") }),
        el("th", { scope: "col", text: t("At this table instead of their planned one") })])),
      el("tbody", {}, ack.seating.tables.map((row) => el("tr", { class: row.elsewhere.length ? "seating--wrong" : "" }, [
        el("th", { scope: "row", text: row.name }), el("td", { text: String(row.here) }), el("td", { text: String(row.planned) }),
        el("td", { text: row.elsewhere.map((person) => person.name || anonymous).join(", ") }),
      ]))),
    );
    table.hidden = false;
  }

  // Latecomers join all along: the lists are read again now and then, and as a picker gets the focus.
  if (hostSelects.length) setInterval(() => { if (document.visibilityState === "visible") loadPeople(); }, 15000);
  for (const select of hostSelects) {
    select.addEventListener("focus", loadPeople);
    select.addEventListener("change", async () => {
      const key = select.closest("[data-table]").dataset.table;
      const ack = await emit(`${session.workshop}.host`, { table: key, participant: select.value ? Number(select.value) : null });
      if (!ack.ok) { select.value = select.dataset.current; return; }
      const link = select.closest("[data-table]").querySelector("[data-host-link]");
      link.href = `${link.dataset.publicUrl}${ack.host_url}`;
    });
  }
  if (planButton) {
    planButton.addEventListener("click", async () => {
      const ack = await emit(`${session.workshop}.plan`, {});
      if (ack.ok) showPlan(ack.plan);
    });
  }
  board.socket.on("host_changed", (state) => {
    if (state.code === session.code) showHost(state.table, state.participant);
  });
  board.socket.on("seating_changed", (info) => { if (info.code === session.code) showSeating().catch(() => {}); });
  board.socket.on("disconnect", () => { fresh = false; });

  function render(state) {
    if (board.online && !fresh) {
      fresh = true;
      loadPeople();
      showSeating().catch(() => {});
    }
    if (state.plan !== shownPlan) {
      shownPlan = state.plan;
      showPlan(state.plan);
      showSeating().catch(() => {});
    }
    const key = state.phase ? state.phase.key : null;
    if (key !== phaseKey) {
      phaseKey = key;
      showSeating().catch(() => {});
    }
    showHarvest(state.harvest || {});
  }

  return { render };
}
