// The world café on a phone: one sentence says where the person is and so where their ideas go (the core's seat,
// sessions.seat_of), with a way to say they sit elsewhere; the rotation plan's table for round 1 and, in a round's
// last minutes, for the next round; and the host page's link for someone made a table's host.
import { showHostLink } from "./hostlink.js";

export function mount(ctx) {
  const { session, t, socket, countdown } = ctx;
  const code = session.code;
  const root = ctx.root;
  const assignmentLine = root.querySelector("#assignment");
  const seatFix = root.querySelector("#seat-fix");
  const seatOther = root.querySelector("#seat-other");
  const nextLine = root.querySelector("#next-table");
  const hostLink = root.querySelector("#host-link");
  const tableNames = Object.fromEntries(session.tables.map((table) => [table.key, table.name]));
  let currentPhase = session.phase;
  let assignment = null;
  let notice = 3;

  function roundIndex() {
    const round = currentPhase && /^round_(\d+)$/.exec(currentPhase.key);
    return round ? Number(round[1]) - 1 : null;
  }

  // One sentence says where the person is and so where their ideas go; before round 1, where the plan sends them.
  function showAssignment() {
    const seat = ctx.seat();
    let text = "";
    let fix = null;
    if (seat && roundIndex() !== null) {
      const table = seat.name;
      if (seat.planned && seat.planned !== seat.key) {
        text = t("You are at %(table)s, not at %(planned)s where the plan puts you: your ideas go to %(table)s.",
          { table, planned: tableNames[seat.planned] });
        fix = seat.planned;
      } else if (seat.source === "plan" && seat.late) {
        text = t("You arrived after the plan was made: you are seated at %(table)s for this round, and your ideas go there.", { table });
      } else if (seat.planned) {
        text = t("The plan puts you at %(table)s for this round: your ideas go there.", { table });
      } else {
        text = t("You are at %(table)s (the last table card you scanned or chose): your ideas go there.", { table });
      }
    } else if (assignment && currentPhase && currentPhase.key === "welcome") {
      text = t("Round 1: go to %(table)s", { table: tableNames[assignment[0]] });
    } else if (seat && currentPhase && (currentPhase.posting || currentPhase.key === "welcome")) {
      // After the rounds (harvest, vote) the phone is for something else: no table to speak of.
      text = t("You are at %(table)s (the last table card you scanned or chose): your ideas go there.", { table: seat.name });
    }
    assignmentLine.hidden = !text;
    assignmentLine.textContent = text;
    seatFix.hidden = !fix;
    if (fix) {
      seatFix.dataset.table = fix;
      seatFix.textContent = t("I am at %(table)s", { table: tableNames[fix] });
    }
    seatOther.hidden = !seat || roundIndex() === null || session.tables.length < 2;
    for (const button of seatOther.querySelectorAll("button")) button.hidden = seat && button.dataset.table === seat.key;
    showNext();
  }

  // In a round's last minutes (and once its countdown is over), the next round's table, so people move in time.
  function showNext() {
    const index = roundIndex();
    const next = assignment && index !== null && index + 1 < assignment.length ? tableNames[assignment[index + 1]] : null;
    const left = countdown.endsAt ? (countdown.endsAt - (Date.now() + countdown.offset)) / 1000 : 0;
    const show = Boolean(next) && left <= notice * 60;
    nextLine.hidden = !show;
    nextLine.textContent = show ? t("Next round: go to %(table)s.", { table: next }) : "";
  }

  socket.on("timer", (timer) => { if (timer.code === code) showNext(); });
  socket.on("host", (host) => { if (host.code === code) showHostLink(ctx, hostLink, host); });
  socket.on("plan", (state) => {
    const participant = ctx.participant();
    if (state.code !== code || participant === null) return;
    const before = JSON.stringify(assignment);
    assignment = state.plan.assignments[String(participant.id)] || null;
    notice = state.plan.notice_minutes ?? notice;
    if (JSON.stringify(assignment) !== before) ctx.moveTo().catch(() => {});
    showAssignment();
  });
  seatFix.addEventListener("click", () => ctx.moveTo(seatFix.dataset.table).catch(() => {}));
  for (const button of seatOther.querySelectorAll("button")) {
    button.addEventListener("click", () => {
      ctx.moveTo(button.dataset.table).catch(() => {});
      seatOther.open = false;
    });
  }
  setInterval(showNext, 5000);

  return {
    phase(phase) {
      currentPhase = phase;
      showAssignment();
    },
    seat: showAssignment,
    joined(ack) {
      assignment = ack.assignment;
      notice = ack.notice_minutes ?? notice;
      showHostLink(ctx, hostLink, ack.host);
      showAssignment();
    },
  };
}
