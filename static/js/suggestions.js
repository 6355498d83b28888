// « Doublons possibles »: the best pair of ideas that may say the same thing, answered in one tap, live while ideas
// come in. A table host asks with their link's token; an organiser's console can mount it with `{ code }` and the
// organiser's events.

// Ideas arrive in bursts at the end of a round: one request every few seconds at most answers for the whole burst.
const DELAY = 3000;

const pairKey = (a, b) => `${Math.min(a, b)}-${Math.max(a, b)}`;

// Mount the card into `root` (an empty element, kept in the page, that announces its changes). `ask` and `answer`
// name the events, `identity` is what identifies the asker in both (`{ token }` or `{ code }`), `code` the session
// whose broadcasts count, `concerns(post)` whether a new or changed idea may change the suggestions.
export function mountSuggestions({ root, socket, t, el, code, ask, answer, identity, concerns = () => true,
  delay = DELAY }) {
  let pairs = [];
  let notice = null;  // { key, text, offline }: a failed answer, shown while its pair is on screen
  let asking = false, again = false, answering = false, timer = null;
  const answered = new Set();

  root.setAttribute("aria-live", "polite");
  const texts = [el("p", { class: "suggestion__text" }), el("p", { class: "suggestion__text" })];
  const more = el("p", { class: "suggestion__more" });
  const error = el("p", { class: "suggestion__error" });
  const same = el("button", { type: "button", class: "button button--primary suggestion__button", text: t("Same idea") });
  const different = el("button", { type: "button", class: "button suggestion__button", text: t("Different ideas") });
  const heading = el("h2", { class: "suggestion__title", text: t("Possible duplicates") });
  heading.id = `${root.id || "suggestions"}-title`;
  const card = el("section", { class: "suggestion", "aria-labelledby": heading.id }, [
    heading,
    el("p", { class: "suggestion__question", text: t("Do these two ideas say the same thing?") }),
    el("div", { class: "suggestion__pair" }, texts),
    el("div", { class: "suggestion__buttons" }, [same, different]),
    error, more,
  ]);

  // Only what changed is written: an unchanged text is not announced again, and the focus stays on its button.
  const write = (node, text) => { if (node.textContent !== text) node.textContent = text; };

  function render() {
    const shown = pairs[0];
    if (!shown) {
      if (card.isConnected) card.remove();
      return;
    }
    write(texts[0], shown.post.text);
    write(texts[1], shown.other.text);
    write(more, pairs.length > 1 ? t("%(count)s more pairs waiting", { count: pairs.length - 1 }) : "");
    write(error, notice && notice.key === pairKey(shown.post.id, shown.other.id) ? notice.text : "");
    same.disabled = different.disabled = answering;
    if (!card.isConnected) root.append(card);
  }

  function drop(test) {
    pairs = pairs.filter((pair) => !test(pair));
    render();
  }

  async function refresh() {
    clearTimeout(timer);
    timer = null;
    if (asking) { again = true; return; }
    asking = true;
    again = false;
    try {
      const ack = await socket.emit(ask, { ...identity });
      if (ack.ok) {
        if (notice && notice.offline) notice = null;  // connected again: the tap can simply be made again
        pairs = ack.suggestions.filter((pair) => !answered.has(pairKey(pair.post.id, pair.other.id)));
        render();
      }
    } catch (error) {
      // Not connected: the page asks again once it has joined anew; a slow answer is asked for again.
      if (error.message === "timeout") again = true;
    } finally {
      asking = false;
      if (again) schedule();
    }
  }

  function schedule() {
    if (asking) { again = true; return; }
    if (timer === null) timer = setTimeout(refresh, delay);
  }

  async function reply(isSame) {
    const shown = pairs[0];
    if (!shown || answering) return;
    const key = pairKey(shown.post.id, shown.other.id);
    answering = true;
    notice = null;
    render();
    let ack = null;
    try {
      ack = await socket.emit(answer, { ...identity, post_id: shown.post.id, other_id: shown.other.id, same: isSame });
    } catch {
      ack = null;
    }
    answering = false;
    if (ack && ack.ok) {
      answered.add(key);
      drop((pair) => pairKey(pair.post.id, pair.other.id) === key);
      return;
    }
    notice = { key, text: ack ? ack.error.message : t("Not connected: try again in a moment."), offline: !ack };
    render();
    if (ack) schedule();  // refused: the ideas may have changed meanwhile (hidden, merged, answered elsewhere)
  }

  same.addEventListener("click", () => reply(true));
  different.addEventListener("click", () => reply(false));

  const involves = (id) => (pair) => pair.post.id === id || pair.other.id === id;
  socket.on("group_answered", (change) => {
    if (change.code !== code) return;
    const key = pairKey(change.post_id, change.other_id);
    answered.add(key);
    drop((pair) => pairKey(pair.post.id, pair.other.id) === key);
  });
  socket.on("post", (post) => { if (post.code === code && concerns(post)) schedule(); });
  socket.on("post_restored", (post) => { if (post.code === code && concerns(post)) schedule(); });
  // A hidden or merged idea cannot be answered about any more: its pairs go at once, the rest follows from the server.
  socket.on("post_hidden", (info) => {
    if (info.code !== code) return;
    drop(involves(info.id));
    schedule();
  });
  socket.on("post_merged", (change) => {
    if (change.code !== code || !concerns(change.post)) return;
    drop(involves(change.post.id));
    schedule();
  });
  socket.on("post_unmerged", (change) => { if (change.code === code && concerns(change.post)) schedule(); });

  return { refresh };
}
