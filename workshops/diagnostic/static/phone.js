// The diagnostic on a phone: the person names their cooperation's team, then places each function on a stage of the
// grid and ticks its indicators. Each change is sent at once with the revision this phone last saw: a teammate's
// change that came first is shown, never overwritten (app/services/records.py).

const SEND_DELAY = 400; // ms: ticking three boxes in a row sends one answer

export function mount(ctx) {
  const { t, el, root, socket } = ctx;
  ctx.form.element.hidden = true; // a diagnostic takes answers, not ideas
  const teamForm = root.querySelector("#diagnostic-team");
  const teamInput = root.querySelector("#diagnostic-team-name");
  const status = root.querySelector("#diagnostic-status");
  const functions = root.querySelector("#diagnostic-functions");
  const result = root.querySelector("#diagnostic-result");
  const wheel = root.querySelector("#diagnostic-wheel");
  const steps = root.querySelector("#diagnostic-steps");
  const stepsTitle = root.querySelector("#diagnostic-steps-title");
  let grid = null;
  let open = (ctx.session.phase || {}).key === "answer";
  const revs = {}; // function key -> revision of its answer this phone last saw
  const pending = {}; // function key -> timer of a change not sent yet
  const sending = {}; // function key -> true while its answer travels

  function say(message) { status.textContent = message || ""; }

  function fieldset(fn) {
    const note = el("p", { class: "gear__note", role: "status", "aria-live": "polite" });
    const stages = grid.stages.map((stage) => el("label", { class: "gear__stage" }, [
      el("input", { type: "radio", name: `stage-${fn.key}`, value: stage.key }),
      el("span", { text: stage.label }),
    ]));
    const indicators = fn.indicators.map((indicator) => el("label", { class: "gear__indicator" }, [
      el("input", { type: "checkbox", value: indicator.key }),
      el("span", { text: indicator.label }),
    ]));
    const node = el("fieldset", { class: "gear", dataset: { function: fn.key } }, [
      el("legend", { class: "gear__name", text: fn.label }),
      fn.description ? el("p", { class: "hint", text: fn.description }) : null,
      el("div", { class: "gear__stages", role: "group", "aria-label": t("Stage reached") }, stages),
      indicators.length ? el("p", { class: "gear__subtitle", text: t("Already in place:") }) : null,
      ...indicators,
      note,
    ]);
    node.addEventListener("change", () => schedule(fn.key));
    return node;
  }

  function gear(key) { return functions.querySelector(`fieldset[data-function="${key}"]`); }

  function readGear(key) {
    const node = gear(key);
    const stage = node.querySelector("input[type=radio]:checked");
    return { stage: stage ? stage.value : null,
      indicators: [...node.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value) };
  }

  function showAnswer(key, answer) {
    const node = gear(key);
    for (const radio of node.querySelectorAll("input[type=radio]")) radio.checked = radio.value === answer.stage;
    const done = new Set(answer.indicators || []);
    for (const box of node.querySelectorAll("input[type=checkbox]")) box.checked = done.has(box.value);
  }

  function note(key, message) { gear(key).querySelector(".gear__note").textContent = message || ""; }

  function schedule(key) {
    clearTimeout(pending[key]);
    pending[key] = setTimeout(() => send(key), SEND_DELAY);
  }

  async function send(key) {
    delete pending[key];
    if (sending[key]) { schedule(key); return; }
    const answer = readGear(key);
    if (!answer.stage) { note(key, t("Choose a stage first.")); return; }
    sending[key] = true;
    note(key, t("Saving…"));
    const ack = await ctx.call("diagnostic.answer", { function: key, ...answer, rev: revs[key] || 0 })
      .catch(() => ({ ok: false, error: { message: t("Not connected: try again in a moment.") } }));
    sending[key] = false;
    if (ack.ok) {
      revs[key] = ack.record.rev;
      note(key, t("Saved."));
      showResult(ack.result);
    } else if (ack.error && ack.error.code === "stale_record" && ack.error.record) {
      revs[key] = ack.error.record.rev;
      showAnswer(key, ack.error.record.data);
      note(key, t("A teammate changed this at the same time: here is their answer. Change it again if you disagree."));
    } else {
      note(key, ack.error ? ack.error.message : "");
      // Refused for now (too many changes in a row): sent again once the server says it may be.
      if (ack.error && ack.error.retry_after) pending[key] = setTimeout(() => send(key), ack.error.retry_after * 1000);
    }
  }

  function showResult(data) {
    if (!data) return;
    say(t("Team %(team)s · %(count)s people · %(answered)s of %(total)s functions answered",
      { team: data.team.name, count: data.team.members, answered: data.answered, total: data.functions.length }));
    teamInput.value = data.team.name;
    for (const fn of data.functions) {
      // A teammate's newer answer is shown, unless this phone is changing that function right now.
      if (fn.rev > (revs[fn.key] || 0) && !pending[fn.key] && !sending[fn.key]) {
        revs[fn.key] = fn.rev;
        showAnswer(fn.key, { stage: fn.stage, indicators: fn.indicators.filter((i) => i.done).map((i) => i.key) });
      }
    }
    result.hidden = data.answered === 0;
    wheel.innerHTML = data.wheel; // drawn by the server, every text in it escaped there
    stepsTitle.hidden = data.next_steps.length === 0;
    steps.replaceChildren(...data.next_steps.map((step) => el("li", { class: "diagnostic__step" }, [
      el("strong", { text: `${step.label} (${step.stage_label})` }),
      step.text ? el("span", { text: ` ${step.text}` }) : null,
      step.missing.length ? el("span", { class: "hint", text: ` ${t("Still to put in place:")} ${step.missing.join(" · ")}` }) : null,
    ])));
  }

  function setOpen() {
    for (const input of functions.querySelectorAll("input")) input.disabled = !open;
    teamForm.hidden = !open;
  }

  function showGrid(data) {
    grid = data.grid;
    if (!functions.childElementCount) functions.replaceChildren(...grid.functions.map(fieldset));
    functions.hidden = !data.result;
    showResult(data.result);
    setOpen();
  }

  teamForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ack = await ctx.call("diagnostic.team", { name: teamInput.value })
      .catch(() => ({ ok: false, error: { message: t("Not connected: try again in a moment.") } }));
    if (ack.ok) showGrid(ack);
    else say(ack.error ? ack.error.message : "");
  });
  socket.on("diagnostic.result", (data) => { if (data.code === ctx.session.code) showResult(data); });

  return {
    async joined(ack) {
      const me = ctx.participant();
      if (me && me.organisation && !teamInput.value) teamInput.value = me.organisation;
      const state = await ctx.call("diagnostic.state", {}).catch(() => null);
      if (state && state.ok) showGrid(state);
    },
    phase(phase) {
      open = !!phase && phase.key === "answer";
      setOpen();
      if (!open && grid) say(t("The diagnostic is closed: your answers are kept as they are."));
    },
  };
}
