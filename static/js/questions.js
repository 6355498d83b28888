// Questions that rise: the shared Q&A lists of a format whose posts are upvoted (docs/formats.md, « Questions »).
// The wall shows a scope's spotlighted question large, then the most upvoted ones, answered ones sunk below; the
// phone lists the session's questions with an upvote toggle; the console ranks them, marks them answered, puts one
// in the spotlight and lets held ones through. A format composes these with its own filters; none is named here.

// Unanswered first, then by upvotes, then oldest first: a question that keeps its votes keeps its place.
export function ranked(posts, order = "popular") {
  const recent = order === "recent";
  return [...posts].sort((a, b) => (recent ? b.seq - a.seq
    : Number(Boolean(a.answered)) - Number(Boolean(b.answered)) || (b.upvotes || 0) - (a.upvotes || 0) || a.seq - b.seq));
}

// What a public screen may show: visible, not waiting for review, not merged into another.
export const shown = (post) => !post.hidden && !post.held && !post.merged_into;

// The post id spotlighted in `scope`, from the format state's `spotlight` ({scope: post id}).
export function spotlightOf(formatState, scope = "") {
  const spot = formatState && formatState.spotlight;
  const id = spot ? spot[scope] : null;
  return id === undefined || id === null ? null : Number(id);
}

// Walls and consoles learn upvote counts and answered marks through broadcasts of their own; the board keeps them.
export function followQuestions(board, onChange) {
  const mine = (payload) => payload && payload.code === board.code;
  board.socket.on("upvotes", (change) => {
    if (!mine(change)) return;
    // The change has a revision of the session: noted, so the board does not take it for a missed message.
    if (change.rev) board.rev.seen(change.rev);
    const post = board.posts.get(change.id);
    if (post) { post.upvotes = change.upvotes; onChange(); }
  });
  board.socket.on("post_updated", (post) => {
    if (!mine(post)) return;
    board.upsert({ ...(board.posts.get(post.id) || {}), ...post });
    onChange();
  });
}

// Reorder a list's items to `nodes`, sliding each from where it was to where it goes (FLIP): a reader never sees
// the list jump. `limit` keeps only the items that fit whole in the list's height; it returns how many it kept.
export function reorder(list, nodes, { limit = false } = {}) {
  const before = new Map();
  for (const node of list.children) before.set(node, node.getBoundingClientRect().top);
  list.replaceChildren(...nodes);
  let kept = nodes.length;
  if (limit) {
    // Offsets, not rectangles: a card still sliding has a transform that must not count. The list takes the
    // height of what it holds up to the room it has: when all fit, the last one ends exactly at its bottom (offsets
    // are whole pixels, hence one pixel of leeway).
    const height = list.clientHeight;
    const over = nodes.findIndex((node) => node.offsetTop + node.offsetHeight > height + 1);
    if (over !== -1) {
      kept = Math.max(over, Math.min(1, nodes.length)); // one question always shows, cut if it must be
      for (const node of nodes.slice(kept)) node.remove();
    }
  }
  const still = matchMedia("(prefers-reduced-motion: reduce)").matches;
  for (const node of nodes.slice(0, kept)) {
    const from = before.get(node);
    if (from === undefined) {
      if (!still && before.size) node.animate([{ opacity: 0, transform: "translateY(1.5vh)" }, { opacity: 1, transform: "none" }],
        { duration: 450, easing: "ease-out" });
      continue;
    }
    const delta = from - node.getBoundingClientRect().top;
    if (!delta || still) continue;
    node.animate([{ transform: `translateY(${delta}px)` }, { transform: "none" }], { duration: 600, easing: "ease-in-out" });
  }
  return kept;
}

// A question's upvote count as a badge: the number large, its word for screen readers.
function badge({ el, t, formatNumber }, count, extra = "") {
  return el("span", { class: `qa-count${extra}`, title: t("%(count)s votes", { count }) }, [
    el("span", { class: "qa-count__n", "aria-hidden": "true", text: formatNumber(count) }),
    el("span", { class: "visually-hidden", text: t("%(count)s votes", { count }) }),
  ]);
}

function byline(post) {
  return [post.author, post.organisation].filter(Boolean).join(", ");
}

// The wall's Q&A list for one scope: the spotlighted question large, then the questions most upvoted first.
// Options: `scope` (the spotlight's scope), `filter(post)` (the posts this list holds), `title`, `empty`,
// `tag(post)` (a short label shown with each question: whom it is addressed to), `spotlight` (false: no spotlight),
// `more(count)` (how the list says how many it could not show), `asked(count)` (how it says a post was merged with
// others: « asked 3 times »), `compact` (one of several lists side by side).
export function questionWall(ctx, options = {}) {
  const { el, t, formatNumber } = ctx;
  const { scope = "", filter = () => true, title = null, empty = t("No question yet: ask yours from your phone."),
    tag = () => null, spotlight = true, compact = false,
    more: moreText = (count) => t("+ %(count)s more questions", { count }),
    asked = (count) => t("asked %(count)s times", { count }) } = options;
  const nodes = new Map(); // post id → its list item, kept across renders so that it can slide
  const spotText = el("p", { class: "qa-spot__text" });
  const spotMeta = el("p", { class: "qa-spot__meta" });
  const spot = el("section", { class: "qa-spot", hidden: true, "aria-label": t("In the spotlight") }, [
    el("p", { class: "qa-spot__label", text: t("In the spotlight") }), spotText, spotMeta,
  ]);
  const list = el("ol", { class: "qa-list" });
  const more = el("p", { class: "qa-more", hidden: true });
  const none = el("p", { class: "qa-empty", text: empty });
  const node = el("section", { class: `qa-wall${compact ? " qa-wall--compact" : ""}`,
    "aria-label": title || t("Questions") }, [
    title ? el("h2", { class: "qa-wall__title", text: title }) : null,
    spotlight ? spot : null, list, none, more,
  ]);

  function item(post) {
    let li = nodes.get(post.id);
    if (!li) {
      li = el("li", { class: "qa-item", dataset: { id: post.id } });
      nodes.set(post.id, li);
    }
    const label = tag(post);
    const who = byline(post);
    li.classList.toggle("qa-item--answered", Boolean(post.answered));
    li.replaceChildren(
      badge(ctx, post.upvotes || 0),
      el("div", { class: "qa-item__body" }, [
        el("p", { class: "qa-item__text", text: post.text }),
        label || who || post.answered || (post.merged || []).length ? el("p", { class: "qa-item__meta" }, [
          post.answered ? el("span", { class: "qa-answered", text: t("Already answered") }) : null,
          label ? el("span", { class: "qa-item__tag", text: label }) : null,
          who ? el("span", { class: "qa-item__who", text: who }) : null,
          (post.merged || []).length ? el("span", { class: "qa-item__merged", text: asked(post.merged.length + 1) }) : null,
        ]) : null,
      ]),
    );
    return li;
  }

  function render(state) {
    const posts = state.posts.filter((post) => shown(post) && filter(post));
    const spotId = spotlight ? spotlightOf(state.formatState, scope) : null;
    const spotted = spotId === null ? null : posts.find((post) => post.id === spotId) || null;
    spot.hidden = !spotted;
    if (spotted) {
      spotText.textContent = spotted.text;
      const meta = [t("%(count)s votes", { count: spotted.upvotes || 0 }), spotted.answered ? t("Already answered") : null,
        tag(spotted), byline(spotted)].filter(Boolean);
      spotMeta.textContent = meta.join(" · ");
    }
    const order = ranked(posts.filter((post) => post !== spotted));
    for (const id of nodes.keys()) if (!order.some((post) => post.id === id)) nodes.delete(id);
    const kept = reorder(list, order.map(item), { limit: true });
    none.hidden = posts.length > 0;
    const hidden = order.length - kept;
    more.hidden = hidden <= 0;
    more.textContent = moreText(Math.max(hidden, 0));
  }

  return { node, render };
}

// A wall module's `mount` for a list that fills the slot (a format composing several lists builds its own).
export function mountQuestionWall(ctx, options = {}) {
  const wall = questionWall(ctx, options);
  ctx.root.replaceChildren(wall.node);
  ctx.root.classList.add("qa-slot");
  let last = null;
  const render = (state) => { last = state; wall.render(state); };
  followQuestions(ctx.board, () => { if (last) render({ ...last, posts: ctx.board.sorted().filter(ctx.atTable) }); });
  return { render };
}

// The phone's list of the session's questions: upvote toggles, answered marks, sorting, my own waiting ones.
// Options: `filter(post)` (the posts listed), `tag(post)` (a short label per post), `title`, `intro` (a node shown
// first, such as a choice of what to list), `empty`.
export function questionPhone(ctx, options = {}) {
  const { el, t, formatNumber, socket, session } = ctx;
  const { filter = () => true, tag = () => null, title = t("Questions from the room"),
    empty = t("No question yet: be the first to ask.") } = options;
  const posts = new Map();
  const mine = new Set(); // ids of my own posts
  const held = new Map(); // my posts waiting for review, by id
  let upvoted = new Set();
  let order = "popular";
  let review = Boolean(session.review);

  const reviewNote = el("p", { class: "qa-review", role: "status" });
  const signed = el("input", { type: "checkbox", id: "qa-signed", class: "qa-sign__input" });
  const signedHint = el("span", { class: "qa-sign__hint", id: "qa-signed-hint" });
  signed.setAttribute("aria-describedby", "qa-signed-hint");
  const sign = el("p", { class: "qa-sign" }, [
    signed, el("label", { for: "qa-signed", text: t("Sign with my name") }), signedHint,
  ]);
  const sorts = el("div", { class: "qa-sort", role: "group", "aria-label": t("Sort the questions") },
    [["popular", t("Popular")], ["recent", t("Recent")]].map(([key, label]) => {
      const button = el("button", { type: "button", class: "button button--small qa-sort__button", "aria-pressed": String(key === order),
        dataset: { order: key }, text: label });
      button.addEventListener("click", () => {
        order = key;
        for (const other of sorts.querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
        draw();
        if (key === "popular") refresh(); // counts others changed reach a phone only when it asks
      });
      return button;
    }));
  const list = el("ol", { class: "qa-phone__list" });
  const none = el("p", { class: "hint qa-phone__empty", text: empty });
  const status = el("p", { class: "qa-phone__status", role: "status", "aria-live": "polite" });
  const node = el("section", { class: "qa-phone", "aria-labelledby": "qa-phone-title" }, [
    el("div", { class: "qa-phone__head" }, [el("h2", { id: "qa-phone-title", text: title }), sorts]),
    options.intro || null, status, list, none,
  ]);

  // The post form gains « Sign with my name », off by default and off again after each question.
  const submit = ctx.form.element.querySelector("button[type=submit]");
  submit.before(sign);
  ctx.form.element.before(reviewNote);

  function showSign() {
    const who = ctx.participant();
    const name = who && who.name;
    signedHint.textContent = name ? t("Shown as: %(name)s", { name }) : t("Give your name below to sign.");
    signed.disabled = !name;
    if (!name) signed.checked = false;
  }

  function showReview() {
    reviewNote.textContent = review ? t("Questions are read by the moderators before they appear.")
      : t("Questions appear at once, without your name unless you sign.");
  }

  async function vote(post, button) {
    const on = !upvoted.has(post.id);
    button.disabled = true;
    const ack = await ctx.call("upvote", { post_id: post.id, on });
    button.disabled = false;
    if (!ack.ok) { status.textContent = ack.error.message; return; }
    status.textContent = "";
    if (ack.mine) upvoted.add(ack.post_id); else upvoted.delete(ack.post_id);
    const stored = posts.get(ack.post_id);
    if (stored) stored.upvotes = ack.upvotes;
    draw();
    list.querySelector(`[data-id="${ack.post_id}"] .qa-up`)?.focus();
  }

  function item(post) {
    const pressed = upvoted.has(post.id);
    const count = post.upvotes || 0;
    const label = tag(post);
    const who = byline(post);
    const waiting = held.has(post.id);
    let button = null;
    if (!waiting) {
      button = el("button", { type: "button", class: "qa-up", "aria-pressed": String(pressed),
        "aria-label": t("Upvote: %(count)s votes", { count }) }, [
        el("span", { class: "qa-up__arrow", "aria-hidden": "true", text: "▲" }),
        el("span", { class: "qa-up__n", "aria-hidden": "true", text: formatNumber(count) }),
      ]);
      button.addEventListener("click", () => vote(post, button));
    }
    return el("li", { class: `qa-q${post.answered ? " qa-q--answered" : ""}${waiting ? " qa-q--held" : ""}`,
      dataset: { id: post.id } }, [
      el("div", { class: "qa-q__body" }, [
        el("p", { class: "qa-q__text", text: post.text }),
        el("p", { class: "qa-q__meta" }, [
          waiting ? el("span", { class: "qa-held", text: t("Waiting for approval") }) : null,
          post.answered ? el("span", { class: "qa-answered", text: t("Already answered") }) : null,
          label ? el("span", { class: "tag", text: label }) : null,
          mine.has(post.id) ? el("span", { class: "qa-q__mine", text: t("Mine") }) : null,
          who ? el("span", { class: "qa-q__who", text: who }) : null,
        ]),
      ]),
      button,
    ]);
  }

  function draw() {
    const listed = [...posts.values(), ...held.values()].filter((post) => (held.has(post.id) || shown(post)) && filter(post));
    const sorted = ranked(listed.filter((post) => !held.has(post.id)), order);
    const waiting = listed.filter((post) => held.has(post.id));
    list.replaceChildren(...waiting.map(item), ...sorted.map(item));
    none.hidden = listed.length > 0;
  }

  // Every visible post of the session, a page at a time (phones of a Q&A session are sent new ones live).
  let fetching = false;
  async function refresh() {
    if (fetching) return;
    fetching = true;
    try {
      let since = 0;
      while (since !== null) {
        since = await socket.snapshot("watch", { code: session.code, since }, (ack) => {
          if (!ack.ok) return null;
          for (const post of ack.posts) posts.set(post.id, post);
          draw();
          return ack.more ? ack.next : null;
        });
      }
    } catch {
      // The connection dropped: the next join asks again.
    } finally {
      fetching = false;
    }
  }

  const ours = (payload) => payload && payload.code === session.code;
  const put = (post) => {
    if (!ours(post)) return;
    if (post.held && !mine.has(post.id)) return;
    if (post.held) held.set(post.id, post); else { held.delete(post.id); posts.set(post.id, post); }
    draw();
  };
  socket.on("post", put);
  socket.on("post_restored", (post) => { if (ours(post)) { held.delete(post.id); put({ ...post, held: false }); } });
  socket.on("post_updated", put);
  socket.on("post_hidden", (info) => {
    if (!ours(info)) return;
    const post = posts.get(info.id);
    if (post) post.hidden = true;
    draw();
  });
  for (const event of ["post_merged", "post_unmerged"]) {
    socket.on(event, (change) => {
      if (!ours(change)) return;
      posts.set(change.post.id, change.post);
      posts.set(change.into.id, change.into);
      draw();
    });
  }
  socket.on("session_state", (state) => {
    if (ours(state) && state.review !== undefined) { review = Boolean(state.review); showReview(); }
  });

  showReview();
  showSign();
  draw();
  return {
    node,
    // The hooks a phone module passes on: the join's answer and each of my posts once stored.
    joined(ack) {
      upvoted = new Set(ack.upvoted || []);
      if (ack.session && ack.session.review !== undefined) review = Boolean(ack.session.review);
      for (const post of ack.posts || []) {
        mine.add(post.id);
        if (post.held) held.set(post.id, post);
      }
      showReview();
      showSign();
      refresh();
    },
    posted(post) {
      mine.add(post.id);
      put(post);
    },
    // The options of the post being sent: signed only when asked, and the box unticked for the next one.
    options() {
      const chosen = { signed: signed.checked && !signed.disabled };
      signed.checked = false;
      return chosen;
    },
    identity: showSign,
    draw,
  };
}

// The console's Q&A panel: the review queue and its switch, then per scope the ranked questions with « answered »,
// « spotlight » and « hide ». Options: `scopes` ([{key, label, filter(post)}], default one scope "" of every post),
// `tag(post)`, `title`.
const TOP = 15; // questions a console shows per scope before « show all »

export function questionConsole(ctx, options = {}) {
  const { el, t, emit, session, formatNumber, board } = ctx;
  const { scopes = [{ key: "", label: null, filter: () => true }], tag = () => null, title = t("Questions") } = options;
  let review = Boolean(session.review);
  let last = null;
  const everything = new Set(); // scopes whose whole list is open; the others show their top questions only

  const toggle = el("input", { type: "checkbox", id: "qa-review", role: "switch", class: "qa-switch__input" });
  toggle.checked = review;
  toggle.addEventListener("change", async () => {
    const ack = await emit("review_set", { review: toggle.checked });
    if (!ack.ok) toggle.checked = review;
  });
  const queue = el("ol", { class: "qa-queue__list" });
  const queueCount = el("span", { class: "qa-queue__count" });
  const queueEmpty = el("p", { class: "hint", text: t("No question waits for review.") });
  const sections = el("div", { class: "qa-scopes" });
  const node = el("section", { class: "panel qa-console", "aria-labelledby": "qa-console-title" }, [
    el("h2", { class: "panel__title", id: "qa-console-title", text: title }),
    el("p", { class: "qa-switch" }, [toggle, el("label", { for: "qa-review", text: t("Questions reviewed before they appear") })]),
    el("section", { class: "qa-queue", "aria-labelledby": "qa-queue-title" }, [
      el("h3", { id: "qa-queue-title" }, [t("Waiting for approval"), " ", queueCount]),
      queueEmpty, queue,
    ]),
    sections,
  ]);

  const button = (label, event, data, attrs = {}) => {
    const node = el("button", { type: "button", class: "button button--small", text: label, ...attrs });
    node.addEventListener("click", () => emit(event, data));
    return node;
  };

  function held(post) {
    return el("li", { class: "qa-console__item qa-console__item--held", dataset: { id: post.id } }, [
      el("p", { class: "qa-console__text", text: post.text }),
      el("p", { class: "qa-console__meta" }, [
        el("span", { text: `#${post.seq}` }),
        tag(post) ? el("span", { class: "tag", text: tag(post) }) : null,
        byline(post) ? el("span", { text: byline(post) }) : null,
      ]),
      el("div", { class: "qa-console__actions" }, [
        button(t("Publish"), "post_approve", { post_id: post.id }, { class: "button button--small button--primary" }),
        button(t("Refuse"), "post_reject", { post_id: post.id }),
      ]),
    ]);
  }

  function question(post, spotId) {
    const spotted = post.id === spotId;
    return el("li", { class: `qa-console__item${post.answered ? " qa-console__item--answered" : ""}${spotted ? " qa-console__item--spot" : ""}`,
      dataset: { id: post.id } }, [
      badge(ctx, post.upvotes || 0, " qa-count--console"),
      el("div", { class: "qa-console__body" }, [
        el("p", { class: "qa-console__text", text: post.text }),
        el("p", { class: "qa-console__meta" }, [
          el("span", { text: `#${post.seq}` }),
          tag(post) ? el("span", { class: "tag", text: tag(post) }) : null,
          byline(post) ? el("span", { text: byline(post) }) : el("span", { class: "qa-console__anon", text: t("Anonymous") }),
          (post.merged || []).length ? el("span", { text: t("asked %(count)s times", { count: post.merged.length + 1 }) }) : null,
        ]),
        el("div", { class: "qa-console__actions" }, [
          button(t("Already answered"), "question_answered", { post_id: post.id, answered: !post.answered },
            { "aria-pressed": String(Boolean(post.answered)) }),
          button(t("On the wall"), "question_spotlight", { post_id: post.id, on: !spotted },
            { "aria-pressed": String(spotted) }),
          button(t("Hide"), "post_hide", { post_id: post.id }),
        ]),
      ]),
    ]);
  }

  function render(state) {
    last = state;
    const posts = state.posts;
    const waiting = posts.filter((post) => post.held).sort((a, b) => a.seq - b.seq);
    queue.replaceChildren(...waiting.map(held));
    queueEmpty.hidden = waiting.length > 0;
    queueCount.textContent = waiting.length ? `(${formatNumber(waiting.length)})` : "";
    sections.replaceChildren(...scopes.map((scope) => {
      const mine = ranked(posts.filter((post) => shown(post) && scope.filter(post)));
      const spotId = spotlightOf(state.formatState, scope.key);
      const heading = scope.label ? el("h3", { class: "qa-scope__title", text: scope.label }) : null;
      // Hundreds of questions would push everything else out of reach: the top ones, and the rest on demand.
      const open = everything.has(scope.key) || mine.length <= TOP;
      const listed = open ? mine : mine.slice(0, TOP);
      let all = null;
      if (mine.length > TOP) {
        all = el("button", { type: "button", class: "button button--small qa-scope__all", "aria-expanded": String(open),
          text: open ? t("Show the top questions only") : t("Show all %(count)s questions", { count: mine.length }) });
        all.addEventListener("click", () => {
          if (open) everything.delete(scope.key); else everything.add(scope.key);
          render(last);
        });
      }
      return el("section", { class: "qa-scope", dataset: { scope: scope.key },
        "aria-label": scope.label || t("Questions") }, [
        heading,
        mine.length ? el("ol", { class: "qa-console__list" }, listed.map((post) => question(post, spotId)))
          : el("p", { class: "hint", text: t("No question yet.") }),
        all,
      ]);
    }));
  }

  function setReview(value) {
    review = Boolean(value);
    toggle.checked = review;
  }
  board.socket.on("session_state", (state) => { if (state && state.code === session.code && state.review !== undefined) setReview(state.review); });
  followQuestions(board, () => { if (last) render({ ...last, posts: board.sorted({ includeHidden: true }) }); });
  return { node, render };
}
